package assemblyscript_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/internal/wasmtesting"
	"github.com/dataweaver/dataweaver/wasmabi"
)

// sdkModule is testdata/sdkcheck as committed beside its source, so
// TestSDK needs only Go; with DW_WASM_FRESH=1 (make test-fresh) it is
// rebuilt with weave build's code and must match.
func sdkModule(t *testing.T) []byte {
	t.Helper()
	return wasmtesting.Committed(t, "transforms/assemblyscript/testdata/sdkcheck", "transforms/assemblyscript/testdata/sdkcheck/sdkcheck.wasm")
}

func TestSDK(t *testing.T) {
	wasm := sdkModule(t)
	tests := []struct {
		name    string
		conf    map[string]any
		bindErr []string // substrings of the bind error
		runErr  []string // substrings of the process error
		want    []string // substrings of the output dump
		logs    []string // substrings of the log
	}{
		{name: "echo", conf: map[string]any{"mode": "echo", "log": "hello", "opts": map[string]any{"n": 2.5, "on": true, "names": []string{"a", "b"}}},
			want: []string{
				"schema:\n  fields: 8",
				"id: type=int64", "amount: type=float64, nullable", "country: type=utf8, nullable\n    - flag", "country: type=utf8, nullable", "flag: type=bool, nullable",
				"twice: type=int64, nullable", "upper: type=utf8, nullable", "not_flag: type=bool, nullable", "raw: type=binary, nullable",
				"twice: [0 2 4 6 8 10 12 14 16 18",
				"amount: [0.5 0.5 3 -2 (null) 1e+300 NaN +Inf -Inf (null)",
				`upper: ["FR" "DE" (null) "ÜNÏ" "日本" (null) "😀" "FR" (null) "DE"`,
				`raw: ["FRFR" "DEDE" (null) "ÜnïÜnï"`,
				"not_flag: [false true true (null) true true false (null) true false",
				"rejected: []",
			},
			logs: []string{`level=INFO msg="hello stage=stages[0].wasm columns=5 n=2.5 on=yes names=a+b"`}},
		{name: "drop and reject", conf: map[string]any{"mode": "drop"},
			want: []string{"rows 8", "id: [0 2 4 6 8 10 12 14]", `rejected: ["13: thirteen ×"]`},
			logs: []string{`level=WARN msg="dropped odd ids"`}},
		{name: "batch failure", conf: map[string]any{"mode": "fail"}, runErr: []string{"batch of 15 rows failed on purpose"}},
		{name: "abort", conf: map[string]any{"mode": "abort"},
			runErr: []string{"guest trapped", "abort: boom ünïcode at ", "assembly/index.ts:"},
			logs:   []string{"level=ERROR", "abort: boom ünïcode"}},
		{name: "unwritten output", conf: map[string]any{"mode": "unwritten"}, runErr: []string{`output column "twice" was not written for this batch`}},
		{name: "setup errors are all reported", conf: map[string]any{"mode": "badtype"},
			bindErr: []string{`column "id" is int64, this stage reads it as i32`, `column "x": type int64 cannot be written as f64`, `drop: no column "nope"`}},
		{name: "unknown config key", conf: map[string]any{"mode": "echo", "opts": map[string]any{"bogus": 1}}, bindErr: []string{`config: opts.unknown field "bogus"`}},
		{name: "wrong config type", conf: map[string]any{"mode": "echo", "opts": map[string]any{"on": "yes"}}, bindErr: []string{"config: opts.on: want true or false, got a string"}},
		{name: "config not a mapping", conf: map[string]any{"mode": "echo", "opts": []int{1}}, bindErr: []string{"config: opts: want a mapping, got a list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := wasmtesting.Allocator(t)
			var logs wasmtesting.Logs
			cfg := wasmtesting.Config().WithCacheDir(cacheDir).WithLogger(logs.Logger())
			s, err := newStage(t, wasm, tt.conf, mem, cfg)
			if len(tt.bindErr) > 0 {
				if err == nil {
					t.Fatal("bind succeeded; want an error")
				}
				for _, w := range tt.bindErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("bind error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rec := wasmtesting.Release(t, testBatch(mem, 15, true))
			out, rejects, err := wasmtesting.Process(t, s, rec)
			if len(tt.runErr) > 0 {
				if err == nil {
					t.Fatal("process succeeded; want an error")
				}
				for _, w := range tt.runErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("process error %q lacks %q", err, w)
					}
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				msgs := make([]string, len(rejects))
				for i, r := range rejects {
					msgs[i] = strconv.Itoa(r.Row) + ": " + r.Err.Error()
				}
				d := dump(out, msgs)
				for _, w := range tt.want {
					if !strings.Contains(d, w) {
						t.Errorf("output lacks %q:\n%s", w, d)
					}
				}
			}
			for _, w := range tt.logs {
				if !strings.Contains(logs.String(), w) {
					t.Errorf("log lacks %q:\n%s", w, logs.String())
				}
			}
		})
	}
}

// TestManyBatches runs batches of growing and shrinking sizes through one
// instance, so the host reserves a larger region several times and the
// SDK's buffers grow and are reused, and compares every output with the
// Go transform's.
func TestManyBatches(t *testing.T) {
	for _, tc := range []struct {
		name string
		conf any
	}{
		{"filter", map[string]any{"column": "country", "op": "!=", "value": "FR"}},
		{"filter", map[string]any{"column": "amount", "op": "<", "value": 3}},
		{"mask", map[string]any{"columns": []string{"email", "country"}}},
		{"derive", map[string]any{"factor": 1e17}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := wasmtesting.Allocator(t)
			cfg := wasmtesting.Config().WithCacheDir(cacheDir)
			var stages []*wasmabi.Stage
			for _, lang := range []string{"go", "as"} {
				s, err := newStage(t, modules[lang+"/"+tc.name], tc.conf, mem, cfg)
				if err != nil {
					t.Fatal(err)
				}
				stages = append(stages, s)
			}
			// No empty batch here: the host's take() dereferences the missing
			// values buffer of an empty bool column (the conformance table
			// covers empty batches, without a bool column).
			for i, n := range []int{1, 9, 64, 1000, 65, 20000, 3, 70000, 2, 777} {
				rec := wasmtesting.Release(t, testBatch(mem, n, i%2 == 0))
				var dumps []string
				for _, s := range stages {
					out, rejects, err := wasmtesting.Process(t, s, rec)
					if err != nil {
						t.Fatalf("batch %d (%d rows): %v", i, n, err)
					}
					// Rows only: a message quoting a 17-digit value may differ
					// in its last digit (formatFloat's Grisu digits are not
					// always Go's closest shortest form).
					rows := make([]string, len(rejects))
					for j, r := range rejects {
						rows[j] = strconv.Itoa(r.Row)
					}
					dumps = append(dumps, dump(out, rows))
				}
				if dumps[0] != dumps[1] {
					t.Fatalf("batch %d (%d rows): outputs differ: %s", i, n, firstDiff(dumps[0], dumps[1]))
				}
			}
		})
	}
}

