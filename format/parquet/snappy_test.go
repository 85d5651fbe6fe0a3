package parquet

import (
	"bytes"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/golang/snappy"
)

// TestSnappyCodec: Parquet pages are compressed with the fast s2 encoder,
// and what it writes is plain Snappy: the reference Go decoder reads it.
func TestSnappyCodec(t *testing.T) {
	c, err := compress.GetCodec(compress.Codecs.Snappy)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(fastSnappy); !ok {
		t.Fatalf("the registered Snappy codec is %T, want fastSnappy", c)
	}
	src := bytes.Repeat([]byte("orders,FR,alice@example.com,12.50;"), 4000)
	enc := c.Encode(make([]byte, c.CompressBound(int64(len(src)))), src)
	got, err := snappy.Decode(nil, enc)
	if err != nil || !bytes.Equal(got, src) {
		t.Fatalf("golang/snappy decodes %d bytes (err %v), want the %d encoded", len(got), err, len(src))
	}
	back, err := compress.Decode(c, nil, enc)
	if err != nil || !bytes.Equal(back, src) {
		t.Fatalf("round trip through the codec: %d bytes, err %v", len(back), err)
	}
}
