package wasmabi

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/engine"
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
			s := newStage(t, tc.guest, tc.conf, mem, testConfig())
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
	s := newStage(t, "derive", nil, mem, testConfig())
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
			s := newStage(t, tc.guest, tc.conf, nil, testConfig())
			_, err := s.Bind(context.Background(), ordersSchema)
			// A configuration or schema the guest refuses is the user's
			// to fix, before any data flows: a schema error naming the
			// stage and module, not a guest failure.
			if !errors.Is(err, engine.ErrSchema) || !strings.Contains(err.Error(), tc.want) ||
				!strings.Contains(err.Error(), "stages[0].wasm: module["+tc.guest+".wasm]") {
				t.Fatalf("Bind error %v, want engine.ErrSchema naming stage and module, containing %q", err, tc.want)
			}
		})
	}
}

func TestParallelWorkers(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	// After the stage's Close (a cleanup registered later runs first):
	// the stage keeps released output buffers for reuse until then.
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	ctx := context.Background()
	s := newStage(t, "mask", map[string]any{"columns": []string{"email"}}, mem, testConfig())
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
