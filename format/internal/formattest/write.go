package formattest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
)

// WriteText writes rec with f and returns the text after Flush and Close.
// Nothing may reach the io.Writer before Flush: writers buffer, and a sink
// relies on Flush as the point where its output is durable.
func WriteText(t *testing.T, f *format.Format, rec arrow.RecordBatch, opts format.WriteOptions) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := f.NewWriter(&buf, rec.Schema(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("bytes reached the io.Writer before Flush")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// WriteJSONRows is WriteText for a table of fields whose rows are given as
// JSON, the way array.RecordFromJSON reads them.
func WriteJSONRows(t *testing.T, f *format.Format, fields []arrow.Field, rows string, opts format.WriteOptions) string {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema(fields, nil)
	if len(fields) == 0 {
		// arrow-go v18's RecordFromJSON gives no rows for a schema of no
		// columns; the row count is the number of JSON objects.
		var objs []map[string]any
		if err := json.Unmarshal([]byte(rows), &objs); err != nil {
			t.Fatal(err)
		}
		rec := array.NewRecordBatch(schema, nil, int64(len(objs)))
		defer rec.Release()
		return WriteText(t, f, rec, opts)
	}
	rec, _, err := array.RecordFromJSON(mem, schema, strings.NewReader(rows))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	return WriteText(t, f, rec, opts)
}
