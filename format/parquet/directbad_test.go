package parquet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
	"github.com/klauspost/compress/snappy"
)

// directFile writes 3,000 rows of a required dictionary-encoded string
// column "country" and a nullable int64 "n" with our writer, uncompressed,
// and returns the file and the offset of the first data page's body of
// column col in the first row group and of its definition levels.
func directFile(t testing.TB, col int) (data []byte, at, levels int64) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "country", Type: arrow.BinaryTypes.String},
		{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	mem := memory.NewGoAllocator()
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := range 3000 {
		b.Field(0).(*array.StringBuilder).Append([]string{"FR", "DE", "IT"}[i%3])
		if i%4 == 0 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.Int64Builder).Append(int64(i))
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	tu := defaultTuning
	tu.dict = dictAlways
	data = writeFile(t, mem, schema, []arrow.RecordBatch{rec}, "none", tu)
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	cc, err := pf.MetaData().RowGroup(0).ColumnChunk(col)
	if err != nil {
		t.Fatal(err)
	}
	at = cc.DataPageOffset()
	h, n, err := readPageHeader(bytes.NewReader(data), at, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if h.i32(1) != pageDataV2 {
		t.Fatalf("page type %d, want a V2 data page", h.i32(1))
	}
	return data, at + n + h.structs[8].i32(5), at + n
}

// TestDirectErrors: a damaged page the direct reader meets is an error
// wrapping format.ErrMalformed that names the file, the row group and the
// column, never a panic or wrong rows.
func TestDirectErrors(t *testing.T) {
	tests := []struct {
		name   string
		col    int
		damage func(b []byte, at, levels int64)
		want   string
	}{
		{"index width over 32 bits", 0, func(b []byte, at, _ int64) { b[at] = 33 }, `row group 0 column "country"`},
		{"indices past the dictionary", 0, func(b []byte, at, _ int64) { b[at] = 8; b[at+1], b[at+2] = 2<<1, 200 }, "dictionary index 200 out of range"},
		{"bit-packed run past the page", 0, func(b []byte, at, _ int64) { b[at+1] = 0xff; b[at+2] = 0x7f }, `column "country": dictionary indices`},
		{"plain values cut short", 1, func(b []byte, _, levels int64) {
			// One run of 3,000 definition levels of 1: every row is set,
			// more values than the page holds.
			b[levels], b[levels+1], b[levels+2] = 0xf0, 0x2e, 0x01
		}, `column "n": page holds`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setDirect(t, true)
			data, at, levels := directFile(t, tt.col)
			tt.damage(data, at, levels)
			err := readAllErr(data, checkedMem(t))
			if !errors.Is(err, format.ErrMalformed) || !strings.Contains(err.Error(), "damaged.parquet") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrMalformed naming the file and %q", err, tt.want)
			}
		})
	}
}

// TestDirectHugeClaims: sizes a page states are checked against the bytes
// it has before anything is allocated: a Snappy page claiming far more
// than its bytes can hold, or whose block says otherwise than its header,
// is refused with little memory allocated.
func TestDirectHugeClaims(t *testing.T) {
	small := snappy.Encode(nil, bytes.Repeat([]byte("ab"), 50))
	tests := []struct {
		name string
		src  []byte
		want int64
		err  string
	}{
		{"header claims 512 MiB", small, 512 << 20, "cannot hold"},
		{"block claims 512 MiB", binary.AppendUvarint(nil, 512<<20), 512 << 20, "cannot hold"},
		{"block and header disagree", small, 150, "the page header says"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &colReader{snappy: true}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := c.decompress(tt.src, tt.want, false)
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
				t.Fatalf("allocated %d bytes", got)
			}
		})
	}
}

// FuzzRLE: the hybrid decoder never reads past its input or panics, and
// reading one-bit values as a bitmap gives the bits that reading them as
// integers gives.
func FuzzRLE(f *testing.F) {
	f.Add([]byte{0x03, 0xa5, 0x10, 0x01}, uint8(1), uint16(20))      // bit-packed group, RLE run of ones
	f.Add([]byte{0x05, 0xff, 0x00, 0x0f, 0x02}, uint8(1), uint16(9)) // groups cut short
	f.Add([]byte{0x06, 0x02, 0x03, 0xe4, 0x1b}, uint8(2), uint16(11))
	f.Add([]byte{0x10, 0x00, 0x00, 0x01}, uint8(17), uint16(8))
	f.Fuzz(func(t *testing.T, data []byte, width uint8, n uint16) {
		w := uint(width % 33)
		ids := make([]int32, n)
		d := newRLE(data, w)
		intErr := d.int32s(ids)
		if intErr == nil && w < 32 {
			for i, v := range ids {
				if uint32(v)>>w != 0 {
					t.Fatalf("value %d = %d wider than %d bits", i, v, w)
				}
			}
		}
		if w != 1 {
			return
		}
		bm := make([]byte, bitutil.BytesForBits(int64(n))+1)
		d = newRLE(data, 1)
		set, err := d.bitmap(bm, 3, int(n)) // at an offset inside a byte
		if (err == nil) != (intErr == nil) {
			t.Fatalf("bitmap err %v, int32s err %v", err, intErr)
		}
		if err != nil {
			return
		}
		count := 0
		for i, v := range ids {
			if bitutil.BitIsSet(bm, 3+i) != (v == 1) {
				t.Fatalf("bit %d = %v, value %d", i, bitutil.BitIsSet(bm, 3+i), v)
			}
			count += int(v)
		}
		if set != count {
			t.Fatalf("bitmap counts %d set, values %d", set, count)
		}
	})
}

// FuzzDirectPages overwrites bytes of the pages of a file the direct
// reader decodes, leaving its footer whole so that the damage reaches the
// page decoding: the reader must fail with an error naming the file, never
// through a recovered panic, and when both the direct reader and pqarrow's
// path read the damaged file, they must give the same rows.
func FuzzDirectPages(f *testing.F) {
	data, at, levels := directFile(f, 0)
	_, atN, levelsN := directFile(f, 1)
	end := int64(len(data)) - 8 - int64(binary.LittleEndian.Uint32(data[len(data)-8:]))
	for _, p := range []int64{4, at, at + 1, levels, atN, levelsN} {
		f.Add(uint32(p-4), []byte{0xff})
		f.Add(uint32(p-4), []byte{0x00, 0x00})
		f.Add(uint32(p-4), []byte{0x7f, 0x01, 0x80})
	}
	f.Fuzz(func(t *testing.T, pos uint32, patch []byte) {
		if len(patch) == 0 || len(patch) > 64 {
			return
		}
		b := append([]byte(nil), data...)
		copy(b[4+int64(pos)%(end-4):end], patch)
		got, errDirect := readRecords(b, true)
		defer testrecords.Release(got)
		if errDirect != nil {
			if !strings.Contains(errDirect.Error(), "damaged.parquet") || strings.Contains(errDirect.Error(), "panicked") {
				t.Fatalf("error: %v", errDirect)
			}
			return
		}
		want, err := readRecords(b, false)
		defer testrecords.Release(want)
		if err == nil {
			testrecords.RequireEqual(t, "damaged file", want, got)
		}
	})
}

// readRecords reads data to the end with the direct reader on or off.
func readRecords(data []byte, direct bool) (recs []arrow.RecordBatch, err error) {
	old := directRead
	directRead = direct
	defer func() { directRead = old }()
	r, err := NewReader(bytesInput("damaged.parquet", data), format.ReadOptions{BatchRows: 1000})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	for {
		rec, _, err := r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return recs, nil
			}
			return recs, err
		}
		recs = append(recs, rec)
	}
}
