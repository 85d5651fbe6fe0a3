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
			name:      "inference",
			in:        "i,f,b,s,t,n\n1,1.5,true,x,2020-01-02T03:04:05Z,\n-2,2,FALSE,y,2021-06-07T08:09:10.5+02:00,\n",
			wantTypes: "i:int64,f:float64,b:bool,s:utf8,t:timestamp[us, tz=UTC],n:utf8",
			want: []string{
				`1|1.5|true|"x"|2020-01-02 03:04:05Z|null`,
				`-2|2|false|"y"|2021-06-07 06:09:10.5Z|null`,
			},
		},
		{
			name:      "conflicts fall back to utf8, ints and floats widen",
			in:        "a,b,c,d\n1,1,true,2020-01-01T00:00:00Z\nx,2.5,1,2020-01-01\n",
			wantTypes: "a:utf8,b:float64,c:utf8,d:utf8",
			want:      []string{`"1"|1|"true"|"2020-01-01T00:00:00Z"`, `"x"|2.5|"1"|"2020-01-01"`},
		},
		{
			name:      "big unsigned, and with a negative it widens to float64",
			in:        "u,m\n18446744073709551615,18446744073709551615\n0,-1\n",
			wantTypes: "u:uint64,m:float64",
			want:      []string{`18446744073709551615|1.8446744073709552e+19`, `0|-1`},
		},
		{
			name:      "nanosecond fractions infer timestamp[ns]",
			in:        "t\n2020-01-01T00:00:00.123456789Z\n",
			wantTypes: "t:timestamp[ns, tz=UTC]",
			want:      []string{`2020-01-01 00:00:00.123456789Z`},
		},
		{
			name: "quoting: delimiters, doubled quotes, newlines; later line numbers stay right",
			in:   "id,s\n1,\"a,b\"\n2,\"say \"\"hi\"\"\"\n3,\"two\nlines\r\nthree\"\n4,x,extra\n5,ok\n",
			want: []string{`1|"a,b"`, `2|"say \"hi\""`, `3|"two\nlines\r\nthree"`, `5|"ok"`},
			// Row 3 spans lines 4-6, so the bad row 4 is on line 7.
			wantRejects: []string{"7:"},
		},
		{
			name: "CRLF and a BOM",
			in:   "\ufeffa,b\r\n1,x\r\n2,\"y\"\r\n",
			want: []string{`1|"x"`, `2|"y"`}, wantTypes: "a:int64,b:utf8",
		},
		{
			name: "last row without a newline",
			in:   "a\n1\n2",
			want: []string{"1", "2"},
		},
		{
			name:      "no header",
			in:        "1,x\n2,y\n",
			opts:      format.ReadOptions{NoHeader: true},
			wantTypes: "f0:int64,f1:utf8",
			want:      []string{`1|"x"`, `2|"y"`},
		},
		{
			name:      "semicolon delimiter",
			in:        "a;b\n1,5;\"x;y\"\n",
			opts:      format.ReadOptions{Delimiter: ';'},
			wantTypes: "a:utf8,b:utf8",
			want:      []string{`"1,5"|"x;y"`},
		},
		{
			name: "tab delimiter",
			in:   "a\tb\n1\tx y\n",
			opts: format.ReadOptions{Delimiter: '\t'},
			want: []string{`1|"x y"`},
		},
		{
			name: "empty cells: null unless quoted for strings",
			in:   "i,s\n,\n1,\"\"\n",
			want: []string{`null|null`, `1|""`},
		},
		{
			name: "NullValues without the empty string: empty string cells are values",
			in:   "i,s\nNA,\n1,NA\n2,\"NA\"\n",
			opts: format.ReadOptions{NullValues: []string{"NA"}},
			want: []string{`null|""`, `1|null`, `2|"NA"`},
		},
		{
			name: "blank lines are skipped",
			in:   "a,b\n\n1,2\n\r\n3,4\n",
			want: []string{"1|2", "3|4"},
		},
		{
			name: "with one column a blank line is a null",
			in:   "a\n1\n\n3\n",
			want: []string{"1", "null", "3"},
		},
		{
			name:        "field counts",
			in:          "a,b\n1\n1,2,3\n1,2\n\"1\",\"2\",\"3\"\n",
			want:        []string{"1|2"},
			wantRejects: []string{"2:", "3:", "5:"},
		},
		{
			name:        "unterminated quote at EOF is rejected from its first line",
			in:          "a,b\n1,2\n3,\"open\nstill open\n",
			want:        []string{`1|2`},
			wantRejects: []string{"3:"},
			wantTypes:   "a:int64,b:int64", // the broken row is not sampled
		},
		{
			name:        "text after a closing quote",
			in:          "a,b\n1,\"x\"y\n2,z\n",
			want:        []string{`2|"z"`},
			wantRejects: []string{"2:b"},
		},
		{
			name:        "invalid UTF-8 in a string column",
			in:          "a,b\n1,\xff\n2,ok\n",
			want:        []string{`2|"ok"`},
			wantRejects: []string{"2:b"},
		},
		{
			name: "explicit schema: every supported type",
			in: "b,i8,u8,f32,d,ts,tms,dec,bin,ls,u64\n" +
				"true,-128,255,1.5,2020-02-29,2020-01-02 03:04:05,2020-01-02T03:04:05.123Z,-12.3,aGk=,x,18446744073709551615\n" +
				",,,,,,,,,,\n",
			opts: format.ReadOptions{Schema: schema(
				f("b", arrow.FixedWidthTypes.Boolean), f("i8", arrow.PrimitiveTypes.Int8),
				f("u8", arrow.PrimitiveTypes.Uint8), f("f32", arrow.PrimitiveTypes.Float32),
				f("d", arrow.FixedWidthTypes.Date32), f("ts", ts(arrow.Second)),
				f("tms", ts(arrow.Millisecond)), f("dec", &arrow.Decimal128Type{Precision: 5, Scale: 2}),
				f("bin", arrow.BinaryTypes.Binary), f("ls", arrow.BinaryTypes.LargeString),
				f("u64", arrow.PrimitiveTypes.Uint64))},
			want: []string{
				`true|-128|255|1.5|2020-02-29|2020-01-02 03:04:05Z|2020-01-02 03:04:05.123Z|-12.3|aGk=|"x"|18446744073709551615`,
				`null|null|null|null|null|null|null|null|null|null|null`,
			},
		},
		{
			name: "explicit schema: values that do not fit are rejected, not altered",
			in:   "i8,u8,d,ts,dec\n128,0,2020-01-01,2020-01-01T00:00:00Z,1\n0,-1,2020-01-01,2020-01-01T00:00:00Z,1\n0,0,2021-02-29,2020-01-01T00:00:00Z,1\n0,0,2020-01-01,2020-01-01T00:00:00.5Z,1\n0,0,2020-01-01,2020-01-01T00:00:00Z,1.234\n0,0,2020-01-01,2020-01-01T00:00:00Z,1000\n0,0,2020-01-01,2020-01-01T00:00:00Z,-999.99\n",
			opts: format.ReadOptions{Schema: schema(
				f("i8", arrow.PrimitiveTypes.Int8), f("u8", arrow.PrimitiveTypes.Uint8),
				f("d", arrow.FixedWidthTypes.Date32), f("ts", ts(arrow.Second)),
				f("dec", &arrow.Decimal128Type{Precision: 5, Scale: 2}))},
			want:        []string{`0|0|2020-01-01|2020-01-01 00:00:00Z|-999.99`},
			wantRejects: []string{"2:i8", "3:u8", "4:d", "5:ts", "6:dec", "7:dec"},
		},
		{
			name: "explicit schema is matched to the header by name",
			in:   "extra,b,a\nzz,2,1\n",
			opts: format.ReadOptions{Schema: schema(f("a", arrow.PrimitiveTypes.Int64), f("b", arrow.BinaryTypes.String))},
			want: []string{`1|"2"`},
		},
		{
			name: "empty input",
			in:   "",
			want: nil, wantTypes: "",
		},
		{
			name:      "header only",
			in:        "a,b\n",
			wantTypes: "a:utf8,b:utf8",
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
				s, rows, rej, err := formattest.ReadAll(t, csvFormat, mem, strings.NewReader(tt.in), opts)
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
					if !errors.Is(e.Err, format.ErrMalformed) || e.File != "in.csv" || len(e.Raw) == 0 {
						t.Errorf("reject %v: want ErrMalformed, file in.csv and the raw row", &e)
					}
				}
			}
		})
	}
}

func TestReadOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts format.ReadOptions
		want string
	}{
		{"schema column missing from header", "a,b\n1,2\n", format.ReadOptions{Schema: arrow.NewSchema([]arrow.Field{{Name: "c", Type: arrow.PrimitiveTypes.Int64}}, nil)}, `schema columns ["c"] are not in the header`},
		{"nested type", "a\n1\n", format.ReadOptions{Schema: arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)}}, nil)}, "not supported"},
		{"quote delimiter", "a\n", format.ReadOptions{Delimiter: '"'}, "delimiter"},
		{"broken header", "\"a,b\n", format.ReadOptions{}, "in.csv:1: header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(format.Input{R: strings.NewReader(tt.in), Name: "in.csv"}, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
