package main

import "unsafe"

// The kernels below fill a selection bitmap (bit k of byte j>>3 is row
// j+k, 1 = kept) from one column. They are written for a Go guest under a
// stage timeout, where every taken jump (a loop iteration, a non-inlined
// call, a branch around code) leaves the JIT code for the host
// (wasmabi/BENCH_NOTES.md): the per-row comparisons are branch-free (Go's
// wasm backend turns `if c { m |= bit }` into a select) and the helpers
// inline, so a 64-row block is one loop iteration. Check with
//
//	GOOS=wasip1 GOARCH=wasm go build -gcflags=-m ./transforms/filter

// ge4 returns bit k set where sign*float64(w[k]) >= x.
func ge4[T number](w *[4]T, sign, x float64) byte {
	var m byte
	if sign*float64(w[0]) >= x {
		m |= 1
	}
	if sign*float64(w[1]) >= x {
		m |= 2
	}
	if sign*float64(w[2]) >= x {
		m |= 4
	}
	if sign*float64(w[3]) >= x {
		m |= 8
	}
	return m
}

// gt4 returns bit k set where sign*float64(w[k]) > x.
func gt4[T number](w *[4]T, sign, x float64) byte {
	var m byte
	if sign*float64(w[0]) > x {
		m |= 1
	}
	if sign*float64(w[1]) > x {
		m |= 2
	}
	if sign*float64(w[2]) > x {
		m |= 4
	}
	if sign*float64(w[3]) > x {
		m |= 8
	}
	return m
}

// eq4 returns bit k set where sign*float64(w[k]) == x.
func eq4[T number](w *[4]T, sign, x float64) byte {
	var m byte
	if sign*float64(w[0]) == x {
		m |= 1
	}
	if sign*float64(w[1]) == x {
		m |= 2
	}
	if sign*float64(w[2]) == x {
		m |= 4
	}
	if sign*float64(w[3]) == x {
		m |= 8
	}
	return m
}

// put64 stores eight selection bytes (64 rows) at sel[i:i+8].
func put64(sel []byte, i int, b0, b1, b2, b3, b4, b5, b6, b7 byte) {
	_ = sel[i+7]
	*(*uint64)(unsafe.Pointer(&sel[i])) = uint64(b0) | uint64(b1)<<8 | uint64(b2)<<16 | uint64(b3)<<24 |
		uint64(b4)<<32 | uint64(b5)<<40 | uint64(b6)<<48 | uint64(b7)<<56
}

// fillGE: keep rows with sign*v >= x. inv is unused (same signature as
// fillEQ, which uses it for !=).
func fillGE[T number](sel []byte, vals []T, sign, x float64, _ byte) {
	n, j := len(vals), 0
	for ; j+64 <= n; j += 64 {
		w := (*[64]T)(vals[j : j+64])
		put64(sel, j>>3,
			(ge4((*[4]T)(w[0:4]), sign, x) | ge4((*[4]T)(w[4:8]), sign, x)<<4), (ge4((*[4]T)(w[8:12]), sign, x) | ge4((*[4]T)(w[12:16]), sign, x)<<4),
			(ge4((*[4]T)(w[16:20]), sign, x) | ge4((*[4]T)(w[20:24]), sign, x)<<4), (ge4((*[4]T)(w[24:28]), sign, x) | ge4((*[4]T)(w[28:32]), sign, x)<<4),
			(ge4((*[4]T)(w[32:36]), sign, x) | ge4((*[4]T)(w[36:40]), sign, x)<<4), (ge4((*[4]T)(w[40:44]), sign, x) | ge4((*[4]T)(w[44:48]), sign, x)<<4),
			(ge4((*[4]T)(w[48:52]), sign, x) | ge4((*[4]T)(w[52:56]), sign, x)<<4), (ge4((*[4]T)(w[56:60]), sign, x) | ge4((*[4]T)(w[60:64]), sign, x)<<4))
	}
	for ; j+8 <= n; j += 8 {
		sel[j>>3] = (ge4((*[4]T)(vals[j:j+4]), sign, x) | ge4((*[4]T)(vals[j+4:j+8]), sign, x)<<4)
	}
	if j < n {
		var m byte
		for k, v := range vals[j:] {
			if sign*float64(v) >= x {
				m |= 1 << k
			}
		}
		sel[j>>3] = m
	}
}

// fillGT: keep rows with sign*v > x.
func fillGT[T number](sel []byte, vals []T, sign, x float64, _ byte) {
	n, j := len(vals), 0
	for ; j+64 <= n; j += 64 {
		w := (*[64]T)(vals[j : j+64])
		put64(sel, j>>3,
			(gt4((*[4]T)(w[0:4]), sign, x) | gt4((*[4]T)(w[4:8]), sign, x)<<4), (gt4((*[4]T)(w[8:12]), sign, x) | gt4((*[4]T)(w[12:16]), sign, x)<<4),
			(gt4((*[4]T)(w[16:20]), sign, x) | gt4((*[4]T)(w[20:24]), sign, x)<<4), (gt4((*[4]T)(w[24:28]), sign, x) | gt4((*[4]T)(w[28:32]), sign, x)<<4),
			(gt4((*[4]T)(w[32:36]), sign, x) | gt4((*[4]T)(w[36:40]), sign, x)<<4), (gt4((*[4]T)(w[40:44]), sign, x) | gt4((*[4]T)(w[44:48]), sign, x)<<4),
			(gt4((*[4]T)(w[48:52]), sign, x) | gt4((*[4]T)(w[52:56]), sign, x)<<4), (gt4((*[4]T)(w[56:60]), sign, x) | gt4((*[4]T)(w[60:64]), sign, x)<<4))
	}
	for ; j+8 <= n; j += 8 {
		sel[j>>3] = (gt4((*[4]T)(vals[j:j+4]), sign, x) | gt4((*[4]T)(vals[j+4:j+8]), sign, x)<<4)
	}
	if j < n {
		var m byte
		for k, v := range vals[j:] {
			if sign*float64(v) > x {
				m |= 1 << k
			}
		}
		sel[j>>3] = m
	}
}

