package assemblyscript_test

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/internal/wasmtesting"
	"github.com/dataweaver/dataweaver/internal/windowtest"
)

// windowAnswers runs requests through testdata/windows (the SDK's hop and
// Sessions in the line protocol of internal/windowtest) in one batch and
// returns its answers.
func windowAnswers(t *testing.T, reqs []string) []string {
	t.Helper()
	wasm := wasmtesting.Committed(t, "transforms/assemblyscript/testdata/windows", "transforms/assemblyscript/testdata/windows/windows.wasm")
	mem := wasmtesting.Allocator(t)
	schema := arrow.NewSchema([]arrow.Field{{Name: "req", Type: arrow.BinaryTypes.String}}, nil)
	s := wasmtesting.NewStage(t, wasm, nil, mem, wasmtesting.Config().WithCacheDir(cacheDir))
	if _, err := s.Bind(context.Background(), schema); err != nil {
		t.Fatal(err)
	}
	b := array.NewStringBuilder(mem)
	b.AppendValues(reqs, nil)
	col := b.NewArray()
	b.Release()
	rec := wasmtesting.Release(t, array.NewRecordBatch(schema, []arrow.Array{col}, int64(len(reqs))))
	col.Release()
	out, _, err := wasmtesting.Process(t, s, rec)
	if err != nil {
		t.Fatal(err)
	}
	resp := out.Column(int(out.NumCols()) - 1).(*array.String)
	answers := make([]string, resp.Len())
	for i := range answers {
		answers[i] = resp.Value(i)
	}
	return answers
}

// TestWindowHop: hop answers as the sliding windows' definition, on the
// cases dw_hop is tested on (guest-sdk/c/sdktest: random times, widths
// and slides, small and across all of int64, at the ends of int64), so
// the two SDKs agree on them.
func TestWindowHop(t *testing.T) {
	cases := windowtest.HopCases()
	reqs := make([]string, len(cases))
	for i, c := range cases {
		reqs[i] = c.Request()
	}
	for i, got := range windowAnswers(t, reqs) {
		if want := cases[i].Want(); got != want {
			t.Errorf("hop(%d, %d, %d) = %s, want %s", cases[i].T, cases[i].W, cases[i].S, got, want)
		}
	}
}

// TestWindowSessions: Sessions.add, closed and dropFirst, fed one key's
// rows out of order under a watermark, give the sessions their
// definition gives over the rows not late and close some before the
// end, on the cases dw_session_add and dw_sessions_closed are tested on.
func TestWindowSessions(t *testing.T) {
	cases := windowtest.SessionCases()
	reqs := make([]string, len(cases))
	for i, c := range cases {
		reqs[i] = c.Request()
	}
	closedEarly := 0
	for i, got := range windowAnswers(t, reqs) {
		lines := strings.Split(got, "\n")
		if lines[len(lines)-1] != "end" {
			t.Fatalf("case %d: answer does not end with end: %q", i, got)
		}
		closed, err := cases[i].Check(lines[:len(lines)-1])
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		closedEarly += closed
	}
	if closedEarly == 0 {
		t.Fatal("the watermark closed no session before the end: Sessions.closed is untested")
	}
}
