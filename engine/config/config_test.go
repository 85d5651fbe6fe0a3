package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// TestGolden parses every testdata/*.yaml: valid files dump what the parser
// made of them, invalid ones their error messages.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	env := testEnv(t)
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			opts := config.Options{Env: env, Lookup: testLookup}
			var got string
			f, err := config.Parse(data, path, opts)
			if err == nil {
				got = dump(f, env)
				_, err = config.Build(f, opts)
			}
			if err != nil {
				if !errors.Is(err, engine.ErrInvalidConfig) {
					t.Errorf("error does not wrap ErrInvalidConfig: %v", err)
				}
				got += "error:\n" + err.Error() + "\n"
			}
			if valid := strings.HasPrefix(filepath.Base(path), "valid_"); valid != (err == nil) {
				t.Errorf("valid=%t but err=%v", valid, err)
			}
			golden(t, strings.TrimSuffix(path, ".yaml")+".golden", got)
		})
	}
}

// TestAllProblemsAtOnce pins down that one pass reports every problem, each
// at its own line, in file order.
func TestAllProblemsAtOnce(t *testing.T) {
	data, err := os.ReadFile("testdata/many_problems.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = config.Parse(data, "many_problems.yaml", config.Options{Env: testEnv(t)})
	var cerr *config.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("want *config.Error, got %v", err)
	}
	want := []struct {
		line int
		path string
	}{
		{3, "source.file.fromat"},
		{6, "stages[0].workers"},
		{7, "stages[1].explode"},
		{10, "on_error"},
	}
	if len(cerr.Problems) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(cerr.Problems), len(want), err)
	}
	for i, w := range want {
		p := cerr.Problems[i]
		if p.Line != w.line || p.Path != w.path || p.File != "many_problems.yaml" {
			t.Errorf("problem %d = %s:%d %s, want line %d %s", i, p.File, p.Line, p.Path, w.line, w.path)
		}
	}
	var list spec.Errors
	if !errors.As(err, &list) || len(list) != len(want) {
		t.Errorf("errors.As(spec.Errors) = %d problems", len(list))
	}
}

