//go:build wasip1

package guest

import (
	"encoding/binary"
	"errors"
	"strconv"
	"unsafe"
)

// The arena is the region the host writes requests and batches into; Go's
// collector does not move objects, so its address is stable while the
// slice is referenced from here.
var (
	arena     []byte
	arenaBase uint32

	bindResp []byte
	process  ProcessFunc
	batch    Batch

	result  [10]uint32
	outDesc []uint32
	errDesc []uint32
	failMsg []byte
)

func addr(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(&b[0])))
}

//go:wasmexport dw_abi_version
func dwABIVersion() int32 { return abi }

//go:wasmexport dw_reserve
func dwReserve(size int32) int32 {
	if size < 0 {
		return 0
	}
	buf := make([]byte, int(size)+64)
	start := (64 - int(addr(buf)%64)) % 64
	arena = buf[start : start+int(size)]
	arenaBase = addr(buf) + uint32(start)
	return int32(arenaBase)
}

// region returns n bytes of the arena at host pointer p, or nil when the
// host pointed outside it.
func region(p uint32, n int) []byte {
	off := int64(p) - int64(arenaBase)
	if p == 0 || off < 0 || n < 0 || off+int64(n) > int64(len(arena)) {
		return nil
	}
	return arena[off : off+int64(n) : off+int64(n)]
}

//go:wasmexport dw_bind
func dwBind(ptr, n int32) int32 {
	resp := bind(region(uint32(ptr), int(n)))
	bindResp = resp.appendJSON(append(bindResp[:0], 0, 0, 0, 0))
	binary.LittleEndian.PutUint32(bindResp, uint32(len(bindResp)-4))
	return int32(addr(bindResp))
}

func bind(raw []byte) (resp bindResponse) {
	defer func() {
		if r := recover(); r != nil {
			resp = bindResponse{Error: "setup panicked: " + panicMessage(r)}
		}
	}()
	if raw == nil {
		return bindResponse{Error: "bind request outside the reserved region"}
	}
	req, err := parseBindRequest(raw)
	if err != nil {
		return bindResponse{Error: "bind request: " + err.Error()}
	}
	if registered == nil {
		return bindResponse{Error: "the module registered no stage (call guest.Stage from init)"}
	}
	s := &Setup{StageName: req.Stage, Schema: req.Schema, config: req.Config, eventTime: req.EventTime}
	fn, err := registered(s)
	if err == nil {
		err = s.Err()
	}
	if err == nil && fn == nil {
		err = errors.New("setup returned no process function")
	}
	if err != nil {
		return bindResponse{Error: err.Error()}
	}
	process = fn
	batch.outs = make([]outCol, len(s.writes))
	for i, w := range s.writes {
		code, _ := typeCode(w.Type)
		if code == 0 {
			code, _ = nestedCode(w.Type) // nested_out.go
		}
		if code == 0 {
			return bindResponse{Error: "column " + quote(w.Name) + ": type " + quote(w.Type) + " is not in ABI v1"}
		}
		batch.outs[i] = outCol{field: w, code: code}
	}
	batch.ins = make([]inCol, len(s.reads))
	return bindResponse{Reads: s.reads, Writes: s.writes, Drops: s.drops, Filter: s.filter,
		DropAll: abi == 2 && v2.dropAll, State: abi == 2 && v2.state}
}

//go:wasmexport dw_process
func dwProcess(ptr int32) int32 {
	result = [10]uint32{}
	if err := runBatch(uint32(ptr)); err != nil {
		failMsg = append(failMsg[:0], err.Error()...)
		result = [10]uint32{}
		result[0], result[1], result[2] = 1, addr(failMsg), uint32(len(failMsg))
	}
	return int32(uintptr(unsafe.Pointer(&result[0])))
}

