package wasmabi

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
)

func TestTransforms(t *testing.T) {
	tests := []struct {
		name   string
		guest  string
		conf   any
		column string
		want   []string
		ids    []string
	}{
		{name: "filter amount", guest: "filter", conf: map[string]any{"column": "amount", "op": ">=", "value": 0},
			column: "id", want: []string{"1", "2", "5"}},
		{name: "filter dictionary country", guest: "filter", conf: map[string]any{"column": "country", "op": "!=", "value": []string{"XX"}},
			column: "id", want: []string{"1", "3", "5"}},
		{name: "mask", guest: "mask", conf: map[string]any{"columns": []string{"email"}},
			column: "email", want: []string{"a***@example.com", "b***@example.org", "null", "É***@mail.fr", "n***"}},
		{name: "derive", guest: "derive", conf: map[string]any{"source": "amount", "target": "amount_cents", "factor": 100},
			column: "amount_cents", want: []string{"1250", "300", "-100", "null", "2"}},
		{name: "enrich", guest: "enrich", conf: map[string]any{"key": "country", "target": "region", "table": map[string]string{"FR": "EMEA", "US": "AMER"}, "default": "OTHER"},
			column: "region", want: []string{"EMEA", "OTHER", "AMER", "OTHER", "OTHER"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			ctx := context.Background()
			s := newStage(t, tc.guest, tc.conf, mem, NewConfig())
			if _, err := s.Bind(ctx, ordersSchema); err != nil {
				t.Fatal(err)
			}
			rec := orders(mem, sample())
			defer rec.Release()
			out, rejects, err := s.Process(ctx, rec)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Release()
			if len(rejects) > 0 {
				t.Fatalf("rejects: %v", rejects)
			}
			if got := column(out, tc.column); !slices.Equal(got, tc.want) {
				t.Errorf("%s = %q, want %q", tc.column, got, tc.want)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestOutputSchema(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := newStage(t, "derive", nil, mem, NewConfig())
	out, err := s.Bind(context.Background(), ordersSchema)
	if err != nil {
		t.Fatal(err)
	}
	want := "id,email,country,amount,amount_cents"
	var names []string
	for _, f := range out.Fields() {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, ","); got != want {
		t.Errorf("output columns %s, want %s", got, want)
	}
}

func TestBindErrors(t *testing.T) {
	tests := []struct {
		name  string
		guest string
		conf  any
		want  string
	}{
		{"missing column", "derive", map[string]any{"source": "price"}, `no column "price"`},
		{"wrong type", "derive", map[string]any{"source": "email"}, `column "email" is utf8, this stage reads it as float64`},
		{"unknown config key", "mask", map[string]any{"colums": []string{"email"}}, `unknown field "colums"`},
		{"guest says no", "hostile", map[string]any{"mode": "bind-error"}, "mode bind-error always fails"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStage(t, tc.guest, tc.conf, nil, NewConfig())
			_, err := s.Bind(context.Background(), ordersSchema)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Bind error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestABIVersionMismatch(t *testing.T) {
	s := newStage(t, "hostile-v2", nil, nil, NewConfig())
	_, err := s.Bind(context.Background(), ordersSchema)
	if !errors.Is(err, ErrABIVersion) {
		t.Fatalf("Bind error %v, want ErrABIVersion", err)
	}
	if want := "module speaks v2, this host speaks v1"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

// TestHostile runs each misbehaviour twice: the first failure must be a
// clear *GuestError, and the stage must still be usable afterwards (the
// broken instance is replaced), which the second call shows.
func TestHostile(t *testing.T) {
	tests := []struct {
		mode string
		want error
		msg  string
	}{
		{"trap", ErrGuestTrap, "assignment to entry in nil map"},
		{"loop", ErrGuestTimeout, "timed out"},
		{"bomb", ErrGuestTrap, "out of memory"},
		{"oob-header", ErrGuestOutput, "result header"},
		{"oob-column", ErrGuestOutput, `column "out": values`},
		{"nonmonotonic", ErrGuestOutput, "not monotonic"},
		{"lying-length", ErrGuestOutput, "outside the guest's"},
		{"bad-utf8", ErrGuestOutput, "not valid UTF-8"},
		{"bad-status", ErrGuestOutput, "result status 7"},
		{"wrong-count", ErrGuestOutput, "3 output columns, the stage declared 1"},
		{"bad-selection", ErrGuestOutput, "selection index"},
		{"bad-error-row", ErrGuestOutput, "row error 0 names row"},
	}
	schema := ordersSchema
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			// Only the loop needs a short timeout; the others must fail
			// for their own reason even on a slow (race-enabled) run.
			timeout := time.Minute
			if tc.want == ErrGuestTimeout {
				timeout = 300 * time.Millisecond
			}
			cfg := NewConfig().WithTimeout(timeout).WithMemoryLimit(64 << 20)
			s := newStage(t, "hostile", map[string]any{"mode": tc.mode}, mem, cfg)
			renamed := renameEmail(schema)
			if _, err := s.Bind(context.Background(), renamed); err != nil {
				t.Fatal(err)
			}
			rec := orders(mem, sample())
			defer rec.Release()
			rec2 := withSchema(rec, renamed)
			defer rec2.Release()
			for range 2 {
				out, _, err := s.Process(context.Background(), rec2)
				if out != nil {
					out.Release()
				}
				var ge *GuestError
				if !errors.As(err, &ge) || !errors.Is(err, tc.want) {
					t.Fatalf("error %v, want a *GuestError wrapping %v", err, tc.want)
				}
				if !strings.Contains(err.Error(), tc.msg) || ge.Module != "hostile.wasm" || ge.Export == "" || ge.Rows != 5 {
					t.Errorf("error %q: want %q, module, export and rows named", err, tc.msg)
				}
			}
		})
	}
}

func TestParallelWorkers(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := context.Background()
	s := newStage(t, "mask", map[string]any{"columns": []string{"email"}}, mem, NewConfig())
	if _, err := s.Bind(ctx, ordersSchema); err != nil {
		t.Fatal(err)
	}
	rec := orders(mem, sample())
	defer rec.Release()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				out, _, err := s.Process(ctx, rec)
				if err != nil {
					t.Error(err)
					return
				}
				if got := column(out, "email")[0]; got != "a***@example.com" {
					t.Errorf("email[0] = %q", got)
				}
				out.Release()
			}
		}()
	}
	wg.Wait()
}

// TestCallerCancel: a looping guest under a long timeout is stopped when
// the caller's context is cancelled, and the error is the caller's, not a
// timeout; the stage then serves the next batch with a fresh instance.
func TestCallerCancel(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := newStage(t, "hostile", map[string]any{"mode": "loop"}, mem, NewConfig().WithTimeout(time.Minute))
	renamed := renameEmail(ordersSchema)
	if _, err := s.Bind(context.Background(), renamed); err != nil {
		t.Fatal(err)
	}
	rec := orders(mem, sample())
	defer rec.Release()
	rec2 := withSchema(rec, renamed)
	defer rec2.Release()
	for range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		start := time.Now()
		out, _, err := s.Process(ctx, rec2)
		cancel()
		if out != nil {
			out.Release()
		}
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrGuestTimeout) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Fatalf("stopped after %s", d)
		}
	}
}
