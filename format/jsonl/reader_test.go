package jsonl

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

func TestRead(t *testing.T) {
	ts := func(u arrow.TimeUnit) arrow.DataType { return &arrow.TimestampType{Unit: u, TimeZone: "UTC"} }
	schema := func(fs ...arrow.Field) *arrow.Schema { return arrow.NewSchema(fs, nil) }
	f := func(name string, dt arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: dt, Nullable: true}
	}

	tests := []struct {
		name        string
		in          string
		opts        format.ReadOptions
		wantTypes   string // "" skips the check
		want        []string
		wantRejects []string // "line:column"
	}{
		{
			name:      "flat inference, first-seen key order, missing keys are null",
			in:        `{"i":1,"f":1.5,"b":true,"s":"x","t":"2020-01-02T03:04:05Z"}` + "\n" + `{"n":null,"s":"y","i":-2,"f":2}` + "\n",
			wantTypes: "i:int64,f:float64,b:bool,s:utf8,t:timestamp[us, tz=UTC],n:utf8",
			want:      []string{`1|1.5|true|"x"|2020-01-02 03:04:05Z|null`, `-2|2|null|"y"|null|null`},
		},
		{
			name:      "conflicts become utf8 holding the JSON text",
			in:        `{"a":1,"b":"x","c":{"k":1}}` + "\n" + `{"a":"one","b":2.5,"c":[1]}` + "\n",
			wantTypes: "a:utf8,b:utf8,c:utf8",
			want:      []string{`"1"|"x"|"{\"k\":1}"`, `"one"|"2.5"|"[1]"`},
		},
		{
			name:      "numbers widen: big unsigned, then float64",
			in:        `{"u":18446744073709551615,"m":18446744073709551615,"x":1e400,"i":1}` + "\n" + `{"u":0,"m":-1,"x":1,"i":2.5}` + "\n",
			wantTypes: "u:uint64,m:float64,x:float64,i:float64",
			want:      []string{`0|-1|1|2.5`},
			// 1e400 is a float64 in the sample but does not fit one.
			wantRejects: []string{"1:x"},
		},
		{
			name:      "nested objects and arrays",
			in:        `{"o":{"a":1,"b":["x","y"]},"l":[1,2,null]}` + "\n" + `{"o":{"b":[]},"l":null}` + "\n" + `{"o":null,"l":[]}` + "\n",
			wantTypes: "o:struct<a: int64, b: list<item: utf8, nullable>>,l:list<item: int64, nullable>",
			want:      []string{`{"a":1,"b":["x","y"]}|[1,2,null]`, `{"a":null,"b":[]}|null`, `null|[]`},
		},
		{
			name: "string escapes and non-ASCII",
			in:   `{"s":"a\"b\\c\/d\n\t\u00e9\ud83d\ude00 ✓"}` + "\n" + `{"s":"lone \ud800 surrogate"}` + "\n",
			want: []string{`"a\"b\\c/d\n\té😀 ✓"`, `"lone � surrogate"`},
		},
		{
			name: "escaped keys, whitespace, CRLF, BOM and blank lines",
			in:   "\ufeff { \"k\\u0065y\" : 1 , \"v\" : [ 1 , 2 ] } \r\n\n   \n{\"key\":2,\"v\":[]}\r\n",
			want: []string{"1|[1,2]", "2|[]"}, wantTypes: "key:int64,v:list<item: int64, nullable>",
		},
		{
			name: "last line without a newline",
			in:   "{\"a\":1}\n{\"a\":2}",
			want: []string{"1", "2"},
		},
		{
			name:        "bad lines are rejected with their line numbers",
			in:          "{\"a\":1}\n[1,2]\n{\"a\":2,}\n\n{\"a\":3} x\n\"str\"\n{\"a\":4,\"a\":5}\n{\"a\":\"x\" \"b\"}\n{\"a\":6}\n",
			opts:        format.ReadOptions{Schema: schema(f("a", arrow.PrimitiveTypes.Int64))},
			want:        []string{"1", "6"},
			wantRejects: []string{"2:", "3:", "5:", "6:", "7:a", "8:a"},
		},
		{
			name:        "type errors name the column, nested ones with their path",
			in:          "{\"i\":1.5}\n{\"i\":\"1\"}\n{\"o\":{\"x\":\"no\"}}\n{\"l\":[1,\"two\"]}\n{\"i\":9223372036854775808}\n{\"i\":7,\"o\":{\"x\":8},\"l\":[9]}\n",
			opts:        format.ReadOptions{Schema: schema(f("i", arrow.PrimitiveTypes.Int64), f("o", arrow.StructOf(f("x", arrow.PrimitiveTypes.Int64))), f("l", arrow.ListOf(arrow.PrimitiveTypes.Int64)))},
			want:        []string{`7|{"x":8}|[9]`},
			wantRejects: []string{"1:i", "2:i", "3:o.x", "4:l", "5:i"},
		},
		{
			name: "explicit schema: unknown keys are ignored, every supported type",
			in: `{"zz":{"deep":[1,{"x":null}]},"b":true,"i8":-128,"u8":255,"f32":1.5,"d":"2020-02-29","ts":"2020-01-02 03:04:05",` +
				`"tms":"2020-01-02T03:04:05.123Z","dec":"-12.3","dec2":4.5,"bin":"aGk=","ls":"x","u64":18446744073709551615}` + "\n" +
				`{}` + "\n",
			opts: format.ReadOptions{Schema: schema(
				f("b", arrow.FixedWidthTypes.Boolean), f("i8", arrow.PrimitiveTypes.Int8),
				f("u8", arrow.PrimitiveTypes.Uint8), f("f32", arrow.PrimitiveTypes.Float32),
				f("d", arrow.FixedWidthTypes.Date32), f("ts", ts(arrow.Second)),
				f("tms", ts(arrow.Millisecond)), f("dec", &arrow.Decimal128Type{Precision: 5, Scale: 2}),
				f("dec2", &arrow.Decimal128Type{Precision: 5, Scale: 2}),
				f("bin", arrow.BinaryTypes.Binary), f("ls", arrow.BinaryTypes.LargeString),
				f("u64", arrow.PrimitiveTypes.Uint64))},
			want: []string{
				`true|-128|255|1.5|2020-02-29|2020-01-02 03:04:05Z|2020-01-02 03:04:05.123Z|-12.3|4.5|aGk=|"x"|18446744073709551615`,
				`null|null|null|null|null|null|null|null|null|null|null|null`,
			},
		},
		{
			name: "explicit schema: values that do not fit are rejected, not altered",
			in:   "{\"i8\":128}\n{\"u8\":-1}\n{\"d\":\"2021-02-29\"}\n{\"ts\":\"2020-01-01T00:00:00.5Z\"}\n{\"dec\":\"1.234\"}\n{\"dec\":1e2}\n{\"bin\":\"not base64!\"}\n{\"i8\":1}\n",
			opts: format.ReadOptions{Schema: schema(
				f("i8", arrow.PrimitiveTypes.Int8), f("u8", arrow.PrimitiveTypes.Uint8),
				f("d", arrow.FixedWidthTypes.Date32), f("ts", ts(arrow.Second)),
				f("dec", &arrow.Decimal128Type{Precision: 5, Scale: 2}), f("bin", arrow.BinaryTypes.Binary))},
			want:        []string{`1|null|null|null|null|null`},
			wantRejects: []string{"1:i8", "2:u8", "3:d", "4:ts", "5:dec", "6:dec", "7:bin"},
		},
		{
			name:        "invalid UTF-8 in a string",
			in:          "{\"s\":\"ok\"}\n{\"s\":\"\xff\"}\n",
			want:        []string{`"ok"`},
			wantRejects: []string{"2:s"},
		},
		{
			name: "empty input",
			in:   "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			for _, workers := range []int{1, 3} {
				opts := tt.opts
				opts.Workers = workers
				opts.BatchRows = 2 // many chunks, so every case also runs across chunk boundaries
				s, rows, rej, err := formattest.ReadAll(t, jsonlFormat, mem, strings.NewReader(tt.in), opts)
				if err != nil {
					t.Fatalf("workers=%d: %v", workers, err)
				}
				if tt.wantTypes != "" && formattest.TypesOf(s) != tt.wantTypes {
					t.Errorf("types = %s, want %s", formattest.TypesOf(s), tt.wantTypes)
				}
				if !reflect.DeepEqual(rows, tt.want) {
					t.Errorf("workers=%d rows:\n got %q\nwant %q", workers, rows, tt.want)
				}
				if got := formattest.RejectsOf(rej); !reflect.DeepEqual(got, tt.wantRejects) {
					t.Errorf("workers=%d rejects = %q, want %q (%v)", workers, got, tt.wantRejects, rej)
				}
				for _, e := range rej {
					if !errors.Is(e.Err, format.ErrMalformed) || e.File != "in.jsonl" || len(e.Raw) == 0 {
						t.Errorf("reject %v: want ErrMalformed, file in.jsonl and the raw row", &e)
					}
				}
			}
		})
	}
}

func TestReadOptionErrors(t *testing.T) {
	dict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	_, err := NewReader(format.Input{R: strings.NewReader("{}"), Name: "in.jsonl"},
		format.ReadOptions{Schema: arrow.NewSchema([]arrow.Field{{Name: "d", Type: dict}}, nil)})
	if err == nil || !strings.Contains(err.Error(), `column "d"`) || !errors.Is(err, ErrOptions) {
		t.Fatalf("err = %v, want an ErrOptions naming column d", err)
	}
}
