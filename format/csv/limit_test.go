package csv

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

// TestRecordLimit: with a limit of 8 bytes, "1,abcde" (7) and "1,abcdef"
// (8, also before "\r\n") are rows and "1,abcdefg" (9) is skipped as one
// reject, wherever it stands. A record is counted with the line breaks of
// its quoted fields; one longer than a read (the pipeline reads 256 KiB at a
// time) is skipped without holding it, to the first newline at or after the
// limit, and the lines after it keep their numbers. A quoted field with a
// line break that is open at the limit, runs past 3 line breaks (the bound
// these cases read with), closes before text or never closes is a stray
// quote: its record is rejected to the end of the line it opened on, and
// the next line is read (issue 10).
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
		{Name: "quoted line breaks open at the limit: cut at the quote's line", In: lines(under, "2,\"x\ny\nz\"", bad, at), Limit: 8,
			Want: []string{`1|"abcde"`, `1|"abcdef"`}, WantRejects: []string{"3:quote", "4:", "5:a", "6:a"}},
		{Name: "unterminated quote over the limit at the end", In: "a,s\n" + under + "\n3,\"abc\nefgh", Limit: 8,
			Want: []string{`1|"abcde"`}, WantRejects: []string{"3:quote", "4:"}},
		{Name: "longer than a read: a quoted field without line breaks", In: lines(under, "4,\""+long+"\"", bad, at), Limit: 8,
			Want: []string{`1|"abcde"`, `1|"abcdef"`}, WantRejects: []string{"3:too long", "4:a"}},
		{Name: "longer than a read: doubled quotes", In: lines(under, "4,\""+strings.Repeat("a\"\"b", 100000)+"\"", bad), Limit: 8,
			Want: []string{`1|"abcde"`}, WantRejects: []string{"3:too long", "4:a"}},
		{Name: "longer than a read: the first newline past the limit ends it, in quotes too", In: lines(under, "4,\""+long+"\nb\"", bad), Limit: 8,
			Want: []string{`1|"abcde"`}, WantRejects: []string{"3:too long", "4:a", "5:a"}},
		{Name: "longer than a read: quotes inside unquoted text are literal", In: lines(under, "4,x\""+long, bad), Limit: 8,
			Want: []string{`1|"abcde"`}, WantRejects: []string{"3:too long", "4:a"}},
		{Name: "longer than a read: text and quotes after a closing quote", In: lines("5,\"q\"r\""+long, bad), Limit: 8,
			WantRejects: []string{"2:too long", "3:a"}},
		{Name: "longer than a read: unterminated quote at the end", In: "a,s\n" + under + "\n4,\"" + long, Limit: 8,
			Want: []string{`1|"abcde"`}, WantRejects: []string{"3:too long"}},
		{Name: "stray quote to the end of the input", In: lines("1,a", "2,\"b", "3,c", "4,d"), Limit: 1000,
			Want: []string{`1|"a"`, `3|"c"`, `4|"d"`}, WantRejects: []string{"3:quote"}},
		{Name: "stray quote closed by the next field's opening quote", In: lines("1,a", "2,\"b", "3,c", "4,\"d, e\"", "5,f"), Limit: 1000,
			Want: []string{`1|"a"`, `3|"c"`, `4|"d, e"`, `5|"f"`}, WantRejects: []string{"3:quote"}},
		{Name: "stray quote past 3 line breaks", In: lines("1,a", "2,\"b", "3,c", "4,d", "5,e", "6,f", "7,\"\"\"g\"\"\""), Limit: 1000,
			Want: []string{`1|"a"`, `3|"c"`, `4|"d"`, `5|"e"`, `6|"f"`, `7|"\"g\""`}, WantRejects: []string{"3:quote"}},
		{Name: "3 line breaks in quotes are a field", In: lines("1,\"a\nb\nc\nd\"", "2,x"), Limit: 1000,
			Want: []string{`1|"a\nb\nc\nd"`, `2|"x"`}},
		{Name: "CRLF after a quote that closes on a later line", In: "a,s\r\n1,\"a\r\nb\"\r\n2,\"c\nd\"\r\n", Limit: 1000,
			Want: []string{`1|"a\r\nb"`, `2|"c\nd"`}},
	}
	formattest.RecordLimitKinds(t, linesFormat(3), schema, tests, map[string]error{"quote": errStrayQuote})
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
// 4 MiB limit: a plain line, a quoted field and a quote that never closes
// (the record then ends at the first newline). Each is one reject naming
// line 3, with far less allocated than the record.
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
		{"quoted", "a\n1\n\"", 'x', "\"\n2\n", []string{"1", "2"}, 4 << 20, 32 << 20},
		// The first newline past the limit ends it, so 2 is read.
		{"unterminated quote", "a\n1\n\"", 'x', "\n2\n", []string{"1", "2"}, 4 << 20, 32 << 20},
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
