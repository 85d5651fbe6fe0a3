package guest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestParseJSONAsEncodingJSON: the SDK's reader accepts and rejects what
// encoding/json does and, through plain, yields the same any.
func TestParseJSONAsEncodingJSON(t *testing.T) {
	docs := []string{
		`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `12.5e-3`, `1E+2`, `-7`,
		`"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\u4e16"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\udc00x"`, `"\ud83dx"`,
		"\"caf\xc3\xa9\"", "\"bad \xff utf8\"",
		` { "a" : [1, "x", {"b": null}, [], {}] , "c":true } `,
		`{"column":"amount","op":">=","value":0}`, `{"value":["US","DE"]}`,
		// Rejected by both.
		``, ` `, `{`, `}`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `01`, `1.`, `.5`, `1e`, `-`, `+1`,
		`tru`, `nul`, `"abc`, "\"a\tb\"", `"\x"`, `"\u12"`, `"\uzzzz"`, `1 2`, `{"a":1}x`, `[1 2]`,
	}
	for _, doc := range docs {
		var want any
		wantErr := json.Unmarshal([]byte(doc), &want)
		got, err := parseJSON([]byte(doc))
		if (err != nil) != (wantErr != nil) {
			t.Errorf("%q: error %v, encoding/json's %v", doc, err, wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if p := plain(got); !reflect.DeepEqual(p, want) {
			t.Errorf("%q: got %#v, encoding/json %#v", doc, p, want)
		}
	}
}

// TestParseJSONDepth: nesting past maxDepth is an error, not a stack
// overflow in a guest.
func TestParseJSONDepth(t *testing.T) {
	doc := strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2)
	if _, err := parseJSON([]byte(doc)); err == nil || !strings.Contains(err.Error(), "depth") {
		t.Fatalf("error %v, want one about depth", err)
	}
}

// TestBindResponseJSON: the hand-written bind response is byte for byte
// what json.Marshal wrote.
func TestBindResponseJSON(t *testing.T) {
	for _, r := range []bindResponse{
		{},
		{Reads: []string{"amount", "e\"m\\a\nil\x01"}, Writes: []Field{{Name: "x", Type: "int64", Nullable: true}, {Name: "caf\xc3\xa9\xff\u2028", Type: "utf8"}},
			Drops: []string{}, Filter: true},
		{Error: "setup: no column \"x\"\t<>&", DropAll: true, State: true},
	} {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		// encoding/json escapes <, > and & for HTML; the host's decoder
		// reads both spellings alike.
		w := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(want))
		if got := string(r.appendJSON(nil)); got != w {
			t.Errorf("appendJSON = %s\njson.Marshal = %s", got, w)
		}
	}
}

