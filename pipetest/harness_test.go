package pipetest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/pipetest"
)

var amounts = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}, nil)

func amountRecord(mem memory.Allocator, ids []int64, values []float64) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, amounts)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues(ids, nil)
	b.Field(1).(*array.Float64Builder).AppendValues(values, nil)
	return b.NewRecordBatch()
}

// TestRunCapturesEveryStep: with one row per batch, every step's batches
// are captured in order, the dead letter too, and nothing leaks.
func TestRunCapturesEveryStep(t *testing.T) {
	mem := conformance.Checked(t)
	p, err := pipetest.Load("testdata/cents.yaml", pipetest.Options{Mem: mem, Set: []string{"batch.rows=1"}})
	if err != nil {
		t.Fatal(err)
	}
	// One record per row: a memory source serves each as its own batch.
	var recs []arrow.RecordBatch
	for i, a := range []float64{1, 1e300, 3, 4} {
		recs = append(recs, amountRecord(mem, []int64{int64(i + 1)}, []float64{a}))
	}
	defer conformance.Release(recs)
	res, err := p.Run(context.Background(), pipetest.Records(amounts, recs...))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	if got := strings.Join(p.Steps(), ","); got != "source.file,cents,sinks[0].file" {
		t.Errorf("Steps = %s", got)
	}
	want := map[string][]string{
		"source.file":   {"[1]", "[2]", "[3]", "[4]"},
		"cents":         {"[100]", "[300]", "[400]"},
		"sinks[0].file": {"[100]", "[300]", "[400]"},
	}
	for name, batches := range want {
		out := res.Step(name)
		if out == nil {
			t.Fatalf("no output for %s", name)
		}
		var got []string
		for _, r := range out.Records {
			got = append(got, r.Column(int(r.NumCols())-1).String())
		}
		if name == "source.file" {
			got = got[:0]
			for _, r := range out.Records {
				got = append(got, r.Column(0).String())
			}
		}
		if strings.Join(got, " ") != strings.Join(batches, " ") {
			t.Errorf("%s: batches %v, want %v", name, got, batches)
		}
	}
	if len(res.DeadLetters) != 1 || res.DeadLetters[0].Step != "cents" || res.DeadLetters[0].Row != 0 ||
		res.DeadLetters[0].Record != `{"id":2,"amount":1e+300}` {
		t.Errorf("dead letters = %+v", res.DeadLetters)
	}
	if m := res.Metrics.Step("cents"); m == nil || m.RowsOut.Load() != 3 || m.DeadLettered.Load() != 1 {
		t.Errorf("metrics of cents = %+v", m)
	}
}

// TestRunFailureKeepsOutput: a run that fails still returns what the steps
// emitted before, so a test can look at a failure.
func TestRunFailureKeepsOutput(t *testing.T) {
	mem := conformance.Checked(t)
	p, err := pipetest.Load("testdata/cents.yaml", pipetest.Options{Mem: mem, Set: []string{"on_error=fail", "batch.rows=1"}})
	if err != nil {
		t.Fatal(err)
	}
	rec := amountRecord(mem, []int64{1, 2}, []float64{1, 1e300})
	defer rec.Release()
	res, err := p.Run(context.Background(), pipetest.Records(amounts, rec))
	if err == nil || !strings.Contains(err.Error(), "does not fit in int64") {
		t.Fatalf("err = %v, want the stage's reject", err)
	}
	defer res.Release()
	if out := res.Step("source.file"); out == nil || out.Rows() < 1 {
		t.Errorf("source output lost: %+v", out)
	}
	if len(res.DeadLetters) != 0 {
		t.Errorf("dead letters under on_error: fail: %v", res.DeadLetters)
	}
}

// TestSuiteFailures: what each kind of difference reads like. Expected
// rows naming a column the step does not emit are a schema difference,
// reported as one before any value.
func TestSuiteFailures(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"unknown column", `
  - name: x
    input: {rows: [{id: 1, amount: 2}]}
    expect:
      - step: cents
        rows: [{id: 1, amount: 2, cents: 200}]`,
			[]string{"step cents: schema differs (rows not compared):", "column cents (t.test.yaml:7): expected, but the step has no such column (its columns: id, amount, amount_cents)"}},
		{"value of the wrong type", `
  - name: x
    input: {rows: [{id: 1, amount: 2}]}
    expect:
      - step: cents
        rows: [{id: 1, amount: 2, amount_cents: two}]`,
			[]string{"expected rows do not fit the step's schema (id int64, amount float64, amount_cents int64):", "t.test.yaml:7: column amount_cents: value \"two\" does not fit int64"}},
		{"missing row in the middle", `
  - name: x
    input: {rows: [{id: 1, amount: 1}, {id: 3, amount: 3}]}
    expect:
      - step: cents
        rows:
          - {id: 1, amount: 1, amount_cents: 100}
          - {id: 2, amount: 2, amount_cents: 200}
          - {id: 3, amount: 3, amount_cents: 300}`,
			[]string{"rows differ (3 expected, 2 got):\n  row 2 (t.test.yaml:9): missing\n      expected: {id: 2, amount: 2, amount_cents: 200}"}},
		{"unordered extra row", `
  - name: x
    input: {rows: [{id: 1, amount: 1}, {id: 3, amount: 3}]}
    expect:
      - step: cents
        unordered: true
        rows:
          - {id: 1, amount: 1, amount_cents: 100}`,
			[]string{"rows differ, in any order (1 expected, 2 got):\n  got row 2: not expected\n      got:      {id: 3, amount: 3, amount_cents: 300}"}},
		{"columns: a subset, in another order", `
  - name: x
    input: {rows: [{id: 1, amount: 1}, {id: 3, amount: 3}]}
    expect:
      - step: cents
        columns: [amount_cents, id]
        rows:
          - {amount_cents: 100, id: 1}
          - {amount_cents: 301, id: 3}`,
			[]string{"row 2 (t.test.yaml:10), column amount_cents: expected 301, got 300\n      expected: {amount_cents: 301, id: 3}\n      got:      {amount_cents: 300, id: 3}"}},
		{"columns: a row gives another", `
  - name: x
    input: {rows: [{id: 1, amount: 1}]}
    expect:
      - step: cents
        columns: [id]
        rows: [{id: 1, amount: 1}]`,
			[]string{"column amount (t.test.yaml:8): not among the compared columns: id"}},
		{"columns: not emitted", `
  - name: x
    input: {rows: [{id: 1, amount: 1}]}
    expect:
      - step: cents
        columns: [id, cents]
        rows: [{id: 1}]`,
			[]string{"schema differs (rows not compared):\n    column cents (in columns:): the step has no such column (its columns: id, amount, amount_cents)"}},
		{"expected error missing", `
  - name: x
    input: {rows: [{id: 1, amount: 1}]}
    error: boom`,
			[]string{"the run succeeded, expected it to fail with an error containing \"boom\""}},
		{"count", `
  - name: x
    input: {rows: [{id: 1, amount: 1}]}
    expect: [{step: cents, count: 2}]`,
			[]string{"t.test.yaml:5: step cents: got 1 rows, expected count 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := "pipeline: testdata/cents.yaml\ntests:" + tt.text + "\n"
			s, err := pipetest.ParseSuite([]byte(text), "t.test.yaml")
			if err != nil {
				t.Fatal(err)
			}
			res := s.Run(context.Background(), pipetest.Options{Mem: conformance.Checked(t)})
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			got := strings.Join(res.Cases[0].Failures, "\n")
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("failures do not contain %q:\n%s", w, got)
				}
			}
		})
	}
}
