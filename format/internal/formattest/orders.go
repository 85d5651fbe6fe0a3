package formattest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/generate"
	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/internal/orders"
)

var (
	firstNames = []string{"Alice", "Bob", "Carla", "Dmitri", "Emeka", "Fatima", "Gustav", "Hana", "Ivan", "Jüri", "Kenji", "Lucía", "Mohammed", "Nora", "Olu", "Priya"}
	lastNames  = []string{"Smith", "Johnson", "Okafor", "Müller", "Tanaka", "García", "Nowak", "Khan", "Rossi", "Larsen", "Dubois", "Silva"}
	countries  = []string{"US", "GB", "DE", "FR", "NG", "IN", "JP", "BR", "ES", "PL", "EE", "SE"}
	notes      = []string{"leave at the door", "gift wrap, please", "call before delivery", `fragile: "glass"`, "second attempt", "customer asked for an invoice with VAT number", "express"}
)

// BenchRows is the size of the orders table the benchmarks read and write.
const BenchRows = 1_000_000

// Variant is one orders dataset; Name is the sub-benchmark's name.
type Variant struct {
	Name   string
	Quoted bool
}

// Variants are the two orders datasets (see OrdersRecords).
var Variants = []Variant{{"generate", false}, {"quoted-notes", true}}

// OrdersRecords returns the benchmark orders table in batches of batch rows:
// the project's generator (connectors/generate, the rows the pipeline targets
// are stated for: notes rare and never quoted) when quoted is false, else
// this file's variant of the same table (same schema, other rows), where a
// fifth of the rows have a note with a comma or a quote (one JSON escapes),
// so CSV's quoted-field path is measured too.
func OrdersRecords(mem memory.Allocator, rows, batch int, quoted bool) []arrow.RecordBatch {
	if !quoted {
		var recs []arrow.RecordBatch
		for start := 0; start < rows; start += batch {
			recs = append(recs, generate.OrdersRange(mem, 42, start, min(batch, rows-start)))
		}
		return recs
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var recs []arrow.RecordBatch
	b := array.NewRecordBuilder(mem, orders.Schema)
	defer b.Release()
	id := b.Field(0).(*array.Int64Builder)
	cust := b.Field(1).(*array.StringBuilder)
	email := b.Field(2).(*array.StringBuilder)
	country := b.Field(3).(*array.StringBuilder)
	amount := b.Field(4).(*array.Float64Builder)
	ts := b.Field(5).(*array.TimestampBuilder)
	note := b.Field(6).(*array.StringBuilder)
	base := int64(1_700_000_000)
	for i := range rows {
		f, l := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		id.Append(int64(i) + 1_000_000)
		cust.Append(f + " " + l)
		email.Append(fmt.Sprintf("%s.%s%d@example.com", f, l, rng.IntN(1000)))
		country.Append(countries[rng.IntN(len(countries))])
		amt := float64(rng.IntN(200000)-20000) / 100
		amount.Append(amt)
		ts.Append(arrow.Timestamp((base + int64(rng.IntN(30_000_000))) * 1_000_000))
		if rng.IntN(3) == 0 {
			note.AppendNull()
		} else {
			note.Append(notes[rng.IntN(len(notes))])
		}
		if (i+1)%batch == 0 || i == rows-1 {
			recs = append(recs, b.NewRecordBatch())
		}
	}
	return recs
}

type ordersKey struct {
	format string
	quoted bool
}

var (
	ordersMu   sync.Mutex
	ordersText = map[ordersKey][]byte{}
)

// OrdersText is the orders table written by f's writer, made once per test
// binary and variant.
func OrdersText(tb testing.TB, f *format.Format, quoted bool) []byte {
	ordersMu.Lock()
	defer ordersMu.Unlock()
	key := ordersKey{f.Name, quoted}
	if data, ok := ordersText[key]; ok {
		return data
	}
	recs := OrdersRecords(memory.DefaultAllocator, BenchRows, 65536, quoted)
	var buf bytes.Buffer
	w, err := f.NewWriter(&buf, recs[0].Schema(), format.WriteOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			tb.Fatal(err)
		}
		r.Release()
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	ordersText[key] = buf.Bytes()
	return buf.Bytes()
}
