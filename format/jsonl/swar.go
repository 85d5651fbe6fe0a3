package jsonl

import (
	"encoding/binary"
	"math/bits"
)

// Finding a string's end (quote or backslash) 8 bytes at a time replaces two
// memchr calls per string: JSON strings in typical rows are 2 to 40 bytes,
// too short for memchr's vector loop to pay for its call.

const (
	lsb8 = 0x0101010101010101
	msb8 = 0x8080808080808080
)

// zeroBytes has the high bit set in the lowest zero byte of x (higher bits
// may be false positives, so only the lowest one is used).
func zeroBytes(x uint64) uint64 { return (x - lsb8) & ^x & msb8 }

// quoteOrBackslash returns the index of the first '"' or '\\' in b at or
// after i, or -1.
func quoteOrBackslash(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if z := zeroBytes(x^('"'*lsb8)) | zeroBytes(x^('\\'*lsb8)); z != 0 {
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
