package arrowipc

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/arrowjson"
	"github.com/dataweaver/dataweaver/format/internal/formattest"
	"github.com/dataweaver/dataweaver/format/internal/sharedata"
	"github.com/dataweaver/dataweaver/format/internal/testrecords"
)

// readAll reads every batch of one input; the caller releases the records.
func readAll(t *testing.T, in format.Input, mem memory.Allocator) (*arrow.Schema, []arrow.RecordBatch) {
	t.Helper()
	r, err := NewReader(in, format.ReadOptions{Mem: mem})
	if err != nil {
		t.Fatalf("NewReader(%s): %v", in.Name, err)
	}
	return formattest.Records(t, in.Name, r)
}

// inputs opens path three ways: with random access, as a plain reader
// (what a pipe gives), and the same for the stream form.
func inputs(t *testing.T, path string) []format.Input {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(path)
	return []format.Input{
		{R: bytes.NewReader(data), RA: bytes.NewReader(data), Size: int64(len(data)), Name: name + " (random access)"},
		{R: io.MultiReader(bytes.NewReader(data)), Name: name + " (pipe)"},
	}
}

// TestIntegrationFiles reads every file in shared/data/arrow, in both IPC
// forms and with and without random access, and checks it against the
// integration JSON where one exists.
func TestIntegrationFiles(t *testing.T) {
	dir := sharedata.Path(t, "arrow")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]bool{}
	for _, e := range entries {
		base, ext := splitExt(e.Name())
		switch ext {
		case ".arrow_file", ".stream", ".json.gz":
			cases[base] = true
		default:
			t.Fatalf("unexpected file %s in %s: add it to this test", e.Name(), dir)
		}
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) != 9 {
		t.Fatalf("found %d cases in %s, want 9: %v", len(names), dir, names)
	}

	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)

			var first []arrow.RecordBatch
			var firstSchema *arrow.Schema
			defer func() { testrecords.Release(first) }()
			for _, ext := range []string{".arrow_file", ".stream"} {
				for _, in := range inputs(t, filepath.Join(dir, name+ext)) {
					schema, recs := readAll(t, in, mem)
					if first == nil {
						first, firstSchema = recs, schema
						continue
					}
					if !schema.Equal(firstSchema) {
						testrecords.Release(recs)
						t.Fatalf("%s: schema differs from the first form read:\n%s\nvs\n%s", in.Name, schema, firstSchema)
					}
					testrecords.RequireEqual(t, in.Name+" vs "+name+".arrow_file", first, recs)
					testrecords.Release(recs)
				}
			}

			jsonPath := filepath.Join(dir, name+".json.gz")
			if _, err := os.Stat(jsonPath); err == nil {
				want := readJSON(t, jsonPath, mem)
				defer want.Release()
				if !want.Schema.Equal(firstSchema) {
					t.Fatalf("schema:\n%s\nwant (from json):\n%s", firstSchema, want.Schema)
				}
				testrecords.RequireEqual(t, name+" vs json", want.Records, first)
				return
			}
			checkNoJSON(t, name, firstSchema, first)
		})
	}
}

func splitExt(name string) (string, string) {
	if strings.HasSuffix(name, ".json.gz") {
		return strings.TrimSuffix(name, ".json.gz"), ".json.gz"
	}
	ext := filepath.Ext(name)
	return strings.TrimSuffix(name, ext), ext
}

func readJSON(t *testing.T, path string, mem memory.Allocator) *arrowjson.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	jf, err := arrowjson.Read(zr, mem)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return jf
}

func rowsPerBatch(recs []arrow.RecordBatch) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.NumRows()
	}
	return out
}