func runBatch(ptr uint32) (err error) {
	hdr := region(ptr, 16)
	if hdr == nil || process == nil {
		return errors.New("dw_process before dw_bind, or batch header outside the reserved region")
	}
	le := binary.LittleEndian
	n, ncols := int(le.Uint32(hdr)), int(le.Uint32(hdr[4:]))
	if ncols != len(batch.ins) {
		return errors.New("host sent " + strconv.Itoa(ncols) + " columns, the stage reads " + strconv.Itoa(len(batch.ins)))
	}
	descs := region(ptr+16, 32*ncols)
	if descs == nil && ncols > 0 {
		return errors.New("column descriptors outside the reserved region")
	}
	batch.n = n
	for i := range batch.ins {
		c, err := readIn(descs[32*i:], n, 0)
		if err != nil {
			return errors.New("column " + strconv.Itoa(i) + ": " + err.Error())
		}
		batch.ins[i] = c
	}
	for i := range batch.outs {
		batch.outs[i].touched = false
	}
	batch.sel, batch.errs = nil, batch.errs[:0]

	defer func() {
		if r := recover(); r != nil {
			err = errors.New("panic: " + panicMessage(r))
		}
	}()
	if abi == 2 {
		return callV2(process)
	}
	if err := process(&batch); err != nil {
		return err
	}
	return finish()
}

// readIn resolves the input descriptor d of n rows into pointers into
// the arena and, for a nested column (ABI v2), its children, depth
// levels down.
func readIn(d []byte, n, depth int) (inCol, error) {
	le := binary.LittleEndian
	code := d[4]
	valid, offs, vals, vlen := le.Uint32(d[12:]), le.Uint32(d[16:]), le.Uint32(d[20:]), int(le.Uint32(d[24:]))
	c := inCol{valuesLen: vlen, large: code == codeLargeUTF8 || code == codeLargeBin, rows: n}
	if valid != 0 {
		if c.valid = region(valid, (n+7)/8); c.valid == nil {
			return c, errors.New("validity outside the reserved region")
		}
	}
	if offs != 0 {
		w := 4
		if c.large {
			w = 8
		}
		o := region(offs, (n+1)*w)
		if o == nil {
			return c, errors.New("offsets outside the reserved region")
		}
		c.offsets = unsafe.Pointer(&o[0])
	}
	if code >= codeList && code <= codeMap {
		if depth >= 4 {
			return c, errors.New("nested deeper than 4 levels")
		}
		kids := region(vals, 32*vlen)
		if kids == nil && vlen > 0 {
			return c, errors.New("child descriptors outside the reserved region")
		}
		rows := n
		if code != codeStruct {
			if c.offsets == nil {
				return c, errors.New("a list without offsets")
			}
			o := unsafe.Slice((*int32)(c.offsets), n+1)
			rows = int(o[n] - o[0])
		}
		c.kids = make([]inCol, vlen)
		for k := range c.kids {
			kc, err := readIn(kids[32*k:], rows, depth+1)
			if err != nil {
				return c, errors.New("child " + strconv.Itoa(k) + ": " + err.Error())
			}
			c.kids[k] = kc
		}
		return c, nil
	}
	if vlen > 0 {
		v := region(vals, vlen)
		if v == nil {
			return c, errors.New("values outside the reserved region")
		}
		c.values = unsafe.Pointer(&v[0])
	} else {
		c.values = unsafe.Pointer(&arena[0])
	}
	return c, nil
}

func finish() error {
	n := batch.n
	outDesc = outDesc[:0]
	for i := range batch.outs {
		if n == 0 {
			// An empty batch has no row to write: a stage looping over its
			// rows never touches a bool column (Set is per row), so every
			// output is prepared (empty) here instead of failing as unwritten.
			batch.out(i)
		}
		c := &batch.outs[i]
		if err := c.check(n); err != nil {
			return err
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
	result[3], result[4], result[5] = 0, 0, 0
	if batch.sel != nil {
		result[3], result[4], result[5] = 1, addr(batch.sel), uint32(len(batch.sel))
	}
	result[6] = uint32(len(outDesc) / 8)
	if len(outDesc) > 0 {
		result[7] = uint32(uintptr(unsafe.Pointer(&outDesc[0])))
	}
	result[8] = uint32(len(errDesc) / 3)
	if len(errDesc) > 0 {
		result[9] = uint32(uintptr(unsafe.Pointer(&errDesc[0])))
	}
	return nil
}
