package csv

import (
	"encoding/binary"
	"math/bits"

	"github.com/dataweaver/dataweaver/format/internal/rowcodec"
)

// Finding the next delimiter, quote or newline with one pass of 8 bytes at a
// time replaces three memchr calls per field: the fields of typical rows
// are 2 to 30 bytes, too short for memchr's vector loop to pay for its call.

// nextSpecial returns the index of the first delim, '"' or '\n' in b at or
// after i, or len(b).
func nextSpecial(b []byte, i int, delim byte) int {
	md := uint64(delim) * rowcodec.LSB8
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if z := rowcodec.ZeroBytes(x^md) | rowcodec.ZeroBytes(x^('"'*rowcodec.LSB8)) | rowcodec.ZeroBytes(x^('\n'*rowcodec.LSB8)); z != 0 {
			return i + bits.TrailingZeros64(z)>>3
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == delim || c == '"' || c == '\n' {
			return i
		}
	}
	return len(b)
}
