package csv

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/formattest"
)

func TestRead(t *testing.T) {
	ts := func(u arrow.TimeUnit) arrow.DataType { return &arrow.TimestampType{Unit: u, TimeZone: "UTC"} }
	schema := func(fs ...arrow.Field) *arrow.Schema { return arrow.NewSchema(fs, nil) }
	f := func(name string, dt arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: dt, Nullable: true}
	}

	tests := []formattest.ReadCase{
		{
			Name:      "inference",
			In:        "i,f,b,s,t,n\n1,1.5,true,x,2020-01-02T03:04:05Z,\n-2,2,FALSE,y,2021-06-07T08:09:10.5+02:00,\n",
			WantTypes: "i:int64,f:float64,b:bool,s:utf8,t:timestamp[us, tz=UTC],n:utf8",
			Want: []string{
				`1|1.5|true|"x"|2020-01-02 03:04:05Z|null`,
				`-2|2|false|"y"|2021-06-07 06:09:10.5Z|null`,
			},
		},
		{
			Name:      "conflicts fall back to utf8, ints and floats widen",
			In:        "a,b,c,d\n1,1,true,2020-01-01T00:00:00Z\nx,2.5,1,2020-01-01\n",
			WantTypes: "a:utf8,b:float64,c:utf8,d:utf8",
			Want:      []string{`"1"|1|"true"|"2020-01-01T00:00:00Z"`, `"x"|2.5|"1"|"2020-01-01"`},
		},
		{
			Name:      "big unsigned, and with a negative it widens to decimal128(38,0), never float64",
			In:        "u,m\n18446744073709551615,18446744073709551615\n0,-1\n",
			WantTypes: "u:uint64,m:decimal(38, 0)",
			Want:      []string{`18446744073709551615|18446744073709551615`, `0|-1`},
		},
		{
			// Issue 10: ids beyond uint64 were float64, 9223372036854775807
			// read back as 9223372036854775808.
			Name: "integers beyond uint64 are decimal128(38,0), beyond 38 digits utf8; with fractions exact or utf8",
			In: "big,neg,huge,maxf,smallf\n" +
				"18446744073709551616,-9223372036854775809,123456789012345678901234567890123456789,9223372036854775807,9007199254740992\n" +
				"99999999999999999999999999999999999999,1,-1,1.5,0.5\n",
			WantTypes: "big:decimal(38, 0),neg:decimal(38, 0),huge:utf8,maxf:utf8,smallf:float64",
			Want: []string{
				`18446744073709551616|-9223372036854775809|"123456789012345678901234567890123456789"|"9223372036854775807"|9.007199254740992e+15`,
				`99999999999999999999999999999999999999|1|"-1"|"1.5"|0.5`,
			},
		},
		{
			Name:      "nanosecond fractions infer timestamp[ns]",
			In:        "t\n2020-01-01T00:00:00.123456789Z\n",
			WantTypes: "t:timestamp[ns, tz=UTC]",
			Want:      []string{`2020-01-01 00:00:00.123456789Z`},
		},
		{
			Name: "quoting: delimiters, doubled quotes, newlines; later line numbers stay right",
			In:   "id,s\n1,\"a,b\"\n2,\"say \"\"hi\"\"\"\n3,\"two\nlines\r\nthree\"\n4,x,extra\n5,ok\n",
			Want: []string{`1|"a,b"`, `2|"say \"hi\""`, `3|"two\nlines\r\nthree"`, `5|"ok"`},
			// Row 3 spans lines 4-6, so the bad row 4 is on line 7.
			WantRejects: []string{"7:"},
		},
		{
			Name: "CRLF and a BOM",
			In:   "\ufeffa,b\r\n1,x\r\n2,\"y\"\r\n",
			Want: []string{`1|"x"`, `2|"y"`}, WantTypes: "a:int64,b:utf8",
		},
		{
			Name: "last row without a newline",
			In:   "a\n1\n2",
			Want: []string{"1", "2"},
		},
		{
			Name:      "no header",
			In:        "1,x\n2,y\n",
			Opts:      format.ReadOptions{NoHeader: true},
			WantTypes: "f0:int64,f1:utf8",
			Want:      []string{`1|"x"`, `2|"y"`},
		},
		{
			Name:      "semicolon delimiter",
			In:        "a;b\n1,5;\"x;y\"\n",
			Opts:      format.ReadOptions{Delimiter: ';'},
			WantTypes: "a:utf8,b:utf8",
			Want:      []string{`"1,5"|"x;y"`},
		},
		{
			Name: "tab delimiter",
			In:   "a\tb\n1\tx y\n",
			Opts: format.ReadOptions{Delimiter: '\t'},
			Want: []string{`1|"x y"`},
		},
		{
			Name: "empty cells: null unless quoted for strings",
			In:   "i,s\n,\n1,\"\"\n",
			Want: []string{`null|null`, `1|""`},
		},
		{
			Name: "NullValues without the empty string: empty string cells are values",
			In:   "i,s\nNA,\n1,NA\n2,\"NA\"\n",
			Opts: format.ReadOptions{NullValues: []string{"NA"}},
			Want: []string{`null|""`, `1|null`, `2|"NA"`},
		},
		{
			Name: "blank lines are skipped",
			In:   "a,b\n\n1,2\n\r\n3,4\n",
			Want: []string{"1|2", "3|4"},
		},
		{
			Name: "with one column a blank line is a null",
			In:   "a\n1\n\n3\n",
			Want: []string{"1", "null", "3"},
		},
		{
			Name:        "field counts",
			In:          "a,b\n1\n1,2,3\n1,2\n\"1\",\"2\",\"3\"\n",
			Want:        []string{"1|2"},
			WantRejects: []string{"2:", "3:", "5:"},
		},
		{
			// Issue 10: the quote used to take every line after it along.
			Name:        "unterminated quote at EOF: only its line is rejected, the lines after it are read",
			In:          "a,b\n1,2\n3,\"open\nstill open\n4,5\n",
			Want:        []string{`1|2`, `4|5`},
			WantRejects: []string{"3:", "4:"},
			WantTypes:   "a:int64,b:int64", // the broken row is not sampled
		},
		{
			Name:        "text after a closing quote",
			In:          "a,b\n1,\"x\"y\n2,z\n",
			Want:        []string{`2|"z"`},
			WantRejects: []string{"2:b"},
		},
		{
			Name:        "invalid UTF-8 in a string column",
			In:          "a,b\n1,\xff\n2,ok\n",
			Want:        []string{`2|"ok"`},
			WantRejects: []string{"2:b"},
		},
		{
			Name: "explicit schema: every supported type",
			In: "b,i8,u8,f32,d,ts,tms,dec,bin,ls,u64\n" +
				"true,-128,255,1.5,2020-02-29,2020-01-02 03:04:05,2020-01-02T03:04:05.123Z,-12.3,aGk=,x,18446744073709551615\n" +
				",,,,,,,,,,\n",
			Opts: format.ReadOptions{Schema: schema(
				f("b", arrow.FixedWidthTypes.Boolean), f("i8", arrow.PrimitiveTypes.Int8),
				f("u8", arrow.PrimitiveTypes.Uint8), f("f32", arrow.PrimitiveTypes.Float32),
				f("d", arrow.FixedWidthTypes.Date32), f("ts", ts(arrow.Second)),
				f("tms", ts(arrow.Millisecond)), f("dec", &arrow.Decimal128Type{Precision: 5, Scale: 2}),
				f("bin", arrow.BinaryTypes.Binary), f("ls", arrow.BinaryTypes.LargeString),
				f("u64", arrow.PrimitiveTypes.Uint64))},
			Want: []string{
				`true|-128|255|1.5|2020-02-29|2020-01-02 03:04:05Z|2020-01-02 03:04:05.123Z|-12.3|aGk=|"x"|18446744073709551615`,
				`null|null|null|null|null|null|null|null|null|null|null`,
			},
		},
		{
			Name: "explicit schema: values that do not fit are rejected, not altered",
			In:   "i8,u8,d,ts,dec\n128,0,2020-01-01,2020-01-01T00:00:00Z,1\n0,-1,2020-01-01,2020-01-01T00:00:00Z,1\n0,0,2021-02-29,2020-01-01T00:00:00Z,1\n0,0,2020-01-01,2020-01-01T00:00:00.5Z,1\n0,0,2020-01-01,2020-01-01T00:00:00Z,1.234\n0,0,2020-01-01,2020-01-01T00:00:00Z,1000\n0,0,2020-01-01,2020-01-01T00:00:00Z,-999.99\n",
			Opts: format.ReadOptions{Schema: schema(
				f("i8", arrow.PrimitiveTypes.Int8), f("u8", arrow.PrimitiveTypes.Uint8),
				f("d", arrow.FixedWidthTypes.Date32), f("ts", ts(arrow.Second)),
				f("dec", &arrow.Decimal128Type{Precision: 5, Scale: 2}))},
			Want:        []string{`0|0|2020-01-01|2020-01-01 00:00:00Z|-999.99`},
			WantRejects: []string{"2:i8", "3:u8", "4:d", "5:ts", "6:dec", "7:dec"},
		},
		{
			Name: "explicit schema is matched to the header by name",
			In:   "extra,b,a\nzz,2,1\n",
			Opts: format.ReadOptions{Schema: schema(f("a", arrow.PrimitiveTypes.Int64), f("b", arrow.BinaryTypes.String))},
			Want: []string{`1|"2"`},
		},
		{
			Name: "empty input",
			In:   "",
			Want: nil, WantTypes: "",
		},
		{
			Name:      "header only",
			In:        "a,b\n",
			WantTypes: "a:utf8,b:utf8",
		},
	}
	formattest.ReadCases(t, csvFormat, tests)
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
