// Package blobtest encodes and decodes files and objects with the formats'
// own readers and writers, independently of the file and s3 connectors
// under test: what a source reads is written by these, and what a sink
// wrote is read back by these.
package blobtest

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/blob"
	"github.com/dataweaver/dataweaver/format"
)

// Encode writes recs in the named format, wrapped in compression
// (blob.CompNone for none), and returns the bytes.
func Encode(t testing.TB, formatName, compression string, mem memory.Allocator, schema *arrow.Schema, recs ...arrow.RecordBatch) []byte {
	t.Helper()
	var buf bytes.Buffer
	comp, err := blob.Compress(compression, &buf)
	if err != nil {
		t.Fatal(err)
	}
	fm, err := format.Lookup(formatName)
	if err != nil {
		t.Fatal(err)
	}
	w, err := fm.NewWriter(comp, schema, format.WriteOptions{Mem: mem, Name: "blobtest"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := comp.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Decode reads data (named name in messages) in the named format and
// compression; schema is given to text formats, so values compare
// exactly. A rejected row fails t.
func Decode(t testing.TB, name string, data []byte, formatName, compression string, mem memory.Allocator, schema *arrow.Schema) []arrow.RecordBatch {
	t.Helper()
	r, closeZ, err := blob.Decompress(compression, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer closeZ()
	fm, err := format.Lookup(formatName)
	if err != nil {
		t.Fatal(err)
	}
	in := format.Input{R: r, Name: name}
	if compression == blob.CompNone {
		in.RA, in.Size = bytes.NewReader(data), int64(len(data))
	}
	opts := format.ReadOptions{Mem: mem}
	if fm.Text {
		opts.Schema = schema
	}
	rd, err := fm.NewReader(in, opts)
	if err != nil {
		t.Fatalf("read back %s: %v", name, err)
	}
	defer rd.Close()
	var out []arrow.RecordBatch
	for {
		rec, rejects, err := rd.Next()
		if len(rejects) > 0 {
			t.Errorf("read back %s: rejects %v", name, rejects)
		}
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			conformance.Release(out)
			t.Fatalf("read back %s: %v", name, err)
		}
		out = append(out, rec)
	}
}
