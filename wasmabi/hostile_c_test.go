package wasmabi

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
)

// TestHostileC: a C stage (testdata/hostile/c, built with the C SDK) whose
// compiled code hands the host out-of-bounds pointers — past the end of
// its memory, and wrapping past 2^32 — is refused with ErrGuestOutput
// naming stage, module, column and rule, and the next batch is served by
// a fresh instance: the guest numbers the batches each instance has seen
// in its output, and the batch after the failure is a new instance's
// first.
func TestHostileC(t *testing.T) {
	wasm, err := os.ReadFile(filepath.Join("testdata", "hostile", "c", "hostile.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mode, rule string
	}{
		{"values", `column "out": values: `},
		{"offsets", `column "out": offsets: `},
		{"wrap", `column "out": values: 32 bytes at 0xfffffff0`},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			mem := conformance.Checked(t)
			s := newStageOf(t, "hostile-c.wasm", wasm, map[string]any{"mode": tc.mode}, mem, testConfig().WithMemoryLimit(64<<20))
			b := bindHostile(t, s, mem)
			wantOut(t, s, b.good, "ok 1")
			out, _, err := s.Process(context.Background(), b.boom)
			if out != nil {
				out.Release()
				t.Fatal("the host accepted an out-of-bounds result")
			}
			ge := wantGuestErr(t, err, ErrGuestOutput, exportProcess, 5, tc.rule, "outside the guest's", "batch 2 (rows 0-4)")
			if ge.Module != "hostile-c.wasm" {
				t.Errorf("GuestError.Module %q, want hostile-c.wasm", ge.Module)
			}
			// The failed instance (which had seen two batches) is gone.
			wantOut(t, s, b.good, "ok 1")
			wantOut(t, s, b.good, "ok 2")
		})
	}
}
