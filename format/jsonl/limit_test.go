package jsonl

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/formattest"
)

// TestRecordLimit: with a limit of 11 bytes, `{"a":1234}` (10) and
// `{"a":12345}` (11, also before "\r\n") are rows and `{"a":123456}` (12) is
// skipped as one reject, wherever it stands; a line longer than a read (the
// pipeline reads 256 KiB at a time) is skipped without being held, and the
// lines after it keep their numbers.
func TestRecordLimit(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	const (
		under = `{"a":1234}`
		at    = `{"a":12345}`
		over  = `{"a":123456}`
	)
	long := `{"a":"` + strings.Repeat("x", 1<<20) + `"}`
	lines := func(ls ...string) string { return strings.Join(ls, "\n") + "\n" }
	tests := []formattest.LimitCase{
		{Name: "under and at", In: lines(under, at, at+"\r"), Limit: 11,
			Want: []string{"1234", "12345", "12345"}},
		{Name: "over in the middle", In: lines(under, over, at), Limit: 11,
			Want: []string{"1234", "12345"}, WantRejects: []string{"2:too long"}},
		{Name: "over first", In: lines(over, at), Limit: 11,
			Want: []string{"12345"}, WantRejects: []string{"1:too long"}},
		{Name: "over at the end", In: lines(under, over), Limit: 11,
			Want: []string{"1234"}, WantRejects: []string{"2:too long"}},
		{Name: "over at the end without a newline", In: under + "\n" + over, Limit: 11,
			Want: []string{"1234"}, WantRejects: []string{"2:too long"}},
		{Name: "over, then a bad row keeps its line", In: lines(over, over, `{"a":"x"}`, under), Limit: 11,
			Want: []string{"1234"}, WantRejects: []string{"1:too long", "2:too long", "3:a"}},
		{Name: "a blank line over the limit is a record too", In: lines(under, strings.Repeat(" ", 12), at), Limit: 11,
			Want: []string{"1234", "12345"}, WantRejects: []string{"2:too long"}},
		{Name: "longer than a read, in the middle", In: lines(under, long, `{"a":"x"}`, at), Limit: 11,
			Want: []string{"1234", "12345"}, WantRejects: []string{"2:too long", "3:a"}},
		{Name: "longer than a read, at the end", In: under + "\n" + long, Limit: 11,
			Want: []string{"1234"}, WantRejects: []string{"2:too long"}},
		{Name: "longer than a read, under a larger limit", In: lines(under, long), Limit: 2 << 20,
			Want: []string{"1234"}, WantRejects: []string{"2:a"}},
	}
	formattest.RecordLimit(t, jsonlFormat, schema, tests)
}

// TestRecordLimitInference: the inference sample ends before a line over
// the limit, as reading past it would read on without bound while the
// source is only opened. Rows before it are enough; with none, the reader
// fails and says how to fix it rather than read every row into no columns.
func TestRecordLimitInference(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	opts := format.ReadOptions{MaxRecordBytes: 11}
	_, rows, rej, err := formattest.ReadAll(t, jsonlFormat, mem, strings.NewReader("{\"a\":1}\n{\"a\":123456}\n{\"a\":2}\n"), opts)
	if err != nil || !reflect.DeepEqual(rows, []string{"1", "2"}) || len(rej) != 1 {
		t.Errorf("rows %q, rejects %v, err %v; want 1 and 2, one reject", rows, rej, err)
	}
	_, _, _, err = formattest.ReadAll(t, jsonlFormat, mem, strings.NewReader("\n{\"a\":123456}\n{\"a\":2}\n"), opts)
	if !errors.Is(err, format.ErrRecordTooLarge) || !strings.Contains(err.Error(), "in.jsonl:2: ") || !strings.Contains(err.Error(), "declare schema") {
		t.Errorf("err = %v, want line 2 too large and no row to infer from", err)
	}
}

// TestRecordLimitHugeLine streams a 200 MB line between two rows with a
// 4 MiB limit: one reject naming line 2, both rows, and far less allocated
// than the line (the reader before the limit allocated over 1 GB).
func TestRecordLimitHugeLine(t *testing.T) {
	formattest.HugeLine(t, jsonlFormat, "{\"a\":1}\n", ' ', 200e6, "\n{\"a\":2}\n", 4<<20, 2, []string{"1", "2"}, 32<<20)
}

// TestRecordLimitDefault: the same line under the default limit (the
// figure of the README's security table). Reaching the limit by doubling
// the buffer allocates about three limits; a reader that held the line
// would allocate over 400 MiB.
func TestRecordLimitDefault(t *testing.T) {
	formattest.HugeLine(t, jsonlFormat, "{\"a\":1}\n", ' ', 200e6, "\n{\"a\":2}\n", format.DefaultMaxRecordBytes, 2, []string{"1", "2"}, 4*format.DefaultMaxRecordBytes)
}

// TestRecordLimitCloseWhileSkipping: closing a reader that is skipping an
// endless record returns.
func TestRecordLimitCloseWhileSkipping(t *testing.T) {
	formattest.CloseWhileSkipping(t, jsonlFormat, "{\"a\":1}\n")
}
