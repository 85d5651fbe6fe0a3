package csv

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/formattest"
)

// TestRecordLimit: with a limit of 8 bytes, "1,abcde" (7) and "1,abcdef"
// (8, also before "\r\n") are rows and "1,abcdefg" (9) is skipped as one
// reject, wherever it stands. A record is counted with the line breaks of
// its quoted fields, and one longer than a read (the pipeline reads 256 KiB
// at a time) is skipped by following its quotes without holding it: a
// newline inside quotes does not end it, a quote inside an unquoted field
// does not open one, and the lines after it keep their numbers.
func TestRecordLimit(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	const (
		under = "1,abcde"
		at    = "1,abcdef"
		over  = "1,abcdefg"
		bad   = "x,y" // a reject (column a) whose line shows the count is right
	)
	big := strings.Repeat("ab\n", 200000) // 600 KB over 200000 lines
	long := strings.Repeat("s", 300000)
	lines := func(ls ...string) string { return "a,s\n" + strings.Join(ls, "\n") + "\n" }
	tests := []formattest.LimitCase{
		{Name: "under and at", In: lines(under, at, at+"\r", "2,\"x\ny\""), Limit: 8,
			Want: []string{`1|"abcde"`, `1|"abcdef"`, `1|"abcdef"`, `2|"x\ny"`}},
		{Name: "over in the middle", In: lines(under, over, at), Limit: 8,
			Want: []string{`1|"abcde"`, `1|"abcdef"`}, WantRejects: []string{"3:too long"}},
		{Name: "over first", In: lines(over, at), Limit: 8,
			Want: []string{`1|"abcdef"`}, WantRejects: []string{"2:too long"}},
		{Name: "over at the end", In: lines(under, over), Limit: 8,
			Want: []string{`1|"abcde"`}, WantRejects: []string{"3:too long"}},
		{Name: "over at the end without a newline", In: "a,s\n" + under + "\n" + over, Limit: 8,
			Want: []string{`1|"abcde"`}, WantRejects: []string{"3:too long"}},
		{Name: "over across quoted line breaks", In: lines(under, "2,\"x\ny\nz\"", bad, at), Limit: 8,
			Want: []string{`1|"abcde"`, `1|"abcdef"`}, WantRejects: []string{"3:too long", "6:a"}},
		{Name: "unterminated quote over the limit at the end", In: "a,s\n" + under + "\n3,\"abc\nefgh", Limit: 8,
			Want: []string{`1|"abcde"`}, WantRejects: []string{"3:too long"}},
		{Name: "longer than a read: quoted line breaks", In: lines(under, "4,\""+big+"\"", bad, at), Limit: 8,
			Want: []string{`1|"abcde"`, `1|"abcdef"`}, WantRejects: []string{"3:too long", "200004:a"}},
		{Name: "longer than a read: doubled quotes", In: lines(under, "4,\""+strings.Repeat("a\"\"b\n", 100000)+"\"", bad), Limit: 8,
			Want: []string{`1|"abcde"`}, WantRejects: []string{"3:too long", "100004:a"}},
		{Name: "longer than a read: quotes inside unquoted text are literal", In: lines(under, "4,x\""+long, bad), Limit: 8,
			Want: []string{`1|"abcde"`}, WantRejects: []string{"3:too long", "4:a"}},
		{Name: "longer than a read: text and quotes after a closing quote", In: lines("5,\"q\"r\""+long, bad), Limit: 8,
			WantRejects: []string{"2:too long", "3:a"}},
		{Name: "longer than a read: unterminated quote at the end", In: "a,s\n" + under + "\n4,\"" + big, Limit: 8,
			Want: []string{`1|"abcde"`}, WantRejects: []string{"3:too long"}},
	}
	formattest.RecordLimit(t, csvFormat, schema, tests)
}

// TestRecordLimitHeader: a header over the limit fails the input, naming
// it; without the header no row can be read.
func TestRecordLimitHeader(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	_, _, _, err := formattest.ReadAll(t, csvFormat, mem, strings.NewReader("abc,defgh\n1,2\n"), format.ReadOptions{MaxRecordBytes: 8})
	if !errors.Is(err, format.ErrRecordTooLarge) || !strings.Contains(err.Error(), "in.csv:1: header") {
		t.Fatalf("err = %v, want the header of in.csv:1 too large", err)
	}
}

// TestRecordLimitInference: the inference sample ends before a record
// over the limit. With a header the columns are known (and typed by the
// rows before it, none here: utf8); without one and no row before it, the
// reader fails and says how to fix it.
func TestRecordLimitInference(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s, rows, rej, err := formattest.ReadAll(t, csvFormat, mem, strings.NewReader("a,b\n1,23456789\n2,3\n"), format.ReadOptions{MaxRecordBytes: 8})
	if err != nil || formattest.TypesOf(s) != "a:utf8,b:utf8" || !reflect.DeepEqual(rows, []string{`"2"|"3"`}) || len(rej) != 1 {
		t.Errorf("schema %v, rows %q, rejects %v, err %v; want utf8 columns, row 2,3 and one reject", s, rows, rej, err)
	}
	_, _, _, err = formattest.ReadAll(t, csvFormat, mem, strings.NewReader("1,23456789\n2,3\n"), format.ReadOptions{MaxRecordBytes: 8, NoHeader: true})
	if !errors.Is(err, format.ErrRecordTooLarge) || !strings.Contains(err.Error(), "in.csv:1: ") || !strings.Contains(err.Error(), "declare schema") {
		t.Errorf("err = %v, want line 1 too large and no row to infer from", err)
	}
}

// TestRecordLimitHugeLine streams 200 MB records between two rows with a
// 4 MiB limit: a plain line, a quoted field of line breaks and a quote that
// never closes (the rest of the input is then that record). Each is one
// reject naming line 3, with far less allocated than the record.
func TestRecordLimitHugeLine(t *testing.T) {
	tests := []struct {
		name     string
		head     string
		fill     byte
		tail     string
		want     []string
		limit    int
		maxAlloc uint64
	}{
		{"plain", "a\n1\n", 'x', "\n2\n", []string{"1", "2"}, 4 << 20, 32 << 20},
		{"quoted line breaks", "a\n1\n\"", '\n', "\"\n2\n", []string{"1", "2"}, 4 << 20, 32 << 20},
		{"unterminated quote", "a\n1\n\"", 'x', "\n2\n", []string{"1"}, 4 << 20, 32 << 20},
		// Doubling the buffer up to the limit allocates about three
		// limits; holding the record, over 400 MiB.
		{"plain, default limit", "a\n1\n", 'x', "\n2\n", []string{"1", "2"}, format.DefaultMaxRecordBytes, 4 * format.DefaultMaxRecordBytes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			formattest.HugeLine(t, csvFormat, tt.head, tt.fill, 200e6, tt.tail, tt.limit, 3, tt.want, tt.maxAlloc)
		})
	}
}

// TestRecordLimitCloseWhileSkipping: closing a reader that is skipping an
// endless record returns.
func TestRecordLimitCloseWhileSkipping(t *testing.T) {
	formattest.CloseWhileSkipping(t, csvFormat, "a\n1\n")
}
