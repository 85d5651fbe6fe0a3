package coordinator_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	_ "github.com/dataweaver/dataweaver/connectors/file"
	_ "github.com/dataweaver/dataweaver/format/csv"
	_ "github.com/dataweaver/dataweaver/format/parquet"
)

// startNATS runs an in-process nats-server with JetStream on a random
// local port until t ends.
func startNATS(t testing.TB) string {
	t.Helper()
	srv, err := server.NewServer(&server.Options{JetStream: true, StoreDir: t.TempDir(),
		Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	return srv.ClientURL()
}

// writeCSVs writes files CSV files of rows rows each, ids numbered across
// them, and returns how many rows in all.
func writeCSVs(t testing.TB, dir string, files, rows int) int {
	t.Helper()
	id := 0
	for f := 0; f < files; f++ {
		var b strings.Builder
		b.WriteString("id,name\n")
		for r := 0; r < rows; r++ {
			fmt.Fprintf(&b, "%d,n%d\n", id, id)
			id++
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("in-%03d.csv", f)), []byte(b.String()), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// readIDs reads the id column of every published CSV part in dir, sorted.
func readIDs(t testing.TB, dir string) (ids []int, parts int) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "part-*.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		for _, l := range lines[1:] {
			n, err := strconv.Atoi(strings.SplitN(l, ",", 2)[0])
			if err != nil {
				t.Fatalf("%s: %q: %v", name, l, err)
			}
			ids = append(ids, n)
		}
	}
	sort.Ints(ids)
	return ids, len(names)
}

// checkExactlyOnce fails t unless ids is 0..n-1, each once.
func checkExactlyOnce(t testing.TB, ids []int, n int) {
	t.Helper()
	if len(ids) != n {
		t.Errorf("output holds %d rows, want %d", len(ids), n)
	}
	for i, id := range ids {
		if id != i {
			t.Fatalf("output row %d has id %d: rows lost or doubled", i, id)
		}
	}
}

// clientGoroutines lists the goroutines that are not the in-process
// server's (which start one per stream and consumer the test creates).
func clientGoroutines() []string {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, "nats-io/nats-server") {
			out = append(out, g)
		}
	}
	return out
}

// noClientLeak fails t if more goroutines than before, the server's
// aside, are still running 10 s on: a worker left its client or a
// heartbeat running.
func noClientLeak(t testing.TB, before []string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		now := clientGoroutines()
		if len(now) <= len(before) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d goroutines besides the server's still running (started with %d):\n%s", len(now), len(before), strings.Join(now, "\n\n"))
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
