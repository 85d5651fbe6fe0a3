package spec_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/engine/spec"
)

// encodeSpec has a field of every kind, defaults that differ from Go's zero
// values, and a nested object.
func encodeSpec() *spec.Spec {
	return spec.New("t").Field(
		spec.String("path"),
		spec.String("format").OneOf("csv", "jsonl").Default("csv"),
		spec.Int("rows").Default(1000),
		spec.Float("fraction").Optional(),
		spec.Bool("header").Default(true),
		spec.Duration("timeout").Default(10*time.Second),
		spec.ByteSize("limit").Default(int64(1<<20)),
		spec.StringList("null_values").Default([]string{""}),
		spec.Map("schema").Optional(),
		spec.Any("config").Optional(),
		spec.Object("tls",
			spec.String("ca_file").Optional(),
			spec.Bool("insecure_skip_verify").Default(false),
		).Optional(),
	)
}

type tlsConf struct {
	CAFile             string `weave:"ca_file"`
	InsecureSkipVerify bool   `weave:"insecure_skip_verify"`
}

type encConf struct {
	Path       string         `weave:"path"`
	Format     string         `weave:"format"`
	Rows       int            `weave:"rows"`
	Fraction   float64        `weave:"fraction"`
	Header     *bool          `weave:"header"`
	Timeout    *time.Duration `weave:"timeout"`
	Limit      int64          `weave:"limit"`
	NullValues []string       `weave:"null_values"`
	Schema     []spec.KV      `weave:"schema"`
	Config     any            `weave:"config"`
	TLS        *tlsConf       `weave:"tls"`
	note       string         // untagged and unexported: ignored
}

func parseYAML(t *testing.T, s *spec.Spec, text string) *spec.Parsed {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	var node *yaml.Node
	if len(doc.Content) > 0 {
		node = doc.Content[0]
	}
	p, errs := s.Parse(node, "", "t")
	if len(errs) > 0 {
		t.Fatalf("parse %q: %v", text, errs)
	}
	return p
}

// TestEncode: a typed value and the YAML text with the same settings parse
// to the same values, defaults included; zero fields are left out so their
// defaults apply, and pointers to zero values are written.
func TestEncode(t *testing.T) {
	tests := []struct {
		name string
		conf encConf
		yaml string
	}{
		{name: "defaults", conf: encConf{Path: "in.csv"}, yaml: "path: in.csv"},
		{
			name: "every field",
			conf: encConf{
				Path: "a: b", Format: "jsonl", Rows: 5, Fraction: 0.25, Header: new(false),
				Timeout: new(1500 * time.Millisecond), Limit: 4096, NullValues: []string{"NA", "-"},
				Schema: []spec.KV{{Key: "z", Value: "int64"}, {Key: "a", Value: "utf8"}},
				Config: map[string]any{"threshold": 3, "names": []any{"x", "y"}},
				TLS:    &tlsConf{CAFile: "ca.pem", InsecureSkipVerify: true},
				note:   "ignored",
			},
			yaml: `
path: "a: b"
format: jsonl
rows: 5
fraction: 0.25
header: false
timeout: 1.5s
limit: 4KiB
null_values: [NA, "-"]
schema: {z: int64, a: utf8}
config: {threshold: 3, names: [x, y]}
tls: {ca_file: ca.pem, insecure_skip_verify: true}
`,
		},
		{name: "pointers to zero", conf: encConf{Path: "p", Timeout: new(time.Duration(0))}, yaml: "path: p\ntimeout: 0s"},
		{name: "empty list and object", conf: encConf{Path: "p", NullValues: []string{}, TLS: &tlsConf{}}, yaml: "path: p\nnull_values: []\ntls: {}"},
	}
	s := encodeSpec()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			node, err := spec.Encode(tt.conf)
			if err != nil {
				t.Fatal(err)
			}
			got, errs := s.Parse(node, "", "t")
			if len(errs) > 0 {
				t.Fatalf("parse the encoded value: %v", errs)
			}
			want := parseYAML(t, s, tt.yaml)
			if !reflect.DeepEqual(got.Values(), want.Values()) {
				t.Errorf("from Go:\n%#v\nfrom YAML:\n%#v", got.Values(), want.Values())
			}
			for _, k := range []string{"header", "timeout", "null_values", "tls"} {
				if got.Given(k) != want.Given(k) {
					t.Errorf("Given(%q): %v from Go, %v from YAML", k, got.Given(k), want.Given(k))
				}
			}
		})
	}
}

// TestEncodeErrors: Encode refuses what it cannot write; Parse reports a
// value the spec refuses with the same message as for a file.
func TestEncodeErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    any
		want string
	}{
		{"not a struct", 42, "int is not a struct"},
		{"nil pointer", (*encConf)(nil), "nil *spec_test.encConf"},
		{"unsupported field", struct {
			C chan int `weave:"c"`
		}{C: make(chan int)}, "c: cannot write a chan int"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := spec.Encode(tt.v)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}

	s := encodeSpec()
	node, err := spec.Encode(encConf{Format: "xml", Timeout: new(-time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	_, fromGo := s.Parse(node, "", "t")
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("format: xml\ntimeout: -1s"), &doc); err != nil {
		t.Fatal(err)
	}
	_, fromYAML := s.Parse(doc.Content[0], "", "t")
	if len(fromGo) != 3 || len(fromGo) != len(fromYAML) {
		t.Fatalf("from Go: %v\nfrom YAML: %v", fromGo, fromYAML)
	}
	for i := range fromGo {
		if fromGo[i].Path != fromYAML[i].Path || fromGo[i].Msg != fromYAML[i].Msg {
			t.Errorf("problem %d: %q from Go, %q from YAML", i, fromGo[i].Path+": "+fromGo[i].Msg, fromYAML[i].Path+": "+fromYAML[i].Msg)
		}
	}
}
