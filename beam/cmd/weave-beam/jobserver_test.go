package main_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/beam/internal/beamtest"
	_ "github.com/dataweaver/dataweaver/connectors/all"
	"github.com/dataweaver/dataweaver/engine"
)

// build compiles a main package of the module into dir.
func build(t *testing.T, dir, name, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestPrismJobServer submits the demo and W1 jobs the way a Flink or Spark
// job server takes them: Beam's own Prism command runs as a job server in
// a process of its own, weave-beam submits to it over the Job API
// (--runner=universal), and Prism starts the workers as separate
// processes of weave-beam (a PROCESS environment), which boot the Beam
// harness and run the splits over the Fn API. The outputs equal weave
// run's (the local engine's) on the same files.
func TestPrismJobServer(t *testing.T) {
	bin := t.TempDir()
	weaveBeam := build(t, bin, "weave-beam", ".")
	prism := build(t, bin, "prism", "github.com/apache/beam/sdks/v2/go/cmd/prism")
	wasm := beamtest.CGuests(t)
	root := beamtest.Root(t)

	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	var serverLog bytes.Buffer
	server := exec.CommandContext(ctx, prism, fmt.Sprintf("--job_port=%d", port), "--serve_http=false", "--log_level=warn")
	server.Stdout, server.Stderr = &serverLog, &serverLog
	// The workers Prism starts inherit its working directory, where the
	// pipeline files' relative paths must resolve, as on a cluster whose
	// workers see the same files at the same paths.
	server.Dir = root
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = server.Wait()
		if t.Failed() {
			t.Logf("prism's log:\n%s", serverLog.String())
		}
	})
	// The job server is up when its port takes connections.
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if server.ProcessState != nil {
			t.Fatalf("prism exited: %s", serverLog.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	t.Chdir(root)
	for _, j := range beamtest.Jobs {
		t.Run(j.Name, func(t *testing.T) {
			local, onBeam := t.TempDir(), t.TempDir()
			if _, err := (engine.Local{}).Run(context.Background(), j.Load(t, wasm, local)); err != nil {
				t.Fatal(err)
			}
			args := []string{
				"--runner=universal",
				fmt.Sprintf("--endpoint=localhost:%d", port),
				"--environment_type=PROCESS",
				`--environment_config={"command": "` + weaveBeam + `"}`,
				"--worker_binary=" + weaveBeam,
			}
			args = append(args, j.SetFlags(onBeam)...)
			args = append(args, "run", j.File)
			cmd := exec.Command(weaveBeam, args...)
			cmd.Env = append(os.Environ(), "WASM="+wasm, "OUT="+onBeam)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("weave-beam: %v\n%s", err, out)
			}
			if !j.SameRows(t, local, onBeam) {
				t.Logf("weave-beam's output:\n%s", out)
			}
		})
	}
}