// checkNoJSON covers the cases arrow-testing ships without a JSON twin.
func checkNoJSON(t *testing.T, name string, schema *arrow.Schema, recs []arrow.RecordBatch) {
	t.Helper()
	rows := rowsPerBatch(recs)
	switch name {
	case "generated_custom_metadata":
		if got := len(rows); got != 1 || rows[0] != 1 {
			t.Fatalf("batches %v, want one batch of 1 row", rows)
		}
		if v, ok := schema.Metadata().GetValue("schema_custom_0"); !ok || v != "{}" {
			t.Fatalf("schema metadata %v lacks schema_custom_0={}", schema.Metadata())
		}
		f, _ := schema.FieldsByName("lots_of_meta")
		if len(f) != 1 || f[0].Metadata.Len() != 9 {
			t.Fatalf("field lots_of_meta metadata %v, want 9 keys", f)
		}
		f, _ = schema.FieldsByName("unregistered_extension")
		if v, _ := f[0].Metadata.GetValue("ARROW:extension:name"); v != "!nonexistent" {
			t.Fatalf("unregistered extension metadata lost: %v", f[0].Metadata)
		}
	case "generated_primitive_no_batches":
		if len(rows) != 0 || schema.NumFields() != 30 {
			t.Fatalf("batches %v, %d fields; want none and 30", rows, schema.NumFields())
		}
	case "generated_primitive_zerolength":
		if schema.NumFields() != 30 || len(rows) == 0 {
			t.Fatalf("batches %v, %d fields; want zero-length batches and 30 fields", rows, schema.NumFields())
		}
		for _, n := range rows {
			if n != 0 {
				t.Fatalf("batches %v, want all zero-length", rows)
			}
		}
	case "generated_decimal":
		checkDecimal(t, schema, recs)
	default:
		t.Fatalf("case %s has no .json.gz and no hand-written check", name)
	}
}

// checkDecimal checks what can be known without a JSON twin: 36 columns
// decimal(3..38, 2) (archery's generator does not keep values within the
// declared precision, so that is not checked), and values pinned from an
// independent reader (see doc.go).
func checkDecimal(t *testing.T, schema *arrow.Schema, recs []arrow.RecordBatch) {
	t.Helper()
	if schema.NumFields() != 36 {
		t.Fatalf("%d fields, want 36", schema.NumFields())
	}
	var total int64
	for i, f := range schema.Fields() {
		dt, ok := f.Type.(*arrow.Decimal128Type)
		if !ok || dt.Precision != int32(i+3) || dt.Scale != 2 {
			t.Fatalf("field %d type %s, want decimal(%d, 2)", i, f.Type, i+3)
		}
	}
	for _, rec := range recs {
		total += rec.NumRows()
		for c := 0; c < int(rec.NumCols()); c++ {
			col := rec.Column(c).(*array.Decimal128)
			if col.Len() != int(rec.NumRows()) {
				t.Fatalf("column %d has %d values in a %d-row batch", c, col.Len(), rec.NumRows())
			}
		}
	}
	// 18 pairs of batches of 7 and 10 rows.
	if len(recs) != 36 || total != 18*17 {
		t.Fatalf("batches %v, want 36 batches alternating 7 and 10 rows", rowsPerBatch(recs))
	}
	// Values read with apache-arrow 21 (JavaScript), an independent reader:
	// f0[0] = 12810 unscaled, f0[1] null, f35[0] and f35[2] as below, f35[1] null.
	f0 := recs[0].Column(0).(*array.Decimal128)
	if got := f0.Value(0); got != decimal128.FromI64(12810) || !f0.IsNull(1) {
		t.Fatalf("f0[0:2] = %s, %v; want 128.10, null", got.ToString(2), f0.IsValid(1))
	}
	f35 := recs[0].Column(35).(*array.Decimal128)
	for i, want := range map[int]string{0: "1544317897813952806030081925068398131.60", 2: "357291214100068043964443330103670087.94"} {
		if got := f35.Value(i).ToString(2); got != want {
			t.Fatalf("f35[%d] = %s, want %s", i, got, want)
		}
	}
	if !f35.IsNull(1) {
		t.Fatalf("f35[1] is not null")
	}
}
