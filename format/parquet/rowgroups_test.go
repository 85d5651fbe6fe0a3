package parquet

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

// TestRowGroupsWhole: batches of uneven sizes (as a filter leaves them)
// make row groups of exactly rowGroupRows rows but the last, on the
// parallel path, the serial one and with foreground encoding, and the
// file reads back as written.
func TestRowGroupsWhole(t *testing.T) {
	mem := checkedMem(t)
	orders := testrecords.Orders(mem, 20_000, 20_000)
	defer testrecords.Release(orders)
	// Batches of 1,000 to 3,000 rows, cut from one record.
	var recs []arrow.RecordBatch
	for from, i := int64(0), 0; from < 20_000; i++ {
		to := min(20_000, from+1000+int64(i*737%2000))
		recs = append(recs, orders[0].NewSlice(from, to))
		from = to
	}
	defer testrecords.Release(recs)
	for _, tt := range []struct {
		name string
		tu   func(*tuning)
	}{
		{"parallel", func(*tuning) {}},
		{"serial", func(tu *tuning) { tu.workers = 0 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tu := defaultTuning
			tu.rowGroupRows = 4096
			tt.tu(&tu)
			data := writeFile(t, mem, orders[0].Schema(), recs, "", tu)
			pf, err := file.NewParquetReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			defer pf.Close()
			var sizes []string
			for g := range pf.NumRowGroups() {
				sizes = append(sizes, fmt.Sprint(pf.MetaData().RowGroup(g).NumRows()))
			}
			if got, want := strings.Join(sizes, " "), "4096 4096 4096 4096 3616"; got != want {
				t.Errorf("row groups of %s rows, want %s", got, want)
			}
			_, back := readAll(t, bytesInput("g.parquet", data), format.ReadOptions{Mem: mem, BatchRows: 20_000})
			defer testrecords.Release(back)
			testrecords.RequireEqual(t, "row groups", orders, back)
		})
	}
}

// ownerWriter is an io.Writer that fails the test when written from
// another goroutine than its owner's: the file sink flushes its buffer in
// front of the file on its own goroutine, at any Flush.
type ownerWriter struct {
	t     *testing.T
	owner string
	buf   bytes.Buffer
}

func goroutineID() string {
	b := make([]byte, 64)
	b = b[:runtime.Stack(b, false)]
	id, _, _ := strings.Cut(strings.TrimPrefix(string(b), "goroutine "), " ")
	return id
}

func (o *ownerWriter) Write(p []byte) (int, error) {
	if id := goroutineID(); id != o.owner {
		o.t.Errorf("written from goroutine %s, not the sink's %s", id, o.owner)
	}
	return o.buf.Write(p)
}

// TestRowGroupsWrittenBySink: every byte reaches the io.Writer on the goroutine calling Write
// and Close.
func TestRowGroupsWrittenBySink(t *testing.T) {
	mem := checkedMem(t)
	orders := testrecords.Orders(mem, 20_000, 2_000)
	defer testrecords.Release(orders)
	tu := defaultTuning
	tu.rowGroupRows = 4096
	out := &ownerWriter{t: t, owner: goroutineID()}
	w, err := newWriter(out, orders[0].Schema(), format.WriteOptions{Mem: mem, Name: "o.parquet"}, tu)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range orders {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, back := readAll(t, bytesInput("o.parquet", out.buf.Bytes()), format.ReadOptions{Mem: mem, BatchRows: 2_000})
	defer testrecords.Release(back)
	testrecords.RequireEqual(t, "written by the sink", orders, back)
}