// firstDiff shows where a (Go) and b (AssemblyScript) first differ.
func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-200)
	return fmt.Sprintf("at byte %d:\nGo:  …%.400s\nAS:  …%.400s", i, a[from:], b[from:])
}

// TestRejectsDoNotLeak rejects every row of many batches in a small
// memory: the messages are managed strings, and the SDK's minimal runtime
// collects only when asked, which dw_process does after a batch with
// rejects. Without that the instance runs out of memory and traps.
func TestRejectsDoNotLeak(t *testing.T) {
	mem := wasmtesting.Allocator(t)
	cfg := wasmtesting.Config().WithCacheDir(cacheDir).WithMemoryLimit(16 << 20)
	s, err := newStage(t, modules["as/derive"], map[string]any{"factor": 1e300}, mem, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(mem, schema)
	for i := range 20000 {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.Float64Builder).Append(float64(i) + 0.25) // × 1e300: too big
		b.Field(2).AppendNull()
		b.Field(3).AppendNull()
		b.Field(4).AppendNull()
	}
	rec := wasmtesting.Release(t, b.NewRecordBatch())
	b.Release()
	for i := range 30 {
		out, rejects, err := s.Process(context.Background(), rec)
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		n := out.NumRows()
		out.Release()
		if n != 0 || len(rejects) != 20000 {
			t.Fatalf("batch %d: %d rows out, %d rejected; want 0 and 20000", i, n, len(rejects))
		}
	}
}
