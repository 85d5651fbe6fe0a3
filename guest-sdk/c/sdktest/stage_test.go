package sdktest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/wasmtesting"
	"github.com/dataweaver/dataweaver/wasmabi"
)

// stageModule is testdata/stage (the whole-SDK test stage) as committed
// beside its source, so these tests need only Go; with DW_WASM_FRESH=1
// (make test-fresh) it is rebuilt from source and must match.
func stageModule(t *testing.T) []byte {
	t.Helper()
	return wasmtesting.Committed(t, "guest-sdk/c/sdktest/testdata/stage", "guest-sdk/c/sdktest/testdata/stage/stage.wasm")
}

func newStage(t *testing.T, conf any, mem memory.Allocator, cfg wasmabi.Config) *wasmabi.Stage {
	t.Helper()
	return wasmtesting.NewStage(t, stageModule(t), conf, mem, cfg.WithCacheDir(""))
}

// process runs rec through a stage built with conf and returns the output
// rows (rendered) and the rejected rows' messages.
func process(t *testing.T, s *wasmabi.Stage, rec arrow.RecordBatch) ([][]string, map[int]string, error) {
	t.Helper()
	out, rejects, err := wasmtesting.Process(t, s, rec)
	if err != nil {
		return nil, nil, err
	}
	msgs := map[int]string{}
	for _, r := range rejects {
		msgs[r.Row] = r.Err.Error()
	}
	return wasmtesting.Rows(out), msgs, nil
}

// TestIdentity: every column read through its view and written back
// through its builder comes out unchanged, for every type, with nulls,
// empty and sliced batches (re-based offsets, re-packed bitmaps).
func TestIdentity(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	s := newStage(t, nil, mem, wasmtesting.Config())
	outSchema, err := s.Bind(context.Background(), wasmtesting.AllTypes)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := outSchema.Field(17).Type, arrow.BinaryTypes.String; !arrow.TypeEqual(got, want) {
		t.Errorf("large_utf8 written back as %s, want %s", got, want)
	}
	for name, rec := range wasmtesting.AllTypesInputs(t, mem) {
		got, _, err := process(t, s, rec)
		want := wasmtesting.Rows(rec)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d rows out, %d in", name, len(got), len(want))
		}
		for i := range want {
			for j := range want[i] {
				if got[i][j] != want[i][j] {
					t.Fatalf("%s: row %d column %s: got %s, want %s", name, i, wasmtesting.AllTypes.Field(j).Name, got[i][j], want[i][j])
				}
			}
		}
	}
}

// TestSelection: dw_drop, dw_keep_bits and dw_rejectf leave out the same
// rows (0, 3, 6, …); rejected rows carry their message.
func TestSelection(t *testing.T) {
	for _, mode := range []string{"drop", "keep_bits", "reject"} {
		t.Run(mode, func(t *testing.T) {
			mem := wasmtesting.Allocator(t)
			s := newStage(t, map[string]any{"mode": mode, "every": 3}, mem, wasmtesting.Config())
			if _, err := s.Bind(context.Background(), wasmtesting.AllTypes); err != nil {
				t.Fatal(err)
			}
			rec := wasmtesting.Release(t, wasmtesting.AllTypesRecord(mem, 100, 1))
			got, rejects, err := process(t, s, rec)
			if err != nil {
				t.Fatal(err)
			}
			var want [][]string
			for i, row := range wasmtesting.Rows(rec) {
				if i%3 != 0 {
					want = append(want, row)
				} else if mode == "reject" {
					if msg := fmt.Sprintf("row %d rejected by stages[0].wasm", i); !strings.Contains(rejects[i], msg) {
						t.Errorf("row %d: reject %q, want %q", i, rejects[i], msg)
					}
				}
			}
			if mode == "reject" && len(rejects) != 34 {
				t.Errorf("%d rows rejected, want 34", len(rejects))
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("kept rows differ:\ngot  %.300v\nwant %.300v", got, want)
			}
		})
	}
}

// TestFailures: a failed batch, a trapped instance and a refused output
// type each say what happened, and the stage recovers for the next batch.
func TestFailures(t *testing.T) {
	tests := []struct {
		mode string
		want error
		msg  string
	}{
		{"fail", wasmabi.ErrGuestFailed, "failing a batch of 5 rows as asked"},
		{"trap", wasmabi.ErrGuestTrap, "more values appended than the batch has rows"},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			mem := wasmtesting.Allocator(t)
			s := newStage(t, map[string]any{"mode": tc.mode}, mem, wasmtesting.Config())
			if _, err := s.Bind(context.Background(), wasmtesting.AllTypes); err != nil {
				t.Fatal(err)
			}
			rec := wasmtesting.Release(t, wasmtesting.AllTypesRecord(mem, 5, 2))
			for range 2 {
				_, _, err := process(t, s, rec)
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("error %v, want %v saying %q", err, tc.want, tc.msg)
				}
			}
		})
	}
}

func TestLog(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	var logs wasmtesting.Logs
	s := newStage(t, map[string]any{"mode": "log"}, mem, wasmtesting.Config().WithLogger(logs.Logger()))
	if _, err := s.Bind(context.Background(), wasmtesting.AllTypes); err != nil {
		t.Fatal(err)
	}
	rec := wasmtesting.Release(t, wasmtesting.AllTypesRecord(mem, 5, 3))
	if _, _, err := process(t, s, rec); err != nil {
		t.Fatal(err)
	}
	if want := `level=WARN msg="stages[0].wasm: 5 rows" stage=stages[0].wasm`; !strings.Contains(logs.String(), want) {
		t.Errorf("log %q does not hold %q", logs.String(), want)
	}
}

// TestConfig: the accessors' answers (echoed by the stage as its bind
// error) and the configurations the SDK refuses.
func TestConfig(t *testing.T) {
	tests := []struct {
		name string
		conf any
		want string
	}{
		{"accessors", map[string]any{"mode": "config", "STR": "hello", "num": 2.5, "flag": true, "list": []any{"a", nil, "c"},
			"obj": map[string]any{"k": []any{1, map[string]any{"x": "y\u00e9"}}}},
			"echo: str=hello num=2.5 flag=1 list=3:[a][][c] obj.k[1].x=yé stage=stages[0].wasm"},
		{"defaults", map[string]any{"mode": "config"}, "echo: str=(absent) num=-1 flag=0 list=0: obj.k[1].x=? stage=stages[0].wasm"},
		{"nulls are absent", map[string]any{"mode": "config", "str": nil, "num": nil}, "echo: str=(absent) num=-1"},
		{"unknown key", map[string]any{"bogus": 1, "every": 0}, `config: unknown field "bogus"; config: every must be at least 1`},
		{"wrong type", map[string]any{"every": "x"}, "config: every: want a number, not a string"},
		{"out of range", map[string]any{"every": json1e400{}}, "config: every: number 1e400 is out of range"},
		{"not a mapping", []any{1}, "config: want a mapping, not an array"},
		{"large output", map[string]any{"mode": "large"}, `column "big": write large_utf8 columns as utf8`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStage(t, tc.conf, wasmtesting.Allocator(t), wasmtesting.Config())
			_, err := s.Bind(context.Background(), wasmtesting.AllTypes)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("bind error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// json1e400 marshals as a JSON number outside float64's range.
type json1e400 struct{}

func (json1e400) MarshalJSON() ([]byte, error) { return []byte("1e400"), nil }
