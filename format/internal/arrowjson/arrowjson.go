// Package arrowjson reads the Arrow integration-test JSON format into Arrow
// records, so tests can compare what a reader decodes with the expected
// values published next to the official IPC test files.
//
// arrow-go has the same reader in arrow/internal/arrjson, which cannot be
// imported from outside the arrow module; this is a small re-implementation
// covering the types the arrow-testing "generated_*" cases use: null,
// boolean, signed and unsigned integers, floats, (large) binary and utf8,
// fixed-size binary, decimal128/256, date, time, timestamp, duration, list,
// large list, fixed-size list, struct and dictionary-encoded columns.
//
// Buffers are built from the JSON (validity, offsets, data) rather than
// through builders, so the records have exactly the layout the JSON
// describes, null slots included.
package arrowjson

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// File is a decoded integration JSON file: the schema, the record batches
// and nothing else. Call Release when done.
type File struct {
	Schema  *arrow.Schema
	Records []arrow.RecordBatch
}

// Release releases every record.
func (f *File) Release() {
	for _, r := range f.Records {
		r.Release()
	}
	f.Records = nil
}

type jsonFile struct {
	Schema struct {
		Fields   []jsonField `json:"fields"`
		Metadata []jsonKV    `json:"metadata"`
	} `json:"schema"`
	Batches      []jsonBatch `json:"batches"`
	Dictionaries []struct {
		ID   int64     `json:"id"`
		Data jsonBatch `json:"data"`
	} `json:"dictionaries"`
}

type jsonKV struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type jsonField struct {
	Name       string          `json:"name"`
	Type       json.RawMessage `json:"type"`
	Nullable   bool            `json:"nullable"`
	Children   []jsonField     `json:"children"`
	Dictionary *struct {
		ID        int64           `json:"id"`
		IndexType json.RawMessage `json:"indexType"`
		IsOrdered bool            `json:"isOrdered"`
	} `json:"dictionary"`
	Metadata []jsonKV `json:"metadata"`
}

type jsonBatch struct {
	Count   int          `json:"count"`
	Columns []jsonColumn `json:"columns"`
}

type jsonColumn struct {
	Name     string            `json:"name"`
	Count    int               `json:"count"`
	Validity []int             `json:"VALIDITY"`
	Data     []json.RawMessage `json:"DATA"`
	Offset   []json.RawMessage `json:"OFFSET"`
	Children []jsonColumn      `json:"children"`
}

// Read decodes an integration JSON document from r, allocating buffers from mem.
func Read(r io.Reader, mem memory.Allocator) (*File, error) {
	var jf jsonFile
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := dec.Decode(&jf); err != nil {
		return nil, fmt.Errorf("arrowjson: decode: %w", err)
	}

	// Dictionary value types are only known from the fields that use them.
	dictTypes := map[int64]arrow.DataType{}
	dictIDs := map[*arrow.DictionaryType]int64{}
	fields := make([]arrow.Field, len(jf.Schema.Fields))
	for i, jfld := range jf.Schema.Fields {
		f, err := toField(jfld, dictTypes, dictIDs)
		if err != nil {
			return nil, err
		}
		fields[i] = f
	}
	schema := arrow.NewSchema(fields, toMetadata(jf.Schema.Metadata))

	b := &builder{mem: mem, dicts: map[int64]arrow.ArrayData{}, dictIDs: dictIDs}
	defer func() {
		for _, d := range b.dicts {
			d.Release()
		}
	}()
	for _, d := range jf.Dictionaries {
		vt, ok := dictTypes[d.ID]
		if !ok {
			return nil, fmt.Errorf("arrowjson: dictionary %d is used by no field", d.ID)
		}
		if len(d.Data.Columns) != 1 {
			return nil, fmt.Errorf("arrowjson: dictionary %d has %d columns, want 1", d.ID, len(d.Data.Columns))
		}
		data, err := b.array(arrow.Field{Name: "dict", Type: vt, Nullable: true}, d.Data.Columns[0])
		if err != nil {
			return nil, fmt.Errorf("arrowjson: dictionary %d: %w", d.ID, err)
		}
		b.dicts[d.ID] = data
	}

	out := &File{Schema: schema}
	for bi, jb := range jf.Batches {
		rec, err := b.record(schema, jb)
		if err != nil {
			out.Release()
			return nil, fmt.Errorf("arrowjson: batch %d: %w", bi, err)
		}
		out.Records = append(out.Records, rec)
	}
	return out, nil
}

func toMetadata(kvs []jsonKV) *arrow.Metadata {
	if len(kvs) == 0 {
		return nil
	}
	keys := make([]string, len(kvs))
	vals := make([]string, len(kvs))
	for i, kv := range kvs {
		keys[i], vals[i] = kv.Key, kv.Value
	}
	md := arrow.NewMetadata(keys, vals)
	return &md
}
