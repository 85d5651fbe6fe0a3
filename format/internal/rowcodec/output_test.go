package rowcodec

import (
	"bytes"
	"strconv"
	"testing"
)

// recorder keeps what it is given and the largest single write.
type recorder struct {
	bytes.Buffer
	largest int
}

func (r *recorder) Write(p []byte) (int, error) {
	r.largest = max(r.largest, len(p))
	return r.Buffer.Write(p)
}

// TestEncodeRounds: a batch encoded in parallel comes out in row order,
// and no more than one round of rows per goroutine is held and written at
// once, however large the batch.
func TestEncodeRounds(t *testing.T) {
	encode := func(dst []byte, lo, hi int) []byte {
		for i := lo; i < hi; i++ {
			dst = strconv.AppendInt(dst, int64(i), 10)
			dst = append(dst, '\n')
		}
		return dst
	}
	for _, n := range []int{parallelAbove, 2*roundRows + 1, 5*roundRows + 123} {
		var rec recorder
		o := NewOutput(&rec, "t", nil)
		o.procs = 2
		if err := o.Encode(n, encode); err != nil {
			t.Fatal(err)
		}
		if err := o.Close(); err != nil {
			t.Fatal(err)
		}
		if want := encode(nil, 0, n); !bytes.Equal(rec.Bytes(), want) {
			t.Errorf("%d rows: output differs from the rows in order", n)
		}
		// A part is at most roundRows rows of at most 6 bytes each.
		if limit := roundRows * 6; rec.largest > limit {
			t.Errorf("%d rows: a write of %d bytes, want at most %d (one round's part)", n, rec.largest, limit)
		}
		for _, p := range o.parts {
			if cap(p) > 2*roundRows*6 {
				t.Errorf("%d rows: a part buffer of %d bytes is kept, want one round's", n, cap(p))
			}
		}
	}
}
