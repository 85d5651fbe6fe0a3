package postgres_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/cli"
	"github.com/dataweaver/dataweaver/internal/pgtest"

	_ "github.com/dataweaver/dataweaver/connectors/generate"
	_ "github.com/dataweaver/dataweaver/connectors/postgres"
)

// weave positions shows and resets the positions an exactly_once sink
// keeps in its database, not the (empty) state directory.
func TestPositionsCommandShowsTheSinksStore(t *testing.T) {
	dsn := pgtest.DB(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "load.yaml")
	job := fmt.Sprintf("name: load\nbatch: {rows: 100}\nsource: {generate: {preset: orders, rows: 500, seed: 3}}\n"+
		"sinks: [{postgres: {dsn: %q, table: orders, create_table: true, exactly_once: true}}]\n", dsn)
	if err := os.WriteFile(file, []byte(job), 0o644); err != nil {
		t.Fatal(err)
	}
	weave := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := cli.Main(append([]string{"weave"}, args...), cli.Options{Env: engine.DefaultEnvironment(), Stdout: &out, Stderr: &out})
		return code, out.String()
	}
	if code, out := weave("run", file); code != 0 {
		t.Fatalf("run: exit %d:\n%s", code, out)
	}
	code, out := weave("positions", file)
	if code != 0 || !strings.Contains(out, "row 500 (seed 3)") || !strings.Contains(out, "state: sink sinks[0].postgres") {
		t.Fatalf("positions: exit %d:\n%s", code, out)
	}
	if code, out := weave("positions", "--reset", file); code != 0 || !strings.Contains(out, "reset source.generate") {
		t.Fatalf("positions --reset: exit %d:\n%s", code, out)
	}
	if code, out := weave("positions", file); code != 0 || !strings.Contains(out, "no saved positions in sink sinks[0].postgres") {
		t.Fatalf("positions after reset: exit %d:\n%s", code, out)
	}
}
