// Package leb128 writes the variable-length integers of the WebAssembly
// binary format (LEB128), for the code that rewrites modules (the loop
// checks, the data-segment merge) and the tests that build them byte by
// byte. Readers stay with their callers: each reports a bad number in its
// own terms (a position in an error, or a plain refusal).
package leb128

// AppendU32 appends v as an unsigned LEB128.
func AppendU32(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// AppendS32 appends v as a signed LEB128.
func AppendS32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
