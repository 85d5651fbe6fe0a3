package crashtest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps fatal failures instead of failing,
// so the harness's own checks can be shown to fire.
type recorder struct {
	testing.TB
	fatal string
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }
func (r *recorder) Helper()           {}

// TestKillAndRerunFires: a kill that cannot test anything fails the test,
// with a message saying why. Both cases run the real binary.
func TestKillAndRerunFires(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name     string
		pipeline string
		stored   int // what Stored always reports
		want     string
	}{
		{
			// A bounded source ends by itself, and the destination never
			// reaches N: the harness must notice the exit, not poll forever.
			name:     "ends before the kill",
			pipeline: fmt.Sprintf("source: {generate: {rows: 10}}\nsinks: [{file: {path: %q}}]\n", filepath.Join(dir, "out.jsonl")),
			stored:   0,
			want:     "before the kill",
		},
		{
			// The HTTP source waits for requests forever, so the process is
			// alive at the kill; the destination reports the whole input.
			name:     "everything stored before the kill",
			pipeline: fmt.Sprintf("source: {http: {address: \"127.0.0.1:0\", path: /in, schema: {id: int64}}}\nsinks: [{file: {path: %q}}]\n", filepath.Join(dir, "out2.jsonl")),
			stored:   100,
			want:     "the kill tested nothing",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "pipeline.yaml")
			if err := os.WriteFile(file, []byte(tc.pipeline), 0o644); err != nil {
				t.Fatal(err)
			}
			p := Pipeline{File: file, State: t.TempDir(), Rows: 100, Stored: func(testing.TB) int { return tc.stored }}
			r := &recorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				p.KillAndRerun(r)
			}()
			<-done
			if !strings.Contains(r.fatal, tc.want) {
				t.Errorf("KillAndRerun failed with %q, want a failure containing %q", r.fatal, tc.want)
			}
		})
	}
}