func TestEnvSubstitution(t *testing.T) {
	tests := []struct {
		name  string
		value string // YAML scalar given to generate.rows or file.path
		want  string
		err   string
	}{
		{name: "plain", value: "${DATA}/x.csv", want: "testdata/x.csv"},
		{name: "twice", value: "${DATA}-${FMT}", want: "testdata-jsonl"},
		{name: "default unused", value: "${FMT:-csv}", want: "jsonl"},
		{name: "default used", value: "${NOPE:-csv}", want: "csv"},
		{name: "empty takes default", value: "${EMPTY:-d}", want: "d"},
		{name: "empty default", value: "a${NOPE:-}b", want: "ab"},
		{name: "default with colon", value: "${NOPE:-http://x:80}", want: "http://x:80"},
		{name: "empty without default", value: "a${EMPTY}b", want: "ab"},
		{name: "escape", value: "$${DATA}", want: "${DATA}"},
		{name: "escape then var", value: "$${DATA}${DATA}", want: "${DATA}testdata"},
		{name: "lone dollar", value: "cost$5 $", want: "cost$5 $"},
		{name: "quoted", value: `"${DATA}"`, want: "testdata"},
		{name: "unset", value: "${NOPE}", err: "t.yaml:3:11: source.file.path: environment variable NOPE is not set (give a default with ${NOPE:-default})"},
		{name: "unterminated", value: "${DATA", err: "unterminated ${"},
		{name: "bad name", value: "${A-B}", err: "bad variable reference ${A-B}"},
		{name: "empty name", value: "${}", err: "bad variable reference ${}"},
		// Nested defaults follow the shell: the inner reference is
		// expanded only when the outer variable is unset or empty.
		{name: "nested, outer set", value: "${FMT:-${NOPE:-d}}", want: "jsonl"},
		{name: "nested, outer unset, inner set", value: "${NOPE:-${DATA:-d}}", want: "testdata"},
		{name: "nested, both unset", value: "${NOPE:-${NOPE2:-d}}", want: "d"},
		{name: "nested, outer empty", value: "${EMPTY:-${DATA}}", want: "testdata"},
		{name: "nested unused needs no variable", value: "${FMT:-${NOPE}}", want: "jsonl"},
		{name: "nested used must be set", value: "${NOPE:-${NOPE2}}", err: "t.yaml:3:11: source.file.path: environment variable NOPE2 is not set"},
		{name: "nested with text", value: "${NOPE:-a/${DATA}/b}.csv", want: "a/testdata/b.csv"},
		{name: "nested empty default", value: "x${NOPE:-${NOPE2:-}}y", want: "xy"},
		{name: "escape inside default", value: "${NOPE:-$${DATA}}", want: "${DATA}"},
		{name: "nested at the bound", value: nest(config.MaxNesting), want: "d"},
		{name: "nested past the bound", value: nest(config.MaxNesting + 1),
			err: "t.yaml:3:11: source.file.path: ${…} nested more than 8 deep in ${N:-${N:-${N:-"},
		{name: "nested unterminated", value: "${NOPE:-${DATA}", err: "t.yaml:3:11: source.file.path: unterminated ${NOPE:-${DATA} (write $${ for a literal ${)"},
		// The syntax of a default is checked even when it is not used.
		{name: "nested unterminated, outer set", value: "${FMT:-${DATA}", err: "unterminated ${FMT:-${DATA}"},
		{name: "nested bad name, outer set", value: "${FMT:-${1X}}", err: "bad variable reference ${1X}"},
		{name: "long expression clipped", value: "${NOPE:-" + strings.Repeat("x", 1<<20),
			err: "unterminated ${NOPE:-" + strings.Repeat("x", 52) + "… (write"},
	}
	env := testEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "source:\n  file:\n    path: " + tt.value + "\nsinks: [discard]\n"
			f, err := config.Parse([]byte(src), "t.yaml", config.Options{Env: env, Lookup: testLookup})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Source.Config.String("path"); got != tt.want {
				t.Errorf("path = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestEnvRetyping checks that a substituted plain scalar is read by what it
// holds ("${ROWS}" → an int), while a quoted one stays a string.
func TestEnvRetyping(t *testing.T) {
	env := testEnv(t)
	lookup := func(n string) (string, bool) {
		return map[string]string{"ROWS": "1000", "YES": "true"}[n], n == "ROWS" || n == "YES"
	}
	f, err := config.Parse([]byte("source:\n  generate:\n    rows: ${ROWS}\nstages:\n  - select: {columns: [a]}\n    unordered: ${YES}\nsinks: [discard]\nbatch: {rows: \"${ROWS}\"}\n"),
		"t.yaml", config.Options{Env: env, Lookup: lookup})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Source.Config.Int("rows"); got != 1000 {
		t.Errorf("rows = %d", got)
	}
	if !f.Stages[0].Unordered {
		t.Error("unordered not read as a bool")
	}
	// spec reads ints from the text, so the quoted form works too.
	if f.Batch.Rows != 1000 {
		t.Errorf("batch.rows = %d", f.Batch.Rows)
	}
}

func TestSet(t *testing.T) {
	const base = `source:
  file: {path: in.csv}
stages:
  - select: {columns: [a]}
sinks:
  - file: {path: out.jsonl}
batch:
`
	tests := []struct {
		name  string
		set   []string
		check func(*config.File) string // returns what is wrong, or ""
		err   string
	}{
		{name: "replace scalar", set: []string{"source.file.path=x.csv"},
			check: func(f *config.File) string { return want(f.Source.Config.String("path"), "x.csv") }},
		{name: "int into null mapping", set: []string{"batch.rows=1000"},
			check: func(f *config.File) string { return want(f.Batch.Rows, 1000) }},
		{name: "index brackets", set: []string{"sinks[0].file.path=out.parquet"},
			check: func(f *config.File) string { return want(f.Sinks[0].Config.String("path"), "out.parquet") }},
		{name: "index dotted", set: []string{"sinks.0.file.format=jsonl"},
			check: func(f *config.File) string { return want(f.Sinks[0].Config.String("format"), "jsonl") }},
		{name: "flow list", set: []string{"stages[0].select.columns=[x, y]"},
			check: func(f *config.File) string {
				return want(strings.Join(f.Stages[0].Config.Strings("columns"), ","), "x,y")
			}},
		{name: "add key", set: []string{"stages[0].workers=3", "buffer=2"},
			check: func(f *config.File) string { return want(f.Stages[0].Workers*10+f.Buffer, 32) }},
		{name: "append step", set: []string{"sinks[1]={discard: {}}"},
			check: func(f *config.File) string { return want(f.Sinks[1].Name, "sinks[1].discard") }},
		{name: "replace whole step", set: []string{"source={generate: {rows: 7}}"},
			check: func(f *config.File) string { return want(f.Source.Name, "source.generate") }},
		{name: "later wins", set: []string{"batch.rows=1", "batch.rows=2"},
			check: func(f *config.File) string { return want(f.Batch.Rows, 2) }},
		{name: "literal dollar", set: []string{"source.file.path=${HOME}"},
			check: func(f *config.File) string { return want(f.Source.Config.String("path"), "${HOME}") }},
		{name: "empty value", set: []string{"name="},
			err: "t.yaml: name: expected a string, got nothing"},
		{name: "value checked", set: []string{"batch.rows=lots"},
			err: "t.yaml: batch.rows: expected an integer, got \"lots\""},
		{name: "no equals", set: []string{"batch.rows"}, err: "--set batch.rows: want path=value"},
		{name: "out of range", set: []string{"sinks[3].discard="}, err: "--set sinks[3].discard=: index 3 is out of range: sinks has 1 item(s)"},
		{name: "index into mapping", set: []string{"source[0]=x"}, err: "source is a mapping, not a list"},
		{name: "key into list", set: []string{"stages.first.select=x"}, err: `stages is a list; want an index, not "first"`},
		{name: "into scalar", set: []string{"source.file.path.x=1"}, err: `source.file.path is "in.csv", which has no "x" inside`},
		{name: "bad index", set: []string{"sinks[x]=1"}, err: "bad index [x]"},
		{name: "empty segment", set: []string{"batch..rows=1"}, err: "empty key"},
		{name: "bad yaml", set: []string{"batch.rows=[1"}, err: "value is not valid YAML"},
	}
	env := testEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := config.Parse([]byte(base), "t.yaml", config.Options{Env: env, Set: tt.set})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				if !errors.Is(err, engine.ErrInvalidConfig) {
					t.Errorf("error does not wrap ErrInvalidConfig")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(f); msg != "" {
				t.Error(msg)
			}
		})
	}
}

// TestSetEmptyFile builds a whole pipeline from overrides alone.
func TestSetEmptyFile(t *testing.T) {
	f, err := config.Parse(nil, "empty.yaml", config.Options{Env: testEnv(t), Set: []string{"source.generate.rows=3", "sinks[0].discard="}})
	if err != nil {
		t.Fatal(err)
	}
	if f.Source.Config.Int("rows") != 3 || len(f.Sinks) != 1 {
		t.Errorf("got %+v", f)
	}
}

func TestBuild(t *testing.T) {
	env := testEnv(t)
	data, err := os.ReadFile("testdata/valid_full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := config.Parse(data, "valid_full.yaml", config.Options{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	p, err := config.Build(f, config.Options{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "orders-clean" || p.Buffer != 4 || p.Source.Name != "source.file" || p.Source.OnError != engine.Skip {
		t.Errorf("pipeline = %+v", p)
	}
	if len(p.Stages) != 2 || p.Stages[1].Name != "tidy" || p.Stages[1].Workers != 2 || !p.Stages[1].Unordered || p.Stages[1].OnError != engine.DeadLetter {
		t.Errorf("stages = %+v", p.Stages)
	}
	if len(p.Sinks) != 2 || p.Sinks[1].Retry != (engine.Retry{Attempts: 2, Initial: engine.DefaultRetry.Initial, Max: engine.DefaultRetry.Max}) {
		t.Errorf("sinks = %+v", p.Sinks)
	}
	if p.DeadLetter == nil || p.Logger == nil || p.Mem == nil {
		t.Errorf("dead letter, logger or allocator missing")
	}
}

// TestBuildPassesSettings checks what a constructor is handed.
func TestBuildPassesSettings(t *testing.T) {
	env := engine.NewEnvironment()
	var got engine.Build
	if err := env.RegisterSource(spec.New("probe"), func(_ *spec.Parsed, b engine.Build) (engine.Source, error) {
		got = b
		return &nopSource{}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := env.RegisterSink(spec.New("discard"), func(*spec.Parsed, engine.Build) (engine.Sink, error) { return &nopSink{}, nil }); err != nil {
		t.Fatal(err)
	}
	f, err := config.Parse([]byte("source: {probe: {}, name: in}\nsinks: [discard]\nbatch: {rows: 10, linger: 1s}\n"), "p.yaml", config.Options{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := config.Build(f, config.Options{Env: env}); err != nil {
		t.Fatal(err)
	}
	if got.Name != "in" || got.BatchRows != 10 || got.Linger.String() != "1s" || got.Env != env || got.Logger == nil || got.Mem == nil {
		t.Errorf("Build = %+v", got)
	}
}

func TestLoad(t *testing.T) {
	env := testEnv(t)
	p, err := config.Load("testdata/valid_minimal.yaml", config.Options{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "valid_minimal" || p.Sinks[0].Name != "sinks[0].discard" {
		t.Errorf("pipeline = %+v", p)
	}
	_, err = config.Load("testdata/no-such-file.yaml", config.Options{Env: env})
	if !errors.Is(err, engine.ErrInvalidConfig) || err.Error() != "testdata/no-such-file.yaml: no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
	_, err = config.Load("testdata/constructor.yaml", config.Options{Env: env})
	if !errors.Is(err, engine.ErrInvalidConfig) || !strings.Contains(err.Error(), `step "fragile": cannot work today`) {
		t.Errorf("constructor error: %v", err)
	}
}

// nest is n references nested in each other's defaults, innermost "d".
func nest(n int) string {
	return strings.Repeat("${N:-", n) + "d" + strings.Repeat("}", n)
}

func want[T comparable](got, want T) string {
	if got != want {
		return "got " + strings.TrimSpace(strings.ReplaceAll(fmt.Sprint(got), "\n", " ")) + ", want " + fmt.Sprint(want)
	}
	return ""
}
