package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dataweaver/dataweaver/engine/config"
)

// FuzzParse feeds arbitrary bytes to the parser: it must answer with a
// File or an error, never panic. Build runs too, on the test connectors.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("source: &a {generate: *a}\nsinks: [*a]"))
	f.Add([]byte("source: {file: ${X:-$${Y}}}\nsinks: [discard]"))
	f.Add([]byte("source: {file: ${NOPE:-${X:-${Y:-d}}}}\nsinks: [discard]"))
	f.Add([]byte(laughs(9)))
	env := testEnv(f)
	opts := config.Options{Env: env, Lookup: testLookup, Set: []string{"batch.rows=7"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := config.Parse(data, "fuzz.yaml", opts)
		if err != nil {
			if err.Error() == "" {
				t.Error("empty error message")
			}
			return
		}
		if file.Batch.Rows != 7 {
			t.Errorf("--set lost: rows = %d", file.Batch.Rows)
		}
		_, _ = config.Build(file, opts)
	})
}

// FuzzSet applies arbitrary --set arguments to a valid file: a bad path or
// value is an error, never a panic.
func FuzzSet(f *testing.F) {
	for _, s := range []string{"batch.rows=5", "sinks[0].file.path=x", "sinks.1={discard: {}}", "stages[0][1]=x",
		"source=", "a..b=1", "[0]=1", "x=[1", "stages=[{select: {columns: [a]}}]"} {
		f.Add(s)
	}
	base, err := os.ReadFile("testdata/valid_full.yaml")
	if err != nil {
		f.Fatal(err)
	}
	env := testEnv(f)
	f.Fuzz(func(t *testing.T, set string) {
		_, _ = config.Parse(base, "fuzz.yaml", config.Options{Env: env, Lookup: testLookup, Set: []string{set, set}})
	})
}
