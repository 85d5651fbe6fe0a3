package generate

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

func build(t testing.TB, text string, b engine.Build) (engine.Source, error) {
	t.Helper()
	s, err := conformance.BuildStep(t, engine.KindSource, "generate", text, b)
	if err != nil {
		return nil, err
	}
	return s.(engine.Source), nil
}

func mustBuild(t testing.TB, text string, b engine.Build) engine.Source {
	t.Helper()
	s, err := build(t, text, b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestOrdersConformance: the source, read in batches of 8, yields exactly
// what Orders builds in one go.
func TestOrdersConformance(t *testing.T) {
	conformance.RunSource(t, conformance.SourceHarness{
		// The same seed generates the same rows again after a restart.
		AtLeastOnce: true,
		New: func(t *testing.T, rows int, b engine.Build) (conformance.SourceBuilder, arrow.RecordBatch) {
			conf := "{preset: orders, seed: 7, rows: " + strconv.Itoa(rows) + "}"
			return conformance.SourceFromConfig(t, "generate", conf), Orders(b.Mem, rows, 7)
		},
	})
}

const allTypes = `{i8: int8, i16: int16, i32: int32, i64: int64 not null, u8: uint8, u16: uint16, u32: uint32, u64: uint64,
  f32: float32, f64: float64, b: bool, s: utf8, bin: binary, d32: date32, d64: date64,
  ts: "timestamp[ms, UTC]", t32: "time32[s]", t64: "time64[ns]", dur: "duration[us]",
  dec: "decimal128(10,2)", dec256: "decimal256(40,5)"}`

func TestSchemaConformance(t *testing.T) {
	conformance.RunSource(t, conformance.SourceHarness{
		AtLeastOnce: true,
		New: func(t *testing.T, rows int, b engine.Build) (conformance.SourceBuilder, arrow.RecordBatch) {
			build := conformance.SourceFromConfig(t, "generate", "{seed: 3, null_fraction: 0.2, rows: "+strconv.Itoa(rows)+", schema: "+allTypes+"}")
			// The declared schema, as the source resolves it, from a source
			// of the test's own.
			src := build(b)
			schema, err := src.Open(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if err := src.Close(); err != nil {
				t.Fatal(err)
			}
			gen, err := NewRows(schema, 3, 0.2)
			if err != nil {
				t.Fatal(err)
			}
			return build, gen(b.Mem, 0, rows)
		},
	})
}

func TestOrdersDeterministic(t *testing.T) {
	mem := conformance.Checked(t)
	a := Orders(mem, 5000, 42)
	defer a.Release()
	b := Orders(mem, 5000, 42)
	defer b.Release()
	if !array.RecordEqual(a, b) {
		t.Fatal("same seed gave different rows")
	}
	c := Orders(mem, 5000, 43)
	defer c.Release()
	if array.Equal(a.Column(1), c.Column(1)) || array.Equal(a.Column(4), c.Column(4)) {
		t.Fatal("seeds 42 and 43 gave the same customers or amounts")
	}
	part := OrdersRange(mem, 42, 1234, 100)
	defer part.Release()
	whole := a.NewSlice(1234, 1334)
	defer whole.Release()
	if !array.RecordEqual(part, whole) {
		t.Fatal("OrdersRange(1234, 100) differs from rows 1234..1333 of Orders")
	}
}

// TestOrdersShape checks the promises the benchmarks and demo rely on.
func TestOrdersShape(t *testing.T) {
	mem := conformance.Checked(t)
	const n = 100_000
	rec := Orders(mem, n, 1)
	defer rec.Release()
	if !rec.Schema().Equal(OrdersSchema) || rec.NumRows() != n {
		t.Fatalf("schema %s with %d rows", rec.Schema(), rec.NumRows())
	}
	id := rec.Column(0).(*array.Int64)
	cust := rec.Column(1).(*array.String)
	email := rec.Column(2).(*array.String)
	country := rec.Column(3).(*array.String)
	amount := rec.Column(4).(*array.Float64)
	ts := rec.Column(5).(*array.Timestamp)
	note := rec.Column(6).(*array.String)
	var xx, negative int
	customers, countries := map[string]bool{}, map[string]int{}
	for i := range n {
		if id.Value(i) != int64(i+1) {
			t.Fatalf("id[%d] = %d, want %d", i, id.Value(i), i+1)
		}
		name := strings.Fields(strings.ToLower(cust.Value(i)))
		if len(name) != 2 || !strings.HasPrefix(email.Value(i), name[0]+"."+name[1]+"@") {
			t.Fatalf("row %d: email %q does not belong to customer %q", i, email.Value(i), cust.Value(i))
		}
		customers[cust.Value(i)] = true
		c := country.Value(i)
		if len(c) != 2 || strings.ToUpper(c) != c {
			t.Fatalf("row %d: country %q is not two capital letters", i, c)
		}
		countries[c]++
		if c == "XX" {
			xx++
		}
		a := amount.Value(i)
		if a < 0 {
			negative++
		}
		if math.Abs(a) < 1 || math.Abs(a) >= 1000 || math.Round(a*100)/100 != a {
			t.Fatalf("row %d: amount %v is not a two-decimal amount in [1, 1000)", i, a)
		}
		lo := int64(ordersEpoch + int64(i)*250_000)
		if v := int64(ts.Value(i)); v < lo || v >= lo+1_000_000 {
			t.Fatalf("row %d: ts %d outside [%d, %d)", i, v, lo, lo+1_000_000)
		}
		if note.IsValid(i) && note.Value(i) == "" {
			t.Fatalf("row %d: empty note; absent notes must be null", i)
		}
	}
	within := func(name string, got int, lo, hi float64) {
		if f := float64(got) / n; f < lo || f > hi {
			t.Errorf("%s: %.4f of rows, want between %.3f and %.3f", name, f, lo, hi)
		}
	}
	within("XX countries", xx, 0.004, 0.012)
	within("negative amounts", negative, 0.01, 0.025)
	within("notes", n-note.NullN(), 0.04, 0.08)
	if len(customers) < 2000 {
		t.Errorf("only %d distinct customers", len(customers))
	}
	if countries["US"] <= countries["NG"] {
		t.Errorf("country skew missing: US %d, NG %d", countries["US"], countries["NG"])
	}
}

func TestNullFraction(t *testing.T) {
	mem := conformance.Checked(t)
	src := mustBuild(t, "{rows: 20000, null_fraction: 0.25, schema: {a: int64, b: utf8, c: int64 not null}}", conformance.Build(mem, 20000, "source"))
	got := conformance.ReadAll(t, src, 20000, true)
	defer conformance.Release(got)
	rec := got[0]
	for c, want := range []float64{0.25, 0.25, 0} {
		f := float64(rec.Column(c).NullN()) / float64(rec.NumRows())
		if math.Abs(f-want) > 0.02 {
			t.Errorf("column %s: %.3f nulls, want %.2f", rec.ColumnName(c), f, want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{"{rows: 5}", "give a preset (orders) or a schema"},
		{"{preset: orders, schema: {a: int64}}", "not both"},
		{"{preset: customers}", `"customers" is not one of: orders`},
		{"{rows: -1, preset: orders}", "must not be negative"},
		{"{schema: {a: list<int64>}}", `column "a": generate cannot make values of type list<item: int64, nullable>`},
		{"{schema: {a: int65}}", `did you mean "int64"`},
		{"{preset: orders, null_fraction: 2}", "between 0 and 1"},
		{"{preset: orders, rows_per_second: -5}", "must not be negative"},
	} {
		_, err := build(t, tc.conf, engine.Build{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.conf, err, tc.want)
		}
	}
}

func TestReadCancelled(t *testing.T) {
	src := NewOrdersSource(memory.NewGoAllocator(), 10, 1, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := src.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read with a cancelled context = %v", err)
	}
}

// TestPaced: with rows_per_second a source produces batches of a tenth of
// a second of rows and cannot run ahead of its rate. Only a lower bound on
// the time is checked, which a slow machine cannot break.
func TestPaced(t *testing.T) {
	mem := conformance.Checked(t)
	src := mustBuild(t, "{preset: orders, rows: 300, rows_per_second: 1000}", conformance.Build(mem, 1000, "source"))
	start := time.Now()
	got := conformance.ReadAll(t, src, 300, true)
	defer conformance.Release(got)
	took := time.Since(start)
	if len(got) != 3 {
		t.Errorf("%d batches, want 3 of 100 rows (a tenth of a second each)", len(got))
	}
	// The first batch is due at once, the third after 200 rows at 1000/s.
	if took < 200*time.Millisecond {
		t.Errorf("300 rows at 1000 rows/s took %v, want at least 200ms", took)
	}
}

// TestPacedReadCancelled: a paced Read waiting for its rows to be due
// returns as soon as its context ends, so a drain never waits for it.
func TestPacedReadCancelled(t *testing.T) {
	src := mustBuild(t, "{preset: orders, rows: 10, rows_per_second: 0.001}", conformance.Build(memory.NewGoAllocator(), 1000, "source"))
	if _, err := src.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, err := src.Read(context.Background()) // due at once
	if err != nil {
		t.Fatal(err)
	}
	b.Record.Release()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	if _, err := src.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("a Read waiting 1000 s for its row = %v, want context.Canceled", err)
	}
}

// BenchmarkOrders reports generation speed in rows/s; the source must stay
// well above what any pipeline stage can consume (target > 10M rows/s).
func BenchmarkOrders(b *testing.B) {
	mem := memory.NewGoAllocator()
	const batch = 65536
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		OrdersRange(mem, 1, i*batch, batch).Release()
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(0, "ns/op")
}
