package specgen_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/internal/specgen"
)

func tls() *spec.Field {
	return spec.Object("tls", spec.String("ca_file").Optional()).Optional()
}

func csv(extra ...*spec.Field) *spec.Field {
	return spec.Object("csv", append([]*spec.Field{spec.Bool("header").Default(true)}, extra...)...)
}

func env(t *testing.T) *engine.Environment {
	t.Helper()
	env := engine.NewEnvironment()
	src := spec.New("x").Summary("Reads x.").Field(
		spec.String("path").Desc("Where."),
		spec.Int("rows").Default(5).Validate(func(v any) error {
			if v.(int) < 1 {
				return errFew
			}
			return nil
		}),
		spec.Duration("timeout").Default(time.Second),
		spec.Map("schema").Optional(),
		tls(), csv(spec.StringList("null_values").Optional()),
	)
	sink := spec.New("x").Field(tls(), csv(), spec.String("token").Secret().Optional())
	if err := env.RegisterSource(src, nil); err != nil {
		t.Fatal(err)
	}
	if err := env.RegisterSink(sink, nil); err != nil {
		t.Fatal(err)
	}
	return env
}

var errFew = errors.New("must be at least 1")

var targets = []specgen.Target{
	{Kind: engine.KindSource, Name: "x", Dir: "connectors/x", Type: "SourceConfig"},
	{Kind: engine.KindSink, Name: "x", Dir: "connectors/x", Type: "SinkConfig"},
}

// TestGenerate: the Go types follow the kinds; a number whose zero value
// the spec refuses stays plain, one whose zero value means something else
// than its default is a pointer; objects of one shape share a type, of
// several shapes are named per plugin.
func TestGenerate(t *testing.T) {
	files, err := specgen.Generate(env(t), targets)
	if err != nil {
		t.Fatal(err)
	}
	src := string(files["connectors/x/config_gen.go"])
	for _, want := range []string{
		"package x\n",
		"\tPath string `weave:\"path\"`",
		"\tRows int `weave:\"rows\"`",
		"\tTimeout *time.Duration `weave:\"timeout\"`",
		"\tSchema []spec.KV `weave:\"schema\"`",
		"\tTLS *TLSConfig `weave:\"tls\"`",
		"\tCSV *SourceCSVConfig `weave:\"csv\"`",
		"\tCSV *SinkCSVConfig `weave:\"csv\"`",
		"\tHeader *bool `weave:\"header\"`",
		"// Optional. Secret: never printed.\n\tToken string",
		"func (c SinkConfig) Build(b engine.Build) (engine.Sink, error) {\n\treturn engine.DefaultEnvironment().BuildSink(\"x\", c, b)",
		"func (c SinkConfig) Recipe(b engine.Build) *engine.Recipe {\n\treturn &engine.Recipe{Connector: \"x\", Config: c, BatchRows: b.BatchRows, Linger: b.Linger}",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("missing %q in:\n%s", want, src)
		}
	}
	if n := strings.Count(src, "type TLSConfig struct"); n != 1 {
		t.Errorf("%d TLSConfig types, want one shared", n)
	}
}

// TestGenerateTargets: every registered plugin needs a target and every
// target a registered plugin.
func TestGenerateTargets(t *testing.T) {
	if _, err := specgen.Generate(env(t), targets[:1]); err == nil || !strings.Contains(err.Error(), `sink "x" is registered but has no target`) {
		t.Errorf("got %v", err)
	}
	extra := append(targets[:2:2], specgen.Target{Kind: engine.KindStage, Name: "y", Dir: "connectors/y", Type: "StageConfig"})
	if _, err := specgen.Generate(env(t), extra); err == nil || !strings.Contains(err.Error(), `stage "y" has a target but is not registered`) {
		t.Errorf("got %v", err)
	}
}
