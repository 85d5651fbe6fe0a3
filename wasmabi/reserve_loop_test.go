package wasmabi

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/internal/leb128"
)

// TestReserveLoop: a dw_reserve that never returns is stopped by the
// timeout and reported as dw_reserve, the export that looped, not as the
// step it was part of (issue 11 saw dw_bind), both at bind and when a
// batch needs a bigger region. Written as bytes: the Go hostile guest's
// dw_reserve runs before its config arrives, so it cannot be told to loop
// at bind.
func TestReserveLoop(t *testing.T) {
	// (param $size i32) (result i32):
	//   (if (i32.gt_u (local.get $size) (i32.const min)) (then (loop (br 0))))
	//   (i32.const 1024)
	loopOver := func(min int32) []byte {
		b := append([]byte{0x00, 0x20, 0x00}, leb128.AppendS32([]byte{opI32Const}, min)...)
		return append(b, 0x4b, 0x04, 0x40, 0x03, 0x40, 0x0c, 0x00, opEnd, opEnd, opI32Const, 0x80, 0x08)
	}
	tests := []struct {
		name  string
		min   int32 // dw_reserve loops when asked for more than this
		batch int64
	}{
		{name: "at bind", min: 0},
		{name: "at a big batch", min: 64 << 10, batch: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			m := goodModule()
			m.code = map[string][]byte{exportReserve: loopOver(tc.min)}
			m.data[16] = bindAnswerBytes(`{"reads":["email"],"writes":[]}`)
			// The timeout is what stops the loop; 100 ms is only how long
			// the loop runs first.
			s := newStageOf(t, "raw.wasm", m.bytes(), nil, mem, testConfig().WithTimeout(100*time.Millisecond))
			_, err := s.Bind(context.Background(), ordersSchema)
			if tc.batch > 0 {
				if err != nil {
					t.Fatal(err)
				}
				rows := make([]order, 2048)
				for i := range rows {
					rows[i] = order{id: int64(i), email: ptr(strings.Repeat("x", 64))}
				}
				rec := orders(mem, rows)
				t.Cleanup(rec.Release)
				_, _, err = s.Process(context.Background(), rec)
			}
			ge := wantGuestErr(t, err, ErrGuestTimeout, exportReserve, map[bool]int{true: 2048}[tc.batch > 0],
				"guest call timed out after 100ms")
			if ge.Batch != tc.batch {
				t.Errorf("batch %d, want %d", ge.Batch, tc.batch)
			}
		})
	}
}

// TestInitializeLoop: an _initialize that never returns is stopped by the
// stage's timeout like any export (the host calls _initialize through its
// call wrapper): under the host's loop checks, under wazero's with its
// per-call watcher detached (the stopper sets the exit code), and with
// the watcher kept.
func TestInitializeLoop(t *testing.T) {
	// () -> i32, as rawModule types an unknown export: (loop (br 0)) (i32.const 0)
	loop := []byte{0x00, 0x03, 0x40, 0x0c, 0x00, opEnd, opI32Const, 0x00}
	for _, tc := range []struct {
		name               string
		wazeroChecks, keep bool
	}{{"loop-checks", false, false}, {"detached", true, false}, {"wazero-watcher", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			mem := conformance.Checked(t)
			m := goodModule()
			m.exports[exportInit] = 0
			m.code = map[string][]byte{exportInit: loop}
			cfg := testConfig().WithTimeout(100 * time.Millisecond)
			cfg.wazeroChecks, cfg.keepWatcher = tc.wazeroChecks, tc.keep
			s := newStageOf(t, "raw.wasm", m.bytes(), nil, mem, cfg)
			_, err := s.Bind(context.Background(), ordersSchema)
			wantGuestErr(t, err, ErrGuestTimeout, exportInit, 0, "guest call timed out after 100ms")
		})
	}
}
