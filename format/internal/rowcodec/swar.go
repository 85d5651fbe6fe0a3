package rowcodec

// Both formats look for a few special bytes 8 at a time (CSV: delimiter,
// quote, newline; JSONL: quote, backslash) because their fields are
// typically 2 to 40 bytes, too short for memchr's vector loop to pay for
// its call. These are the shared word tricks; each format keeps its own
// scanner.

const (
	LSB8 = 0x0101010101010101 // the low bit of every byte
	MSB8 = 0x8080808080808080 // the high bit of every byte
)

// ZeroBytes has the high bit set in the lowest zero byte of x (higher bits
// may be false positives, so only the lowest one is used). x^(c*LSB8) makes
// the bytes equal to c zero.
func ZeroBytes(x uint64) uint64 { return (x - LSB8) & ^x & MSB8 }
