package config_test

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
)

// TestRecipes: every step built from a file carries its connector, its
// settings as written (after ${VAR}) and the file's batching, standing
// alone: an alias to an anchor elsewhere in the file is expanded, so the
// settings marshal and parse again in a process that never saw the file.
func TestRecipes(t *testing.T) {
	file := "x-conf: &conf {threshold: 3}\n" +
		"source:\n  generate: {rows: \"${ROWS}\"}\n" +
		"stages:\n  - wasm: {module: f.wasm, config: *conf}\n" +
		"sinks:\n  - discard:\n" +
		"batch: {rows: 100}\n"
	opts := config.Options{Env: testEnv(t), Lookup: func(string) (string, bool) { return "7", true }}
	f, err := config.Parse([]byte(file), "pipeline.yaml", opts)
	if err != nil {
		t.Fatal(err)
	}
	p, err := config.Build(f, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	steps := []*engine.Recipe{p.Source.Recipe, p.Stages[0].Recipe, p.Sinks[0].Recipe}
	var got []string
	for _, r := range steps {
		settings, err := r.Settings()
		if err != nil {
			t.Fatal(err)
		}
		out, err := yaml.Marshal(settings)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.Connector+" "+strings.TrimSpace(string(out)))
		if r.BatchRows != 100 {
			t.Errorf("%s: recipe's batch rows %d, want the file's 100", r.Connector, r.BatchRows)
		}
	}
	want := []string{`generate {rows: "7"}`, "wasm {module: f.wasm, config: {threshold: 3}}", "discard "}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("recipes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	q, err := p.Remake(engine.Build{Env: opts.Env})
	if err != nil {
		t.Fatalf("Remake from the file's recipes: %v", err)
	}
	_ = q.Close()
}
