package jsonl

import (
	"errors"
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
			Name:      "flat inference, first-seen key order, missing keys are null",
			In:        `{"i":1,"f":1.5,"b":true,"s":"x","t":"2020-01-02T03:04:05Z"}` + "\n" + `{"n":null,"s":"y","i":-2,"f":2}` + "\n",
			WantTypes: "i:int64,f:float64,b:bool,s:utf8,t:timestamp[us, tz=UTC],n:utf8",
			Want:      []string{`1|1.5|true|"x"|2020-01-02 03:04:05Z|null`, `-2|2|null|"y"|null|null`},
		},
		{
			Name:      "conflicts become utf8 holding the JSON text",
			In:        `{"a":1,"b":"x","c":{"k":1}}` + "\n" + `{"a":"one","b":2.5,"c":[1]}` + "\n",
			WantTypes: "a:utf8,b:utf8,c:utf8",
			Want:      []string{`"1"|"x"|"{\"k\":1}"`, `"one"|"2.5"|"[1]"`},
		},
		{
			Name:      "numbers widen: big unsigned, then decimal128(38,0), never float64 for an integer",
			In:        `{"u":18446744073709551615,"m":18446744073709551615,"x":1e400,"i":1}` + "\n" + `{"u":0,"m":-1,"x":1,"i":2.5}` + "\n",
			WantTypes: "u:uint64,m:decimal(38, 0),x:float64,i:float64",
			Want:      []string{`0|-1|1|2.5`},
			// 1e400 is a float64 in the sample but does not fit one.
			WantRejects: []string{"1:x"},
		},
		{
			// Issue 10: ids beyond uint64 were float64, 9223372036854775807
			// read back as 9223372036854775808.
			Name: "integers beyond uint64 are decimal128(38,0), beyond 38 digits utf8; with fractions exact or utf8",
			In: `{"big":18446744073709551616,"neg":-9223372036854775809,"huge":123456789012345678901234567890123456789,"maxf":9223372036854775807,"smallf":9007199254740992}` + "\n" +
				`{"big":99999999999999999999999999999999999999,"neg":1,"huge":-1,"maxf":1.5,"smallf":0.5}` + "\n",
			WantTypes: "big:decimal(38, 0),neg:decimal(38, 0),huge:utf8,maxf:utf8,smallf:float64",
			Want: []string{
				`18446744073709551616|-9223372036854775809|"123456789012345678901234567890123456789"|"9223372036854775807"|9.007199254740992e+15`,
				`99999999999999999999999999999999999999|1|"-1"|"1.5"|0.5`,
			},
		},
		{
			Name:      "nested objects and arrays",
			In:        `{"o":{"a":1,"b":["x","y"]},"l":[1,2,null]}` + "\n" + `{"o":{"b":[]},"l":null}` + "\n" + `{"o":null,"l":[]}` + "\n",
			WantTypes: "o:struct<a: int64 nullable, b: list<item: utf8, nullable> nullable>,l:list<item: int64, nullable>",
			Want:      []string{`{"a":1,"b":["x","y"]}|[1,2,null]`, `{"a":null,"b":[]}|null`, `null|[]`},
		},
		{
			Name: "string escapes and non-ASCII",
			In:   `{"s":"a\"b\\c\/d\n\t\u00e9\ud83d\ude00 ✓"}` + "\n" + `{"s":"lone \ud800 surrogate"}` + "\n",
			Want: []string{`"a\"b\\c/d\n\té😀 ✓"`, `"lone � surrogate"`},
		},
		{
			Name: "escaped keys, whitespace, CRLF, BOM and blank lines",
			In:   "\ufeff { \"k\\u0065y\" : 1 , \"v\" : [ 1 , 2 ] } \r\n\n   \n{\"key\":2,\"v\":[]}\r\n",
			Want: []string{"1|[1,2]", "2|[]"}, WantTypes: "key:int64,v:list<item: int64, nullable>",
		},
		{
			Name: "last line without a newline",
			In:   "{\"a\":1}\n{\"a\":2}",
			Want: []string{"1", "2"},
		},
		{
			Name:        "bad lines are rejected with their line numbers",
			In:          "{\"a\":1}\n[1,2]\n{\"a\":2,}\n\n{\"a\":3} x\n\"str\"\n{\"a\":4,\"a\":5}\n{\"a\":\"x\" \"b\"}\n{\"a\":6}\n",
			Opts:        format.ReadOptions{Schema: schema(f("a", arrow.PrimitiveTypes.Int64))},
			Want:        []string{"1", "6"},
			WantRejects: []string{"2:", "3:", "5:", "6:", "7:a", "8:a"},
		},
		{
			Name:        "type errors name the column, nested ones with their path",
			In:          "{\"i\":1.5}\n{\"i\":\"1\"}\n{\"o\":{\"x\":\"no\"}}\n{\"l\":[1,\"two\"]}\n{\"i\":9223372036854775808}\n{\"i\":7,\"o\":{\"x\":8},\"l\":[9]}\n",
			Opts:        format.ReadOptions{Schema: schema(f("i", arrow.PrimitiveTypes.Int64), f("o", arrow.StructOf(f("x", arrow.PrimitiveTypes.Int64))), f("l", arrow.ListOf(arrow.PrimitiveTypes.Int64)))},
			Want:        []string{`7|{"x":8}|[9]`},
			WantRejects: []string{"1:i", "2:i", "3:o.x", "4:l", "5:i"},
		},
		{
			Name: "explicit schema: unknown keys are ignored, every supported type",
			In: `{"zz":{"deep":[1,{"x":null}]},"b":true,"i8":-128,"u8":255,"f32":1.5,"d":"2020-02-29","ts":"2020-01-02 03:04:05",` +
				`"tms":"2020-01-02T03:04:05.123Z","dec":"-12.3","dec2":4.5,"bin":"aGk=","ls":"x","u64":18446744073709551615}` + "\n" +
				`{}` + "\n",
			Opts: format.ReadOptions{Schema: schema(
				f("b", arrow.FixedWidthTypes.Boolean), f("i8", arrow.PrimitiveTypes.Int8),
				f("u8", arrow.PrimitiveTypes.Uint8), f("f32", arrow.PrimitiveTypes.Float32),
				f("d", arrow.FixedWidthTypes.Date32), f("ts", ts(arrow.Second)),
				f("tms", ts(arrow.Millisecond)), f("dec", &arrow.Decimal128Type{Precision: 5, Scale: 2}),
				f("dec2", &arrow.Decimal128Type{Precision: 5, Scale: 2}),
				f("bin", arrow.BinaryTypes.Binary), f("ls", arrow.BinaryTypes.LargeString),
				f("u64", arrow.PrimitiveTypes.Uint64))},
			Want: []string{
				`true|-128|255|1.5|2020-02-29|2020-01-02 03:04:05Z|2020-01-02 03:04:05.123Z|-12.3|4.5|aGk=|"x"|18446744073709551615`,
				`null|null|null|null|null|null|null|null|null|null|null|null`,
			},
		},
		{
			Name: "explicit schema: values that do not fit are rejected, not altered",
			In:   "{\"i8\":128}\n{\"u8\":-1}\n{\"d\":\"2021-02-29\"}\n{\"ts\":\"2020-01-01T00:00:00.5Z\"}\n{\"dec\":\"1.234\"}\n{\"dec\":1e2}\n{\"bin\":\"not base64!\"}\n{\"i8\":1}\n",
			Opts: format.ReadOptions{Schema: schema(
				f("i8", arrow.PrimitiveTypes.Int8), f("u8", arrow.PrimitiveTypes.Uint8),
				f("d", arrow.FixedWidthTypes.Date32), f("ts", ts(arrow.Second)),
				f("dec", &arrow.Decimal128Type{Precision: 5, Scale: 2}), f("bin", arrow.BinaryTypes.Binary))},
			Want:        []string{`1|null|null|null|null|null`},
			WantRejects: []string{"1:i8", "2:u8", "3:d", "4:ts", "5:dec", "6:dec", "7:bin"},
		},
		{
			Name:        "invalid UTF-8 in a string",
			In:          "{\"s\":\"ok\"}\n{\"s\":\"\xff\"}\n",
			Want:        []string{`"ok"`},
			WantRejects: []string{"2:s"},
		},
		{
			Name: "empty input",
			In:   "",
		},
	}
	formattest.ReadCases(t, jsonlFormat, tests)
}

func TestReadOptionErrors(t *testing.T) {
	dict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	_, err := NewReader(format.Input{R: strings.NewReader("{}"), Name: "in.jsonl"},
		format.ReadOptions{Schema: arrow.NewSchema([]arrow.Field{{Name: "d", Type: dict}}, nil)})
	if err == nil || !strings.Contains(err.Error(), `column "d"`) || !errors.Is(err, ErrOptions) {
		t.Fatalf("err = %v, want an ErrOptions naming column d", err)
	}
}