// TestParseBindRequest reads a request as the host writes it, keeping
// the config's text for Config and ConfigKeys.
func TestParseBindRequest(t *testing.T) {
	raw := `{"abi":2,"stage":"stages[0].wasm","config":{"a": [1, "x"]},"schema":[{"name":"id","type":"int64","nullable":false},{"name":"s","type":"utf8","nullable":true}],"event_time":"ts","later":1}`
	req, err := parseBindRequest([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := bindRequest{ABI: 2, Stage: "stages[0].wasm", Config: []byte(`{"a": [1, "x"]}`), EventTime: "ts",
		Schema: []Field{{Name: "id", Type: "int64"}, {Name: "s", Type: "utf8", Nullable: true}}}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("got %+v\nwant %+v", req, want)
	}
	for _, bad := range []string{`[]`, `{"schema":[1]}`, `{"abi":`} {
		if _, err := parseBindRequest([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// TestConfigDecodesAsEncodingJSON: Config without encoding/json fills a
// struct of every kind the transforms use as json.Decoder with
// DisallowUnknownFields does, and fails where it fails.
func TestConfigDecodesAsEncodingJSON(t *testing.T) {
	type inner struct {
		On bool `json:"on"`
	}
	type conf struct {
		S      string            `json:"s"`
		F      float64           `json:"f"`
		I      int64             `json:"i"`
		N      int               `json:"n"`
		U      uint8             `json:"u"`
		B      bool              `json:"b"`
		L      []string          `json:"l"`
		M      map[string]string `json:"m"`
		P      *string           `json:"p"`
		A      any               `json:"a"`
		In     inner             `json:"in"`
		Untag  string
		Skip   string `json:"-"`
		hidden string
	}
	for _, doc := range []string{
		`{"s":"x","f":1.5,"i":-3,"n":7,"u":255,"b":true,"l":["a","b"],"m":{"k":"v"},"p":"q","a":[1,{"z":null}],"in":{"on":true},"Untag":"y"}`,
		`{"S":"case","untag":"fold"}`,
		`{"p":null,"a":null,"l":null,"m":null,"s":null}`,
		`{"l":[]}`,
		`{"bogus":1}`, `{"Skip":"x"}`, `{"hidden":"x"}`, `{"in":{"off":1}}`,
		`{"s":1}`, `{"f":"1"}`, `{"i":1.5}`, `{"u":256}`, `{"n":1e3}`, `{"b":0}`, `{"l":"a"}`, `{"l":[1]}`,
		`{"m":[]}`, `{"m":{"k":1}}`, `{"in":[]}`, `{"f":1e400}`, `[1]`, `"x"`, `{"s":"x"`,
	} {
		p0 := "keep"
		want, got := conf{S: "default", P: &p0, L: []string{"d"}}, conf{S: "default", P: &p0, L: []string{"d"}}
		d := json.NewDecoder(strings.NewReader(doc))
		d.DisallowUnknownFields()
		wantErr := d.Decode(&want)
		err := newSetup(doc).Config(&got)
		if (err != nil) != (wantErr != nil) {
			t.Errorf("%s: error %v, encoding/json's %v", doc, err, wantErr)
			continue
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Errorf("%s: error %q does not start with config:", doc, err)
			}
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", doc, got, want)
		}
	}
}

// TestConfigKeys: each key kind, defaults kept for absent and null keys,
// and every mistake named.
func TestConfigKeys(t *testing.T) {
	decode := func(doc string) (vals, error) {
		v := vals{S: "def", F: -1, I: -1, L: []string{"d"}}
		err := newSetup(doc).ConfigKeys(v.keys()...)
		return v, err
	}
	tests := []struct {
		doc     string
		want    vals
		wantErr string
	}{
		{``, vals{S: "def", F: -1, I: -1, L: []string{"d"}}, ""},
		{`null`, vals{S: "def", F: -1, I: -1, L: []string{"d"}}, ""},
		{`{"s":"x","f":2.5,"i":9,"b":true,"l":["a"],"m":{"k":"v"},"a":[1,"x"]}`,
			vals{S: "x", F: 2.5, I: 9, B: true, L: []string{"a"}, M: map[string]string{"k": "v"}, A: []any{1.0, "x"}}, ""},
		// null leaves a string alone and empties a list, as encoding/json does.
		{`{"s":null,"l":null}`, vals{S: "def", F: -1, I: -1}, ""},
		// Names match case-insensitively as encoding/json folds them:
		// "ſ" (U+017F) is an s.
		{`{"S":"up","F":3}`, vals{S: "up", F: 3, I: -1, L: []string{"d"}}, ""},
		{`{"\u017f":"long s"}`, vals{S: "long s", F: -1, I: -1, L: []string{"d"}}, ""},
		// The last of a repeated key wins.
		{`{"s":"a","s":"b","a":1,"a":null}`, vals{S: "b", F: -1, I: -1, L: []string{"d"}}, ""},
		{`{"bogus":1}`, vals{}, `config: json: unknown field "bogus"`},
		{`{"s":1}`, vals{}, "config: s: want a string, not a number"},
		{`{"f":"x"}`, vals{}, "config: f: want a number, not a string"},
		{`{"f":1e400}`, vals{}, "config: number 1e400 is out of range"},
		{`{"i":1.5}`, vals{}, "config: i: want an integer in int64's range, not 1.5"},
		{`{"b":1}`, vals{}, "config: b: want true or false, not a number"},
		{`{"l":["a",2]}`, vals{}, "config: l: entry 1: want a string, not a number"},
		{`{"l":{}}`, vals{}, "config: l: want a list of strings, not an object"},
		{`{"m":{"k":[]}}`, vals{}, "config: m: k: want a string, not an array"},
		{`[1]`, vals{}, "config: want a mapping, not an array"},
		{`{"s":`, vals{}, "config: unexpected end of JSON input"},
	}
	for _, tc := range tests {
		got, err := decode(tc.doc)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%s: error %v, want %q", tc.doc, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.doc, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.doc, got, tc.want)
		}
	}
	// The same documents through encoding/json, the oracle: the same
	// values, and an error where it gives one.
	for _, tc := range tests {
		if tc.doc == "" {
			continue
		}
		got, err := decode(tc.doc)
		want := vals{S: "def", F: -1, I: -1, L: []string{"d"}}
		d := json.NewDecoder(strings.NewReader(tc.doc))
		d.DisallowUnknownFields()
		wantErr := d.Decode(&want)
		if (err != nil) != (wantErr != nil) {
			t.Errorf("%s: error %v, encoding/json's %v", tc.doc, err, wantErr)
			continue
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nencoding/json %+v", tc.doc, got, want)
		}
	}
}

type vals struct {
	S string
	F float64
	I int64
	B bool
	L []string
	M map[string]string
	A any
}

func (v *vals) keys() []ConfKey {
	return []ConfKey{ConfString("s", &v.S), ConfNumber("f", &v.F), ConfInt("i", &v.I), ConfBool("b", &v.B),
		ConfStrings("l", &v.L), ConfStringMap("m", &v.M), ConfAny("a", &v.A)}
}

type stringer struct{}

func (stringer) String() string { return "str" }

// TestAppendfAsFmt: the SDK's formatting prints what fmt.Sprintf prints
// for the verbs and kinds it takes.
func TestAppendfAsFmt(t *testing.T) {
	tests := []struct {
		format string
		args   []any
	}{
		{"plain", nil},
		{"%s=%d (%v) %q %t %%", []any{"k", -12, 3.5, "q\"\n", true}},
		{"%v %v %v %v %v", []any{1e20, 1e21, 123456789.0, 0.00001, float32(0.1)}},
		{"%g %e %f %.2f %.0f %E %G", []any{2.5, 1234.5678, 1.0 / 3, 2.345, 2.5, 1e-7, 1e30}},
		{"%x %X %x %X %c %q", []any{255, 255, "hi", []byte("ok"), 'é', 'x'}},
		{"%d %v %d %v", []any{uint8(7), uint64(1 << 63), int8(-8), uintptr(9)}},
		{"%v %s %v", []any{fmt.Errorf("boom"), stringer{}, nil}},
		{"%5d|%-3s|%+d|%05.1f", []any{42, "a", 3, 2.25}},
		{"row %d is a multiple of %d", []any{10, 5}},
		{"%d", []any{"str"}},
		{"%s", []any{true}},
		{"%d %d", []any{1}},
		{"trailing %", nil},
	}
	for _, tc := range tests {
		want := fmt.Sprintf(tc.format, tc.args...)
		got := string(appendf(nil, tc.format, tc.args))
		if tc.format == "%5d|%-3s|%+d|%05.1f" {
			// Flags and widths are read past, not applied.
			want = "42|a|3|2.2"
		}
		if got != want {
			t.Errorf("%q: got %q, fmt %q", tc.format, got, want)
		}
	}
	// %w prints as %v (fmt.Sprintf has no %w; Errorf's message is the same).
	if got := string(appendf(nil, "%w", []any{fmt.Errorf("wrapped")})); got != "wrapped" {
		t.Errorf("%%w: got %q", got)
	}
	// Extra arguments are flagged, without fmt's list of their types.
	if got := string(appendf(nil, "%d", []any{1, 2})); got != "1%!(EXTRA)" {
		t.Errorf("extra: got %q", got)
	}
	if got := string(appendf(nil, "%v", []any{struct{}{}})); got != "%!v(unsupported)" {
		t.Errorf("a struct: got %q", got)
	}
}

// TestPanicMessage: what a recovered panic value prints as.
func TestPanicMessage(t *testing.T) {
	var nilMap map[string]int
	for _, tc := range []struct {
		v    any
		want string
	}{
		{fmt.Errorf("e"), "e"}, {"s", "s"}, {stringer{}, "str"}, {7, "7"}, {int64(-7), "-7"}, {2.5, "2.5"},
		{true, "true"}, {uint32(3), "3"}, {struct{}{}, "(a panic value that is not an error, a string or a number)"},
	} {
		if got := panicMessage(tc.v); got != tc.want {
			t.Errorf("panicMessage(%#v) = %q, want %q", tc.v, got, tc.want)
		}
	}
	func() {
		defer func() {
			if got := panicMessage(recover()); !strings.Contains(got, "assignment to entry in nil map") {
				t.Errorf("runtime error: %q", got)
			}
		}()
		nilMap["x"] = 1
	}()
}
