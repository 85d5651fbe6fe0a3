//go:build wasip1

package guest

import (
	"encoding/binary"
	"errors"
	"unsafe"
)

// callV2 runs fn on the batch as a v2 call and describes what it
// emitted in result (the v2 result header, wasmabi/ABI.md).
func callV2(fn ProcessFunc) (err error) {
	batch.beginV2()
	beginNested()
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("panic: " + panicMessage(r))
		}
	}()
	if err := fn(&batch); err != nil {
		return err
	}
	if err := checkNested(); err != nil {
		return err
	}
	if err := batch.checkV2(); err != nil {
		return err
	}
	outDesc = outDesc[:0]
	for i := range batch.outs {
		c := &batch.outs[i]
		if c.code >= codeList {
			if outDesc, err = nestedDesc(outDesc, i, c); err != nil {
				return err
			}
			continue
		}
		var valid, offs uint32
		if c.hasNull {
			valid = addr(c.valid)
		}
		if c.code == codeUTF8 || c.code == codeBinary {
			offs = uint32(uintptr(unsafe.Pointer(&c.offs[0])))
		}
		outDesc = append(outDesc, uint32(i), uint32(c.code), 0, valid, offs, addr(c.values), uint32(len(c.values)), 0)
	}
	errDesc = errDesc[:0]
	for _, e := range batch.errs {
		errDesc = append(errDesc, uint32(e.row), addr(e.msg), uint32(len(e.msg)))
	}
	result = [10]uint32{}
	result[3] = uint32(batch.emitted)
	if v2.any && batch.emitted > 0 {
		result[4] = uint32(uintptr(unsafe.Pointer(&v2.origins[0])))
	}
	result[5] = uint32(len(outDesc) / 8)
	if len(outDesc) > 0 {
		result[6] = uint32(uintptr(unsafe.Pointer(&outDesc[0])))
	}
	result[7] = uint32(len(errDesc) / 3)
	if len(errDesc) > 0 {
		result[8] = uint32(uintptr(unsafe.Pointer(&errDesc[0])))
	}
	return nil
}

//go:wasmexport dw_finish
func dwFinish() int32 {
	fn := v2.finish
	if fn == nil {
		fn = func(*Batch) error { return nil }
	}
	return runNoInput(fn)
}

// runNoInput runs fn as a v2 call on no input rows (dw_finish,
// dw_watermark) and returns the result header.
func runNoInput(fn ProcessFunc) int32 {
	result = [10]uint32{}
	batch.n, batch.sel, batch.errs = 0, nil, batch.errs[:0]
	if process == nil {
		fn = func(*Batch) error { return errors.New("called before dw_bind") }
	}
	if err := callV2(fn); err != nil {
		failMsg = append(failMsg[:0], err.Error()...)
		result = [10]uint32{}
		result[0], result[1], result[2] = 1, addr(failMsg), uint32(len(failMsg))
	}
	return int32(uintptr(unsafe.Pointer(&result[0])))
}

//go:wasmexport dw_watermark
func dwWatermark(lo, hi int32) int32 {
	wm := int64(uint64(uint32(lo)) | uint64(uint32(hi))<<32)
	return runNoInput(func(b *Batch) error {
		if v2.mark == nil {
			return nil
		}
		return v2.mark(b, wm)
	})
}

var (
	snapHdr  [2]uint32
	snapshot []byte
	refusal  []byte
)

//go:wasmexport dw_snapshot
func dwSnapshot() int32 {
	snapshot = nil
	if v2.snapshot != nil {
		snapshot = v2.snapshot()
	}
	snapHdr = [2]uint32{addr(snapshot), uint32(len(snapshot))}
	return int32(uintptr(unsafe.Pointer(&snapHdr[0])))
}

//go:wasmexport dw_restore
func dwRestore(ptr, n int32) int32 {
	err := errors.New("the stage keeps no state")
	if state := region(uint32(ptr), int(n)); state == nil && n > 0 {
		err = errors.New("the state is outside the reserved region")
	} else if v2.restore != nil {
		err = v2.restore(append([]byte(nil), state...))
	}
	if err == nil {
		return 0
	}
	refusal = binary.LittleEndian.AppendUint32(refusal[:0], uint32(len(err.Error())))
	refusal = append(refusal, err.Error()...)
	return int32(addr(refusal))
}
