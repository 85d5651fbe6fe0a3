// Package windowtest holds what the tests of the window_agg transforms
// share (transforms/assemblyscript, transforms/conformance): orders with
// nullable keys, amounts and times, in event-time or arrival order; their
// batches; a rendering of each call's output exact to the bit; and
// window_agg computed in Go. windows.go holds the cases and definitions
// of the SDKs' sliding and session window helpers, which the C and
// AssemblyScript SDKs' tests share.
package windowtest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/orders"
	"github.com/dataweaver/dataweaver/internal/wasmtesting"
	"github.com/dataweaver/dataweaver/wasmabi"
)

// Schema is the input of window_agg's tests: country, amount, ts (µs).
var Schema = orders.Columns("country", "amount", "ts")

// Minute is a minute in ts's unit.
const Minute = 60_000_000

// Order is one input row; nil is null.
type Order struct {
	Country *string
	Amount  *float64
	TS      *int64
}

// Orders makes n orders in event-time order, 0.7 s apart on average, some
// amounts null; with nulls, a few keys and times are null too.
func Orders(n int, seed uint64, nulls bool) []Order {
	rng := rand.New(rand.NewPCG(seed, 1))
	countries := []string{"FR", "DE", "US", "JP", "BR", "Île", ""}
	ts := int64(1_780_000_000_000_000)
	out := make([]Order, n)
	for i := range out {
		ts += rng.Int64N(1_400_000)
		c, t := countries[rng.IntN(len(countries))], ts
		o := Order{Country: &c, TS: &t}
		if rng.IntN(10) > 0 {
			a := math.Round(rng.Float64()*10000) / 100
			o.Amount = &a
		}
		if nulls && rng.IntN(100) == 0 {
			o.Country = nil
		}
		if nulls && rng.IntN(100) == 0 {
			o.TS = nil
		}
		out[i] = o
	}
	return out
}

// Arrive reorders rows (with times) as a stream whose rows each arrive
// up to delay µs after their event time.
func Arrive(rows []Order, delay int64, seed uint64) []Order {
	rng := rand.New(rand.NewPCG(seed, 2))
	at := make(map[*int64]int64, len(rows))
	out := slices.Clone(rows)
	for _, o := range out {
		at[o.TS] = *o.TS + rng.Int64N(delay)
	}
	slices.SortStableFunc(out, func(a, b Order) int { return int(min(max(at[a.TS]-at[b.TS], -1), 1)) })
	return out
}

// Batch builds rows as a record of Schema.
func Batch(mem memory.Allocator, rows []Order) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, Schema)
	defer b.Release()
	for _, o := range rows {
		if o.Country == nil {
			b.Field(0).AppendNull()
		} else {
			b.Field(0).(*array.StringBuilder).Append(*o.Country)
		}
		if o.Amount == nil {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.Float64Builder).Append(*o.Amount)
		}
		if o.TS == nil {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(*o.TS))
		}
	}
	return b.NewRecordBatch()
}

// Render is a record's schema, rows (floats by their bits) and rejects.
func Render(rec arrow.RecordBatch, rejects []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", rec.Schema())
	for _, r := range wasmtesting.Rows(rec) {
		fmt.Fprintln(&b, strings.Join(r, " "))
	}
	fmt.Fprintf(&b, "rejected %q\n", rejects)
	return b.String()
}

// Feed runs rows through s in batches of size, then (with finish) ends
// the input, returning one rendering per call.
func Feed(t testing.TB, s *wasmabi.Stage, mem memory.Allocator, rows []Order, size int, finish bool) []string {
	t.Helper()
	var out []string
	for lo := 0; lo < len(rows); lo += size {
		in := Batch(mem, rows[lo:min(lo+size, len(rows))])
		rec, rejects, err := s.Process(context.Background(), in)
		in.Release()
		if err != nil {
			t.Fatal(err)
		}
		msgs := make([]string, len(rejects))
		for i, r := range rejects {
			msgs[i] = fmt.Sprintf("%d: %v", r.Row, r.Err)
		}
		out = append(out, Render(rec, msgs))
		rec.Release()
	}
	if finish {
		recs, err := s.Finish(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			out = append(out, Render(r, nil))
			r.Release()
		}
	}
	return out
}

// Reference is window_agg in Go over rows in arrival order: one line per
// window and key, sorted, as the rendered rows are (floats by bits).
func Reference(rows []Order, width int64) []string {
	type acc struct {
		count, values int64
		sum           float64
	}
	type wk struct {
		w int64
		k string
	}
	m := map[wk]*acc{}
	for _, o := range rows {
		if o.Country == nil || o.TS == nil {
			continue
		}
		k := wk{*o.TS - *o.TS%width, *o.Country}
		if m[k] == nil {
			m[k] = &acc{}
		}
		a := m[k]
		a.count++
		if o.Amount != nil {
			a.values++
			a.sum += *o.Amount
		}
	}
	var out []string
	for k, a := range m {
		avg := "null"
		if a.values > 0 {
			avg = fmt.Sprintf("%016x", math.Float64bits(a.sum/float64(a.values)))
		}
		out = append(out, fmt.Sprintf("%s %s %d %016x %s", Timestamp(k.w), k.k, a.count, math.Float64bits(a.sum), avg))
	}
	slices.Sort(out)
	return out
}

// Timestamp renders µs since the epoch as the rows render ts.
func Timestamp(us int64) string {
	b := array.NewTimestampBuilder(memory.DefaultAllocator, Schema.Field(2).Type.(*arrow.TimestampType))
	defer b.Release()
	b.Append(arrow.Timestamp(us))
	a := b.NewArray()
	defer a.Release()
	return wasmtesting.Value(a, 0)
}

// DataRows picks the data lines out of renderings, sorted.
func DataRows(calls []string) []string {
	var out []string
	for _, c := range calls {
		for _, l := range strings.Split(c, "\n") {
			if strings.HasPrefix(l, "20") {
				out = append(out, l)
			}
		}
	}
	slices.Sort(out)
	return out
}

// SameCalls fails t unless the two runs' renderings are equal call for
// call.
func SameCalls(t testing.TB, what, aName string, a []string, bName string, b []string) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %s made %d calls' output, %s %d", what, aName, len(a), bName, len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("%s: call %d differs:\n%s:\n%s\n%s:\n%s", what, i, aName, a[i], bName, b[i])
		}
	}
}
