package arrowjson

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

const doc = `{
  "schema": {"fields": [
    {"name": "i64", "type": {"name": "int", "isSigned": true, "bitWidth": 64}, "nullable": true, "children": []},
    {"name": "s", "type": {"name": "utf8"}, "nullable": true, "children": []},
    {"name": "l", "type": {"name": "list"}, "nullable": true, "children": [
      {"name": "item", "type": {"name": "int", "isSigned": false, "bitWidth": 8}, "nullable": true, "children": []}]},
    {"name": "d", "type": {"name": "utf8"}, "nullable": true, "children": [],
     "dictionary": {"id": 7, "indexType": {"name": "int", "isSigned": true, "bitWidth": 16}, "isOrdered": false}},
    {"name": "n", "type": {"name": "null"}, "nullable": true, "children": []}
  ]},
  "dictionaries": [{"id": 7, "data": {"count": 2, "columns": [
    {"name": "DICT7", "count": 2, "VALIDITY": [1, 1], "OFFSET": [0, 1, 3], "DATA": ["a", "bc"]}]}}],
  "batches": [{"count": 3, "columns": [
    {"name": "i64", "count": 3, "VALIDITY": [1, 0, 1], "DATA": ["9223372036854775807", "0", "-9223372036854775808"]},
    {"name": "s", "count": 3, "VALIDITY": [1, 1, 0], "OFFSET": [0, 2, 5, 5], "DATA": ["é", "xyz", ""]},
    {"name": "l", "count": 3, "VALIDITY": [1, 0, 1], "OFFSET": [0, 2, 2, 3], "children": [
      {"name": "item", "count": 3, "VALIDITY": [1, 0, 1], "DATA": [255, 0, 7]}]},
    {"name": "d", "count": 3, "VALIDITY": [1, 1, 0], "DATA": [1, 0, 0]},
    {"name": "n", "count": 3}
  ]}]
}`

func TestRead(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	f, err := Read(strings.NewReader(doc), mem)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	if len(f.Records) != 1 {
		t.Fatalf("%d records", len(f.Records))
	}
	rec := f.Records[0]
	tests := []struct {
		col  int
		want string
	}{
		{0, "[9223372036854775807 (null) -9223372036854775808]"},
		{1, `["é" "xyz" (null)]`},
		{2, "[[255 (null)] (null) [7]]"},
		{3, `{ dictionary: ["a" "bc"]
  indices: [1 0 (null)] }`},
		{4, "[(null) (null) (null)]"},
	}
	for _, tt := range tests {
		if got := rec.Column(tt.col).String(); got != tt.want {
			t.Errorf("column %d = %s, want %s", tt.col, got, tt.want)
		}
	}
	dt := rec.Column(3).DataType().(*arrow.DictionaryType)
	if dt.IndexType.ID() != arrow.INT16 {
		t.Errorf("index type %s", dt.IndexType)
	}
	if err := array.RecordEqual(rec, rec); !err {
		t.Error("record not equal to itself")
	}
}

func TestReadErrors(t *testing.T) {
	for _, bad := range []string{
		`{"schema": {"fields": [{"name": "x", "type": {"name": "largelistview"}}]}}`,
		`{"schema": {"fields": [{"name": "x", "type": {"name": "int", "isSigned": true, "bitWidth": 8}}]},
		  "batches": [{"count": 2, "columns": [{"name": "x", "count": 2, "VALIDITY": [1, 1], "DATA": [1000, 1]}]}]}`,
	} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		if f, err := Read(strings.NewReader(bad), mem); err == nil {
			f.Release()
			t.Errorf("no error for %s", bad)
		}
		mem.AssertSize(t, 0)
	}
}
