package wasmabi

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBitmapRows: the rows a selection bitmap keeps, listed a word at a
// time, are those a bit-by-bit read lists, for row counts around word and
// byte edges, bitmaps full, empty and mixed, with the bits past the last
// row set (a guest may leave them so).
func TestBitmapRows(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 8, 9, 63, 64, 65, 127, 128, 200, 1000} {
		for _, fill := range []string{"ones", "zeros", "mixed", "mostly ones", "all but each word's first"} {
			bm := make([]byte, (n+7)/8)
			for i := range bm {
				switch fill {
				case "ones":
					bm[i] = 0xff
				case "mixed":
					bm[i] = byte(r.Uint32())
				case "all but each word's first":
					bm[i] = 0xff
					if i%8 == 0 {
						bm[i] = 0xfe
					}
				case "mostly ones":
					bm[i] = 0xff
					if r.IntN(4) == 0 {
						bm[i] &^= 1 << r.IntN(8)
					}
				}
			}
			if n%8 != 0 {
				bm[len(bm)-1] |= 0xff << (n % 8) // past the last row
			}
			want := []int{}
			for i := range n {
				if bm[i/8]&(1<<(i%8)) != 0 {
					want = append(want, i)
				}
			}
			buf := []int{99, 98} // stale scratch
			got := bitmapRows(bm, n, &buf)
			if got == nil || !slices.Equal(got, want) {
				t.Errorf("n=%d %s: got %v, want %v", n, fill, got, want)
			}
		}
	}
}