// fillEQ: keep rows with v == x, or (inv = 0xff) v != x.
func fillEQ[T number](sel []byte, vals []T, sign, x float64, inv byte) {
	n, j := len(vals), 0
	for ; j+64 <= n; j += 64 {
		w := (*[64]T)(vals[j : j+64])
		put64(sel, j>>3,
			inv^(eq4((*[4]T)(w[0:4]), sign, x)|eq4((*[4]T)(w[4:8]), sign, x)<<4), inv^(eq4((*[4]T)(w[8:12]), sign, x)|eq4((*[4]T)(w[12:16]), sign, x)<<4),
			inv^(eq4((*[4]T)(w[16:20]), sign, x)|eq4((*[4]T)(w[20:24]), sign, x)<<4), inv^(eq4((*[4]T)(w[24:28]), sign, x)|eq4((*[4]T)(w[28:32]), sign, x)<<4),
			inv^(eq4((*[4]T)(w[32:36]), sign, x)|eq4((*[4]T)(w[36:40]), sign, x)<<4), inv^(eq4((*[4]T)(w[40:44]), sign, x)|eq4((*[4]T)(w[44:48]), sign, x)<<4),
			inv^(eq4((*[4]T)(w[48:52]), sign, x)|eq4((*[4]T)(w[52:56]), sign, x)<<4), inv^(eq4((*[4]T)(w[56:60]), sign, x)|eq4((*[4]T)(w[60:64]), sign, x)<<4))
	}
	for ; j+8 <= n; j += 8 {
		sel[j>>3] = inv ^ (eq4((*[4]T)(vals[j:j+4]), sign, x) | eq4((*[4]T)(vals[j+4:j+8]), sign, x)<<4)
	}
	if j < n {
		var m byte
		for k, v := range vals[j:] {
			if (sign*float64(v) == x) != (inv != 0) {
				m |= 1 << k
			}
		}
		sel[j>>3] = m
	}
}

// strEq keeps the rows equal to want (inv = 0) or different from it
// (inv = 0xff). Values of up to 8 bytes are compared as one masked 64-bit
// load plus the length, branch-free, 8 rows per iteration, wherever the
// load stays inside data; the rest compare as strings.
func strEq[O int32 | int64](sel []byte, offs []O, data []byte, want string, inv byte) {
	n := len(offs) - 1
	j := 0
	if len(want) <= 8 && len(data) >= 8 {
		var w8 [8]byte
		copy(w8[:], want)
		wantWord := *(*uint64)(unsafe.Pointer(&w8))
		mask := ^uint64(0)
		if len(want) < 8 {
			mask = 1<<(8*len(want)) - 1
		}
		wantLen := O(len(want))
		// safe: rows below it start at least 8 bytes before the end of data.
		safe := n
		for safe > 0 && int(offs[safe-1]) > len(data)-8 {
			safe--
		}
		base := unsafe.Pointer(&data[0])
		for ; j+8 <= safe; j += 8 {
			o := (*[9]O)(offs[j : j+9])
			sel[j>>3] = inv ^ (eqWord(base, o[0], o[1], wantLen, mask, wantWord) |
				eqWord(base, o[1], o[2], wantLen, mask, wantWord)<<1 |
				eqWord(base, o[2], o[3], wantLen, mask, wantWord)<<2 |
				eqWord(base, o[3], o[4], wantLen, mask, wantWord)<<3 |
				eqWord(base, o[4], o[5], wantLen, mask, wantWord)<<4 |
				eqWord(base, o[5], o[6], wantLen, mask, wantWord)<<5 |
				eqWord(base, o[6], o[7], wantLen, mask, wantWord)<<6 |
				eqWord(base, o[7], o[8], wantLen, mask, wantWord)<<7)
		}
	}
	for ; j < n; j += 8 {
		var m byte
		for k := range min(8, n-j) {
			if (string(data[offs[j+k]:offs[j+k+1]]) == want) != (inv != 0) {
				m |= 1 << k
			}
		}
		sel[j>>3] = m
	}
}

// eqWord is 1 when the value at data[start:end] (start at least 8 bytes
// before the end of data) is the want word of length wantLen.
func eqWord[O int32 | int64](base unsafe.Pointer, start, end, wantLen O, mask, want uint64) byte {
	w := *(*uint64)(unsafe.Add(base, start))
	d := uint64(end-start-wantLen) | (w&mask ^ want)
	var r byte
	if d == 0 {
		r = 1
	}
	return r
}

// andValid clears the bits of null rows: 64 rows per iteration.
func andValid(sel, valid []byte) {
	if valid == nil {
		return
	}
	valid = valid[:len(sel)]
	i := 0
	for ; i+8 <= len(sel); i += 8 {
		s := (*uint64)(unsafe.Pointer(&sel[i]))
		*s &= *(*uint64)(unsafe.Pointer(&valid[i]))
	}
	for ; i < len(sel); i++ {
		sel[i] &= valid[i]
	}
}
