package generate

// gamma is the golden-ratio increment of splitmix64: consecutive rows get
// well-spread inputs to mix.
const gamma = 0x9E3779B97F4A7C15

// mix is the splitmix64 finaliser: a bijective 64-bit hash whose output
// bits pass statistical tests even for sequential inputs.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// key turns a user seed into the base every cell hash starts from, so
// seeds 1 and 2 give unrelated rows rather than shifted ones.
func key(seed int64) uint64 { return mix(uint64(seed) ^ 0x5DEECE66D1CE4E5B) }

// cell is the hash behind one value: the same (key, column, row) always
// gives the same 64 bits.
func cell(k uint64, col, row int) uint64 {
	return mix((k + uint64(row)*gamma) ^ (uint64(col+1) * 0xD1B54A32D192ED03))
}

// bounded maps h onto [0, n) using its high bits (Lemire's multiply-shift):
// no division, and no modulo bias worth measuring for pool-sized n.
func bounded(h uint64, n int) int { return int(((h >> 32) * uint64(n)) >> 32) }
