package pipetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"b.test.yaml", "b.yaml", "a/x.test.yaml", "a/notes.yaml", ".weave-state/y.test.yaml", "c.yaml"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rel := func(paths []string) string {
		for i, p := range paths {
			paths[i], _ = filepath.Rel(dir, p)
		}
		return strings.Join(paths, " ")
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"."}, "a/x.test.yaml b.test.yaml"},
		{[]string{"b.yaml"}, "b.test.yaml"},                         // a pipeline: its test file
		{[]string{"c.yaml"}, "c.yaml"},                              // no test file beside it: as given
		{[]string{"b.test.yaml", "."}, "b.test.yaml a/x.test.yaml"}, // each once
	}
	for _, tt := range tests {
		var args []string
		for _, a := range tt.args {
			args = append(args, filepath.Join(dir, a))
		}
		got, err := Find(args...)
		if err != nil {
			t.Fatal(err)
		}
		if g := rel(got); g != tt.want {
			t.Errorf("Find(%v) = %s, want %s", tt.args, g, tt.want)
		}
	}
	if _, err := Find(filepath.Join(dir, "nope")); err == nil {
		t.Error("Find of a missing path: no error")
	}
}
