package jsonl

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
)

// The "orders" table the pipeline targets are stated for: id, customer,
// email, 2-letter country, amount (some negative), RFC 3339 ts and a
// nullable note, some of whose texts need CSV quoting.
var ordersSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "customer", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "email", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "country", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

var (
	firstNames = []string{"Alice", "Bob", "Carla", "Dmitri", "Emeka", "Fatima", "Gustav", "Hana", "Ivan", "Jüri", "Kenji", "Lucía", "Mohammed", "Nora", "Olu", "Priya"}
	lastNames  = []string{"Smith", "Johnson", "Okafor", "Müller", "Tanaka", "García", "Nowak", "Khan", "Rossi", "Larsen", "Dubois", "Silva"}
	countries  = []string{"US", "GB", "DE", "FR", "NG", "IN", "JP", "BR", "ES", "PL", "EE", "SE"}
	notes      = []string{"leave at the door", "gift wrap, please", "call before delivery", `fragile: "glass"`, "second attempt", "customer asked for an invoice with VAT number", "express"}
)

// ordersRecords builds rows deterministic rows in batches of batch rows.
func ordersRecords(mem memory.Allocator, rows, batch int) []arrow.Record {
	rng := rand.New(rand.NewPCG(1, 2))
	var recs []arrow.Record
	b := array.NewRecordBuilder(mem, ordersSchema)
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
			recs = append(recs, b.NewRecord())
		}
	}
	return recs
}

var (
	ordersOnce  sync.Once
	ordersJSONL []byte
)

// ordersText is the orders table written by this package's writer, made
// once per test binary.
func ordersText(tb testing.TB) []byte {
	ordersOnce.Do(func() {
		recs := ordersRecords(memory.DefaultAllocator, benchRows, 65536)
		var buf bytes.Buffer
		w, err := NewWriter(&buf, ordersSchema, format.WriteOptions{})
		if err != nil {
			panic(err)
		}
		for _, r := range recs {
			if err := w.Write(r); err != nil {
				panic(err)
			}
			r.Release()
		}
		if err := w.Close(); err != nil {
			panic(err)
		}
		ordersJSONL = buf.Bytes()
	})
	return ordersJSONL
}
