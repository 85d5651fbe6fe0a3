package parquet

import (
	"bytes"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

// The benchmark table: an "orders" table of benchRows rows in batches of
// 65536, the pipeline's default batch size.
const (
	benchRows  = 1 << 20
	benchBatch = 65536
)

var ordersSchema = testrecords.OrdersSchema

var (
	ordersOnce sync.Once
	orders     []arrow.RecordBatch
)

func ordersTable() []arrow.RecordBatch {
	ordersOnce.Do(func() { orders = testrecords.Orders(memory.NewGoAllocator(), benchRows, benchBatch) })
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
		{"serial-columns", "", with(func(t *tuning) { t.workers = 0 })},
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

// BenchmarkWriteParquetFile writes the rows of the Parquet file named by
// DW_BENCH_PARQUET (e.g. 1M rows of `generate: {preset: orders}`, whose
// string columns all repeat enough to be dictionary-encoded) with the
// default tuning, with arrow-go's own dictionary encoder, with snappy
// on every column (codecpick.go off), with Snappy only where it halves
// a column (codecSaveEighths 4), with row groups encoded inside
// Write (rowgroups.go) and with Go's allocator instead of the writer's
// buffer pool (bufpool.go), in batches of
// the engine's default 16,384 rows, to a byte counter. cpu-ms/op is the
// process's user+system CPU per write: the writer encodes columns on
// several goroutines, so ns/op is wall time.
func BenchmarkWriteParquetFile(b *testing.B) {
	name := os.Getenv("DW_BENCH_PARQUET")
	if name == "" {
		b.Skip("set DW_BENCH_PARQUET to a Parquet file")
	}
	data, err := os.ReadFile(name)
	if err != nil {
		b.Fatal(err)
	}
	schema, recs := readAll(b, bytesInput(name, data), format.ReadOptions{BatchRows: 16384})
	defer testrecords.Release(recs)
	arrowDict := defaultTuning
	arrowDict.ownDict = false
	snappyAll := defaultTuning
	snappyAll.codecPick = false
	snappyHalves := defaultTuning
	snappyHalves.codecSaveEighths = 4
	noPool := defaultTuning
	noPool.pool = false
	for _, c := range []struct {
		name string
		tu   tuning
	}{{"default", defaultTuning}, {"arrow-dictionary", arrowDict}, {"snappy-everywhere", snappyAll}, {"snappy-if-it-halves", snappyHalves}, {"no-pool", noPool}} {
		b.Run(c.name, func(b *testing.B) {
			var size int64
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				cw := &countingWriter{}
				w, err := newWriter(cw, schema, format.WriteOptions{}, c.tu)
				if err != nil {
					b.Fatal(err)
				}
				for _, rec := range recs {
					if err := w.Write(rec); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				size = cw.n
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
			b.ReportMetric(float64(size)/(1<<20), "MiB")
		})
	}
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReadParquetFile reads the Parquet file named by DW_BENCH_PARQUET
// in batches of the engine's default 16,384 rows, releasing each batch
// once it is read, as a sink does once it has written it, with the direct
// reader (direct.go) and through pqarrow. cpu-ms/op is the process's
// user+system CPU per read.
func BenchmarkReadParquetFile(b *testing.B) {
	name := os.Getenv("DW_BENCH_PARQUET")
	if name == "" {
		b.Skip("set DW_BENCH_PARQUET to a Parquet file")
	}
	data, err := os.ReadFile(name)
	if err != nil {
		b.Fatal(err)
	}
	for _, direct := range []bool{true, false} {
		mode := map[bool]string{true: "direct", false: "pqarrow"}[direct]
		b.Run(mode, func(b *testing.B) {
			setDirect(b, direct)
			cpu0 := cpuTime()
			var reads atomic.Int64
			for i := 0; i < b.N; i++ {
				in := bytesInput(name, data)
				in.RA = countingReaderAt{in.RA, &reads}
				r, err := NewReader(in, format.ReadOptions{BatchRows: 16384})
				if err != nil {
					b.Fatal(err)
				}
				for {
					rec, _, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					rec.Release()
				}
				if err := r.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
			b.ReportMetric(float64(reads.Load())/float64(b.N), "reads/op")
		})
	}
}

// countingReaderAt counts ReadAt calls: each is one ranged GET when the
// file is an object in a bucket (connectors/s3).
type countingReaderAt struct {
	ra io.ReaderAt
	n  *atomic.Int64
}

func (c countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.n.Add(1)
	return c.ra.ReadAt(p, off)
}
