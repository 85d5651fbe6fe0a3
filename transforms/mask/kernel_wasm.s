#include "textflag.h"

// func maskFast(data *byte, dataLen int, offs *int32, i, n int, valid *byte, vals *byte, p, capv int, oo *int32) (next, q int)
//
// maskFastGo (kernel.go) as one wasm loop over the rows, its state in
// locals: R0 data, R1 dataLen, R2 offs, R3 i, R4 n, R5 valid, R6 vals,
// R7 p, R8 capv, R9 oo, R10 o0, R11 o1, R12 from, R13-R15 scratch.
// Each of the four words ending at o1 is tested for '@' without a branch
// (the zero-byte trick on x^0x40..40; its highest set bit is the last '@')
// and a later '@' past o0 replaces an earlier one through Select.
TEXT ·maskFast(SB), NOSPLIT, $0-96
	I64Load data+0(FP)
	Set R0
	I64Load dataLen+8(FP)
	Set R1
	I64Load offs+16(FP)
	Set R2
	I64Load i+24(FP)
	Set R3
	I64Load n+32(FP)
	Set R4
	I64Load valid+40(FP)
	Set R5
	I64Load vals+48(FP)
	Set R6
	I64Load p+56(FP)
	Set R7
	I64Load capv+64(FP)
	Set R8
	I64Load oo+72(FP)
	Set R9

	Block
	Loop
		// i < n
		Get R3
		Get R4
		I64GeS
		BrIf $1

		// o0, o1 = offs[i], offs[i+1]
		Get R2
		Get R3
		I64Const $2
		I64Shl
		I64Add
		Tee R13
		I32WrapI64
		I64Load32S $0
		Set R10
		Get R13
		I32WrapI64
		I64Load32S $4
		Set R11

		// 1 <= o1-o0 <= 32
		Get R11
		Get R10
		I64Sub
		I64Const $1
		I64Sub
		I64Const $32
		I64GeU
		BrIf $1
		// o1 >= 32
		Get R11
		I64Const $32
		I64LtS
		BrIf $1
		// o1+32 <= dataLen
		Get R11
		I64Const $32
		I64Add
		Get R1
		I64GtS
		BrIf $1
		// data[o0] < 0x80
		Get R0
		Get R10
		I64Add
		I32WrapI64
		I64Load8U $0
		I64Const $0x80
		I64GeU
		BrIf $1
		// valid[i>>3] & (1<<(i&7)) != 0
		Get R5
		Get R3
		I64Const $3
		I64ShrU
		I64Add
		I32WrapI64
		I64Load8U $0
		Get R3
		I64Const $7
		I64And
		I64ShrU
		I64Const $1
		I64And
		I64Eqz
		BrIf $1
		// capv-p >= 36
		Get R8
		Get R7
		I64Sub
		I64Const $36
		I64LtS
		BrIf $1

		// from = o1; then the words at o1-32, o1-24, o1-16, o1-8.
		Get R11
		Set R12

#define AT_IN(back) \
		Get R11 \
		I64Const $back \
		I64Sub \
		Set R15 \
		Get R0 \
		Get R15 \
		I64Add \
		I32WrapI64 \
		I64Load $0 \
		I64Const $0x4040404040404040 \
		I64Xor \
		Tee R13 \
		I64Const $0x7f7f7f7f7f7f7f7f \
		I64And \
		I64Const $0x7f7f7f7f7f7f7f7f \
		I64Add \
		Get R13 \
		I64Or \
		I64Const $0x7f7f7f7f7f7f7f7f \
		I64Or \
		I64Const $-1 \
		I64Xor \
		Set R13 \
		I64Const $64 \
		Get R13 \
		I64Clz \
		I64Sub \
		Set R14 \
		Get R15 \
		Get R14 \
		I64Const $3 \
		I64ShrU \
		I64Add \
		I64Const $1 \
		I64Sub \
		Tee R13 \
		Get R12 \
		Get R14 \
		I64Eqz \
		I32Eqz \
		Get R13 \
		Get R10 \
		I64GtS \
		I32And \
		Select \
		Set R12

		AT_IN(32)
		AT_IN(24)
		AT_IN(16)
		AT_IN(8)

		// vals[p:p+4] = data[o0], '*', '*', '*'
		Get R6
		Get R7
		I64Add
		Tee R13
		I32WrapI64
		Get R0
		Get R10
		I64Add
		I32WrapI64
		I64Load8U $0
		I64Const $0x2a2a2a00
		I64Or
		I64Store32 $0
		// vals[p+4:p+36] = data[from:from+32]
		Get R0
		Get R12
		I64Add
		Set R14
		Get R13
		I32WrapI64
		Get R14
		I32WrapI64
		I64Load $0
		I64Store $4
		Get R13
		I32WrapI64
		Get R14
		I32WrapI64
		I64Load $8
		I64Store $12
		Get R13
		I32WrapI64
		Get R14
		I32WrapI64
		I64Load $16
		I64Store $20
		Get R13
		I32WrapI64
		Get R14
		I32WrapI64
		I64Load $24
		I64Store $28

		// p += 4 + o1 - from; *oo = p; oo++; i++
		Get R7
		I64Const $4
		I64Add
		Get R11
		I64Add
		Get R12
		I64Sub
		Set R7
		Get R9
		I32WrapI64
		Get R7
		I64Store32 $0
		Get R9
		I64Const $4
		I64Add
		Set R9
		Get R3
		I64Const $1
		I64Add
		Set R3
		Br $0
	End
	End

	Get SP
	Get R3
	I64Store next+80(FP)
	Get SP
	Get R7
	I64Store q+88(FP)
	RET
