package wasmdata

// reader reads wasm's LEB128 integers from b at off; every read reports
// ok false instead of running past b or reading an over-long number.
type reader struct {
	b   []byte
	off int
}

func (r *reader) byte() (byte, bool) {
	if r.off >= len(r.b) {
		return 0, false
	}
	r.off++
	return r.b[r.off-1], true
}

func (r *reader) skip(n int) bool {
	if n < 0 || n > len(r.b)-r.off {
		return false
	}
	r.off += n
	return true
}

// u32 reads an unsigned LEB128 of at most 5 bytes that fits 32 bits.
func (r *reader) u32() (uint32, bool) {
	var v uint64
	for shift := 0; shift < 35; shift += 7 {
		c, ok := r.byte()
		if !ok {
			return 0, false
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return uint32(v), v < 1<<32
		}
	}
	return 0, false
}

// s32 reads a signed LEB128 of at most 5 bytes that fits 32 bits.
func (r *reader) s32() (int32, bool) {
	var v int64
	for shift := 0; shift < 35; shift += 7 {
		c, ok := r.byte()
		if !ok {
			return 0, false
		}
		v |= int64(c&0x7f) << shift
		if c < 0x80 {
			if c&0x40 != 0 {
				v |= -1 << (shift + 7)
			}
			return int32(v), v >= -1<<31 && v < 1<<31
		}
	}
	return 0, false
}

// limits skips a table's or memory's limits.
func (r *reader) limits() bool {
	flags, ok := r.byte()
	if !ok {
		return false
	}
	if _, ok := r.u32(); !ok {
		return false
	}
	if flags&1 != 0 {
		_, ok = r.u32()
	}
	return ok
}
