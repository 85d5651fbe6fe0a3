package s3

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/blob"
	"github.com/dataweaver/dataweaver/connectors/internal/s3test"
	"github.com/dataweaver/dataweaver/engine"
)

// Row groups of the large object: groupRows rows of ~300 random bytes
// each, so a group is ~150 KB and the object ~3 MB: large beside the
// ~100 KB an opening reads whatever the group size (measured: the footer
// and what the reader reads ahead).
const (
	groups    = 20
	groupRows = 500
)

var wideSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "payload", Type: arrow.BinaryTypes.String},
}, nil)

// wideParquet writes groups row groups with Arrow's own Parquet writer
// (not the sink under test), uncompressed random payloads so the bytes
// of a group are what its rows weigh.
func wideParquet(t *testing.T, mem memory.Allocator, seed uint64, groups int) []byte {
	t.Helper()
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithAllocator(mem), parquet.WithMaxRowGroupLength(groupRows),
		parquet.WithCompression(compress.Codecs.Uncompressed), parquet.WithDictionaryDefault(false))
	w, err := pqarrow.NewFileWriter(wideSchema, &buf, props, pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem)))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	raw := make([]byte, 225)
	for g := 0; g < groups; g++ {
		b := array.NewRecordBuilder(mem, wideSchema)
		for r := 0; r < groupRows; r++ {
			b.Field(0).(*array.Int64Builder).Append(int64(g*groupRows + r))
			for i := range raw {
				raw[i] = byte(rng.Uint32())
			}
			b.Field(1).(*array.StringBuilder).Append(base64.StdEncoding.EncodeToString(raw))
		}
		rec := b.NewRecordBatch()
		b.Release()
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestParquetRangedReads measures on the wire (a counting proxy in front
// of the server) that the source reads a Parquet object by ranges: opening
// it fetches the footer and at most the first row group, and a run resumed
// in the last row group fetches the footer and that group, not the object.
func TestParquetRangedReads(t *testing.T) {
	srv := s3test.Shared(t)
	mem := conformance.Checked(t)
	bucket := s3test.Bucket(t)
	data := wideParquet(t, mem, 1, groups)
	size := int64(len(data))
	put(t, srv.Client(), bucket, "wide.parquet", data)
	proxy := srv.Proxy(t)
	conf := "{" + s3test.ConfigAt(proxy.Endpoint, bucket) + ", path: wide.parquet}"
	const batch = 250
	group := size / groups
	ctx := context.Background()

	// A whole read serves at least the object: the proxy counts what it should.
	src := conformance.MustBuild[engine.Source](t, engine.KindSource, "s3", conf, conformance.Build(mem, batch, "s3"))
	recs := conformance.ReadAll(t, src, batch, true)
	var last blob.Position // the checkpoint of a batch inside the last row group
	rows := int64(0)
	for _, r := range recs {
		rows += r.NumRows()
	}
	conformance.Release(recs)
	if rows != groups*groupRows {
		t.Fatalf("read %d rows, want %d", rows, groups*groupRows)
	}
	if proxy.Served() < size {
		t.Fatalf("a whole read served %d bytes, less than the object's %d: the proxy does not count", proxy.Served(), size)
	}

	// Opening reads the footer (and the first group, decoded ahead).
	proxy.Reset()
	src = conformance.MustBuild[engine.Source](t, engine.KindSource, "s3", conf, conformance.Build(mem, batch, "s3"))
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	for {
		b, err := src.Read(ctx)
		if errors.Is(err, engine.ErrEndOfInput) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b.Record.Release()
		if p := b.Checkpoint.(blob.Position); p.Row == (groups-1)*groupRows+batch {
			last = p
			break
		}
	}
	src.Close()
	if last.Row == 0 {
		t.Fatal("no checkpoint inside the last row group")
	}

	proxy.Reset()
	src = conformance.MustBuild[engine.Source](t, engine.KindSource, "s3", conf, conformance.Build(mem, batch, "s3"))
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	opened := proxy.Served()
	src.Close()
	if opened > 2*group {
		t.Errorf("Open served %d bytes of a %d-byte object (row groups of ~%d): more than the footer and one group", opened, size, group)
	}

	// A resumed run reads the footer and the last group only.
	proxy.Reset()
	src = conformance.MustBuild[engine.Source](t, engine.KindSource, "s3", conf, conformance.Build(mem, batch, "s3"))
	pos, _ := json.Marshal(last)
	if err := src.(engine.Resumer).Resume(pos); err != nil {
		t.Fatal(err)
	}
	recs = conformance.ReadAll(t, src, batch, true)
	rows = 0
	for _, r := range recs {
		rows += r.NumRows()
	}
	first := recs[0].Column(0).(*array.Int64).Value(0)
	conformance.Release(recs)
	if want := int64(groupRows - batch); rows != want || first != last.Row {
		t.Errorf("resumed at row %d: read %d rows from id %d, want %d rows from id %d", last.Row, rows, first, want, last.Row)
	}
	if served := proxy.Served(); served > 2*group {
		t.Errorf("the resumed run served %d bytes of a %d-byte object (row groups of ~%d): it downloaded more than the footer and the last group", served, size, group)
	}
	t.Logf("object %d bytes in %d row groups; served: open %d, resume in the last group %d", size, groups, opened, proxy.Served())
}

// TestObjectReplacedWhileRead: every ranged GET carries the listed ETag
// (If-Match), so an object replaced between two row groups fails the read
// instead of joining row groups of two versions.
func TestObjectReplacedWhileRead(t *testing.T) {
	srv := s3test.Shared(t)
	client := srv.Client()
	mem := conformance.Checked(t)
	bucket := s3test.Bucket(t)
	put(t, client, bucket, "wide.parquet", wideParquet(t, mem, 1, 3))
	ctx := context.Background()
	src := conformance.MustBuild[engine.Source](t, engine.KindSource, "s3", "{"+srv.Config(bucket)+", path: wide.parquet}", conformance.Build(mem, groupRows, "s3"))
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	put(t, client, bucket, "wide.parquet", wideParquet(t, mem, 2, 3)) // same layout, other values
	var err error
	for i := 0; i < 3 && err == nil; i++ {
		var b *engine.Batch
		if b, err = src.Read(ctx); err == nil {
			b.Record.Release()
		}
	}
	if err == nil || errors.Is(err, engine.ErrEndOfInput) || !strings.Contains(err.Error(), "PreconditionFailed") {
		t.Fatalf("reading an object replaced after Open: %v, want the GET's precondition (If-Match) to fail", err)
	}
	t.Logf("refused: %v", err)
}
