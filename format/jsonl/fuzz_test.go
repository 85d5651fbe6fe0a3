package jsonl

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/formattest"
)

func FuzzReadJSONL(f *testing.F) {
	seeds := []string{
		`{"a":1,"b":"x"}` + "\n" + `{"a":2.5,"c":[1,{"d":null}]}`,
		"\xEF\xBB\xBF{\"a\":true}\r\n\n  \n{\"a\":false}",
		`{"a":"\ud83d\ude00\u00e9\"\\"}` + "\n" + `{"a":"\ud800"}`,
		`{"a":{"b":{"c":[[1],[2,3]]}}}` + "\n" + `{"a":{"b":null}}`,
		`[1]` + "\n" + `"x"` + "\n" + `{"a":1} x` + "\n" + `{"a":1,"a":2}`,
		`{"t":"2020-01-01T00:00:00Z"}` + "\n" + `{"t":"2020-01-01T00:00:00.123456789Z"}`,
		`{"u":18446744073709551615}` + "\n" + `{"u":-1}` + "\n" + `{"u":1e999}`,
		`{"a":[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]}`,
		"{\"a\":\"\xff\"}",
		"",
		"{",
		`{"":1}`,
		"null",
		`{"":0,"":0}`, // a duplicate key is rejected, though encoding/json takes the last (found by fuzzing)
	}
	for _, s := range seeds {
		f.Add([]byte(s), uint8(3), false, uint8(0))
	}
	// Lines over a small limit: first, between rows, blank, last without a
	// newline, and exactly at it before "\r\n".
	f.Add([]byte(`{"a":123456}`+"\n"+`{"a":1}`+"\n          \n"+`{"a":12345}`+"\r\n"+`{"b":"xxxxxx"}`), uint8(2), true, uint8(11))
	f.Fuzz(func(t *testing.T, in []byte, batch uint8, withSchema bool, limit uint8) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		// limit 0 is the default, far above any fuzz input.
		opts := format.ReadOptions{BatchRows: int(batch%8) + 1, Workers: 2, MaxRecordBytes: int(limit)}
		if withSchema {
			// A fixed nested schema, so decoding into types the input may
			// not match is fuzzed too.
			opts.Schema = arrow.NewSchema([]arrow.Field{
				{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
				{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
				{Name: "c", Type: arrow.ListOf(arrow.StructOf(arrow.Field{Name: "d", Type: arrow.PrimitiveTypes.Float64, Nullable: true})), Nullable: true},
				{Name: "t", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true},
			}, nil)
		}
		_, rows, rej, err := formattest.ReadAll(t, jsonlFormat, mem, bytes.NewReader(in), opts)
		if err != nil && (withSchema || !errors.Is(err, format.ErrRecordTooLarge)) {
			// Only inference cut before its first row by a line over the
			// limit may fail the whole input.
			t.Fatalf("error: %v", err)
		}
		// Every line with anything but whitespace is a row or a reject,
		// and every line over the limit a reject of its own.
		want, wantLong := 0, 0
		body := bytes.TrimPrefix(in, []byte("\xEF\xBB\xBF"))
		split := bytes.Split(body, []byte("\n"))
		for i, line := range split {
			if i < len(split)-1 {
				line = bytes.TrimSuffix(line, []byte("\r")) // part of the line end
			}
			switch {
			case limit > 0 && len(line) > int(limit):
				want++
				wantLong++
			case len(bytes.Trim(line, " \t\r\n")) > 0:
				want++
			}
		}
		if err != nil {
			if wantLong == 0 {
				t.Fatalf("error %v, but no line is over %d bytes in %q", err, limit, in)
			}
			return
		}
		if got := len(rows) + len(rej); got != want {
			t.Fatalf("%d rows + %d rejects = %d, want %d lines in %q", len(rows), len(rej), got, want, in)
		}
		last, long := int64(0), 0
		for _, e := range rej {
			if e.Line <= last {
				t.Fatalf("reject lines not increasing: %v after line %d", &e, last)
			}
			last = e.Line
			if errors.Is(e.Err, format.ErrRecordTooLarge) {
				if long++; len(split[e.Line-1]) <= int(limit) {
					t.Errorf("line %d of %d bytes rejected over a limit of %d: %v", e.Line, len(split[e.Line-1]), limit, &e)
				}
			}
		}
		if long != wantLong {
			t.Fatalf("%d lines too large, want %d over %d bytes in %q (%v)", long, wantLong, limit, in, rej)
		}
		// A line encoding/json accepts as an object must not be rejected
		// for its syntax (types and duplicate keys are other matters).
		for _, e := range rej {
			var obj map[string]any
			syntax := errors.Is(e.Err, errSyntax) || errors.Is(e.Err, errNotObject) || errors.Is(e.Err, errTrailing)
			line := bytes.TrimLeft(split[e.Line-1], " \t\r")
			// ("null" unmarshals into a map without error, but is no object.)
			if syntax && len(line) > 0 && line[0] == '{' && json.Unmarshal(line, &obj) == nil {
				t.Errorf("line %d is a valid object but was rejected: %v", e.Line, &e)
			}
		}
	})
}
