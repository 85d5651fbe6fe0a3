package parquet

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/dataweaver/dataweaver/format"
)

// The benchmark table: an "orders" table of benchRows rows in batches of
// 65536, the pipeline's default batch size.
const (
	benchRows  = 1 << 20
	benchBatch = 65536
)

var ordersSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "customer", Type: arrow.BinaryTypes.String},
	{Name: "email", Type: arrow.BinaryTypes.String},
	{Name: "country", Type: arrow.BinaryTypes.String},
	{Name: "amount", Type: arrow.PrimitiveTypes.Float64},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

var (
	ordersOnce sync.Once
	orders     []arrow.Record
)

// ordersTable builds the table once per test binary: 50,000 customers,
// 40 countries, amounts with ~10% refunds (negative), timestamps a second
// apart with jitter, and a note on one order in five.
func ordersTable() []arrow.Record {
	ordersOnce.Do(func() {
		rng := rand.New(rand.NewSource(42))
		countries := []string{"US", "DE", "FR", "GB", "JP", "CN", "IN", "BR", "CA", "AU", "ES", "IT", "NL", "SE", "NO", "DK", "FI", "PL", "CZ", "AT",
			"CH", "BE", "PT", "IE", "MX", "AR", "CL", "CO", "ZA", "NG", "EG", "KE", "KR", "SG", "TH", "VN", "ID", "PH", "NZ", "TR"}
		notes := []string{"gift wrap", "leave at door", "call before delivery", "fragile", "expedite — VIP customer"}
		b := array.NewRecordBuilder(memory.NewGoAllocator(), ordersSchema)
		defer b.Release()
		ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
		for row := 0; row < benchRows; row++ {
			c := rng.Intn(50000)
			b.Field(0).(*array.Int64Builder).Append(int64(row) + 1_000_000)
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("Customer %05d", c))
			b.Field(2).(*array.StringBuilder).Append(fmt.Sprintf("customer%05d@example.com", c))
			b.Field(3).(*array.StringBuilder).Append(countries[rng.Intn(len(countries))])
			amount := float64(rng.Intn(100000)) / 100
			if rng.Intn(10) == 0 {
				amount = -amount
			}
			b.Field(4).(*array.Float64Builder).Append(amount)
			ts += int64(1_000_000 + rng.Intn(1000))
			b.Field(5).(*array.TimestampBuilder).Append(arrow.Timestamp(ts))
			if rng.Intn(5) == 0 {
				b.Field(6).(*array.StringBuilder).Append(notes[rng.Intn(len(notes))])
			} else {
				b.Field(6).AppendNull()
			}
			if (row+1)%benchBatch == 0 {
				orders = append(orders, b.NewRecord())
			}
		}
	})
	return orders
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func writeOrders(b *testing.B, w io.Writer, opts format.WriteOptions, tu tuning) {
	pw, err := newWriter(w, ordersSchema, opts, tu)
	if err != nil {
		b.Fatal(err)
	}
	for _, rec := range ordersTable() {
		if err := pw.Write(rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := pw.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWriteParquet writes the orders table with the default settings
// and with each alternative BENCH_NOTES.md compares.
func BenchmarkWriteParquet(b *testing.B) {
	ordersTable()
	def := defaultTuning
	with := func(fn func(t *tuning)) tuning { t := def; fn(&t); return t }
	cases := []struct {
		name        string
		compression string
		tu          tuning
	}{
		{"default", "", def},
		{"zstd", "zstd", def},
		{"none", "none", def},
		{"gzip", "gzip", def},
		{"dictionary-always", "", with(func(t *tuning) { t.dict = dictAlways })},
		{"dictionary-never", "", with(func(t *tuning) { t.dict = dictNever })},
		{"no-stats", "", with(func(t *tuning) { t.stats = false })},
		{"rowgroup-64k", "", with(func(t *tuning) { t.rowGroupRows = 64 << 10 })},
		{"rowgroup-256k", "", with(func(t *tuning) { t.rowGroupRows = 256 << 10 })},
		{"page-64k", "", with(func(t *tuning) { t.pageBytes = 64 << 10 })},
		{"page-v1", "", with(func(t *tuning) { t.pageV1 = true })},
		{"page-v1-rowgroup-64k", "", with(func(t *tuning) { t.pageV1 = true; t.rowGroupRows = 64 << 10 })},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var size int64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				cw := &countingWriter{}
				writeOrders(b, cw, format.WriteOptions{Compression: c.compression}, c.tu)
				size = cw.n
			}
			b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(size)/(1<<20), "MiB")
		})
	}
}

// BenchmarkReadParquet reads the orders table written with the defaults.
func BenchmarkReadParquet(b *testing.B) {
	for _, c := range []struct{ name, compression string }{{"snappy", ""}, {"zstd", "zstd"}} {
		b.Run(c.name, func(b *testing.B) {
			var buf bytes.Buffer
			writeOrders(b, &buf, format.WriteOptions{Compression: c.compression}, defaultTuning)
			data := buf.Bytes()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := NewReader(format.Input{R: bytes.NewReader(data), RA: bytes.NewReader(data), Size: int64(len(data)), Name: "orders.parquet"},
					format.ReadOptions{BatchRows: benchBatch})
				if err != nil {
					b.Fatal(err)
				}
				var rows int64
				for {
					rec, _, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					rows += rec.NumRows()
					rec.Release()
				}
				r.Close()
				if rows != benchRows {
					b.Fatalf("%d rows", rows)
				}
			}
			b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
