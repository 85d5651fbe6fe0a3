//go:build unix

package wasmabi

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadModuleStopsAtTheLimit: a module path that is not a regular
// file (a FIFO here; a pipeline could as well name /dev/zero) is read to
// max_module_bytes + 1 bytes at most, then refused with ErrModule naming the
// module and the knob. The writer offers 64 times the limit and sees its
// write fail once the reader closes its end: a reader that read on would
// take it all.
func TestReadModuleStopsAtTheLimit(t *testing.T) {
	const limit = 1 << 20
	path := filepath.Join(t.TempDir(), "endless.wasm")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no FIFO here (%v)", err)
	}
	done := make(chan error, 1)
	go func() {
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			done <- err
			return
		}
		_, err = w.Write(bytes.Repeat([]byte{0}, 64*limit))
		w.Close()
		done <- err
	}()
	_, err := ReadModule(path, testConfig().WithMaxModuleBytes(limit))
	want := "module[endless.wasm]: module size in bytes: over the limit of 1048576 (raise max_module_bytes for a module you trust)"
	if !errors.Is(err, ErrModule) || err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("ReadModule: %v, want ErrModule saying %q", err, want)
	}
	if werr := <-done; werr == nil {
		t.Error("the writer wrote all 64 MiB: ReadModule read past its limit")
	}
}
