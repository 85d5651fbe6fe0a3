package wasmabi

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

// TestKeyed: the hostile cases of a stage keyed over 3 instances. Its
// state is one record holding each instance's (and restores into 3); a
// snapshot over the limit names the instance; a failed batch of a
// stateful keyed stage loses every instance's state (fatal, then
// ErrStateLost), while a stateless one's failure is the batch's alone; a
// key column that is missing or cannot be hashed fails Bind.
func TestKeyed(t *testing.T) {
	ctx := context.Background()
	snap := func(p, n uint32) map[uint32][]byte { return map[uint32][]byte{v2Snap: words(p, n)} }
	bound := func(t *testing.T, m rawModule, cfg Config, key ...string) *Stage {
		s := newStageOf(t, "v2.wasm", m.bytes(), nil, conformance.Checked(t), cfg.WithKey(key...))
		if !s.Partition(3) {
			t.Fatal("a keyed stage does not partition")
		}
		if _, err := s.Bind(ctx, ordersSchema); err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Run("state", func(t *testing.T) {
		s := bound(t, stateModule(v2State, absent, v2Snap, 0, snap(v2Values, 8)), testConfig(), "id")
		state, err := s.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := len(keyedMagic) + 4 + 3*(4+8); len(state) != want || !strings.HasPrefix(string(state), keyedMagic) {
			t.Fatalf("Snapshot: %d bytes, want %d: the magic, the count, 3 states of 8 bytes", len(state), want)
		}
		if err := bound(t, stateModule(v2State, absent, v2Snap, 0, snap(v2Values, 8)), testConfig(), "id").Restore(ctx, state); err != nil {
			t.Fatal(err)
		}
		// A count that the bytes cannot hold is refused before any
		// allocation it would size.
		lie := append([]byte(keyedMagic), 0xff, 0xff, 0xff, 0xff)
		if err := s.Restore(ctx, lie); !errors.Is(err, ErrStateRefused) || !strings.Contains(err.Error(), "claims 4294967295 instances") {
			t.Fatalf("Restore of a lying count: %v", err)
		}
	})
	t.Run("snapshot too large", func(t *testing.T) {
		s := bound(t, stateModule(v2State, absent, v2Snap, 0, snap(v2Values, 4096)), testConfig().WithMaxState(1000), "id")
		_, err := s.Snapshot(ctx)
		wantGuestErr(t, err, ErrStateTooLarge, exportSnapshot, 0, "instance 0 of 3: ", "over the stage's limit of 1000 (max_state)")
	})
	t.Run("a failed batch loses every instance's state", func(t *testing.T) {
		m := stateModule(v2State, absent, v2Snap, v2Message, snap(v2Values, 8))
		m.exports[exportProcess] = 65530 // the result header runs past memory
		s := bound(t, m, testConfig(), "id", "country")
		rec := orders(conformance.Checked(t), sample())
		t.Cleanup(rec.Release)
		_, _, err := s.Process(ctx, rec)
		wantGuestErr(t, err, ErrGuestOutput, exportProcess, 5, "result header")
		if !engine.IsFatal(err) {
			t.Error("a failed batch of a stateful keyed stage is not fatal")
		}
		if _, _, err := s.Process(ctx, rec); !errors.Is(err, ErrStateLost) {
			t.Errorf("the batch after: %v, want ErrStateLost", err)
		}
		if _, err := s.Snapshot(ctx); !errors.Is(err, ErrStateLost) {
			t.Errorf("the snapshot after: %v, want ErrStateLost", err)
		}
	})
	t.Run("a stateless stage's failure is the batch's", func(t *testing.T) {
		m := stateModule(v2Own, absent, absent, absent, nil)
		m.exports[exportProcess] = 65530
		s := bound(t, m, testConfig(), "email")
		rec := orders(conformance.Checked(t), sample())
		t.Cleanup(rec.Release)
		_, _, err := s.Process(ctx, rec)
		wantGuestErr(t, err, ErrGuestOutput, exportProcess, 5, "result header")
		if engine.IsFatal(err) {
			t.Error("a failed batch of a stateless keyed stage is fatal")
		}
		// The failed instances were replaced: the next batch fails the
		// same way, not with a closed module.
		_, _, err = s.Process(ctx, rec)
		wantGuestErr(t, err, ErrGuestOutput, exportProcess, 5, "result header")
	})
	t.Run("bind", func(t *testing.T) {
		for key, msg := range map[string]string{"nope": `key: no single column "nope"`} {
			s := newStageOf(t, "v2.wasm", stateModule(v2Own, absent, absent, absent, nil).bytes(), nil, conformance.Checked(t), testConfig().WithKey(key))
			s.Partition(2)
			if _, err := s.Bind(ctx, ordersSchema); !errors.Is(err, engine.ErrSchema) || !strings.Contains(err.Error(), msg) {
				t.Errorf("key %s: Bind: %v, want %q", key, err, msg)
			}
		}
	})
}
