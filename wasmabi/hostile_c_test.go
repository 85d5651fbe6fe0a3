package wasmabi

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"
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
	if err := os.WriteFile(filepath.Join(guestDir, "hostile-c.wasm"), wasm, 0o644); err != nil {
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
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			ctx := context.Background()
			s := newStage(t, "hostile-c", map[string]any{"mode": tc.mode}, mem, NewConfig().WithMemoryLimit(64<<20))
			renamed := renameEmail(ordersSchema)
			if _, err := s.Bind(ctx, renamed); err != nil {
				t.Fatal(err)
			}
			good := orders(mem, sample())
			defer good.Release()
			rows := sample()
			rows[0].email = ptr("boom")
			boom := orders(mem, rows)
			defer boom.Release()
			goodRec, boomRec := withSchema(good, renamed), withSchema(boom, renamed)
			defer goodRec.Release()
			defer boomRec.Release()

			wantOut := func(want string) {
				t.Helper()
				out, _, err := s.Process(ctx, goodRec)
				if err != nil {
					t.Fatalf("good batch: %v", err)
				}
				defer out.Release()
				for i, v := range column(out, "out") {
					if v != want {
						t.Fatalf("out[%d] = %q, want %q", i, v, want)
					}
				}
			}
			wantOut("ok 1")
			out, _, err := s.Process(ctx, boomRec)
			if out != nil {
				out.Release()
				t.Fatal("the host accepted an out-of-bounds result")
			}
			var ge *GuestError
			if !errors.Is(err, ErrGuestOutput) || !errors.As(err, &ge) {
				t.Fatalf("error %v, want a *GuestError wrapping ErrGuestOutput", err)
			}
			msg := err.Error()
			t.Log(msg)
			for _, want := range []string{"stages[0].wasm", "module[hostile-c.wasm]", "function[dw_process]", tc.rule, "outside the guest's"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			if ge.Stage != "stages[0].wasm" || ge.Module != "hostile-c.wasm" || ge.Rows != 5 {
				t.Errorf("GuestError %+v: want stage, module and the batch's 5 rows", ge)
			}
			// The failed instance (which had seen two batches) is gone.
			wantOut("ok 1")
			wantOut("ok 2")
		})
	}
}
