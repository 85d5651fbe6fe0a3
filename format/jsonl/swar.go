package jsonl

import (
	"encoding/binary"
	"math/bits"

	"github.com/dataweaver/dataweaver/format/internal/rowcodec"
)

// Finding a string's end (quote or backslash) 8 bytes at a time replaces two
// memchr calls per string: JSON strings in typical rows are 2 to 40 bytes,
// too short for memchr's vector loop to pay for its call.

// quoteOrBackslash returns the index of the first '"' or '\\' in b at or
// after i, or -1.
func quoteOrBackslash(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if z := rowcodec.ZeroBytes(x^('"'*rowcodec.LSB8)) | rowcodec.ZeroBytes(x^('\\'*rowcodec.LSB8)); z != 0 {
			return i + bits.TrailingZeros64(z)>>3
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' {
			return i
		}
	}
	return -1
}
