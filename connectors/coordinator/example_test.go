package coordinator_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/dataweaver/dataweaver/connectors/coordinator"
	"github.com/dataweaver/dataweaver/engine/config"
)

// Two workers (goroutines here, processes or machines in use) run the same
// pipeline file and share its three input files through JetStream: each
// file is read by one of them, and the output directory gets one part per
// file.
func ExampleRunFile() {
	dir, _ := os.MkdirTemp("", "coordinator-example-")
	defer os.RemoveAll(dir)
	for i := range 3 {
		_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("in-%d.csv", i)), []byte("id\n1\n2\n"), 0o666)
	}
	srv, _ := server.NewServer(&server.Options{JetStream: true, StoreDir: filepath.Join(dir, "js"),
		Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true})
	go srv.Start()
	defer srv.Shutdown()
	srv.ReadyForConnections(10 * time.Second)

	text := fmt.Sprintf(`
name: example
source:
  file: {path: "%[1]s/in-*.csv"}
sinks:
  - file: {path: "%[1]s/out/", format: csv}
coordinator:
  urls: [%[2]q]
`, dir, srv.ClientURL())
	opts := config.Options{Logger: slog.New(slog.DiscardHandler)}
	f, err := config.Parse([]byte(text), filepath.Join(dir, "example.yaml"), opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	var mu sync.Mutex
	var splits int
	var rows int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := coordinator.RunFile(context.Background(), f, opts, nil, nil)
			if err != nil {
				fmt.Println(err)
			}
			mu.Lock()
			splits, rows = splits+res.Splits, rows+res.Rows
			mu.Unlock()
		}()
	}
	wg.Wait()
	parts, _ := filepath.Glob(filepath.Join(dir, "out", "part-*.csv"))
	fmt.Printf("%d splits, %d rows, %d parts\n", splits, rows, len(parts))
	// Output: 3 splits, 6 rows, 3 parts
}
