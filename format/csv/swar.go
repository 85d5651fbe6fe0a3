package csv

import (
	"encoding/binary"
	"math/bits"
)

// Finding the next delimiter, quote or newline with one pass of 8 bytes at a
// time replaces three memchr calls per field: the fields of typical rows
// are 2 to 30 bytes, too short for memchr's vector loop to pay for its call.

const (
	lsb8 = 0x0101010101010101
	msb8 = 0x8080808080808080
)

// zeroBytes has the high bit set in the lowest zero byte of x (higher bits
// may be false positives, so only the lowest one is used).
func zeroBytes(x uint64) uint64 { return (x - lsb8) & ^x & msb8 }

// nextSpecial returns the index of the first delim, '"' or '\n' in b at or
// after i, or len(b).
func nextSpecial(b []byte, i int, delim byte) int {
	md := uint64(delim) * lsb8
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if z := zeroBytes(x^md) | zeroBytes(x^('"'*lsb8)) | zeroBytes(x^('\n'*lsb8)); z != 0 {
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
