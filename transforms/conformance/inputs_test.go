package conformance_test

import (
	"math"
	"math/rand/v2"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// schema is every input batch's: one column of each type the example
// transforms accept, most of them nullable.
var schema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "qty", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "country", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "email", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "note", Type: arrow.BinaryTypes.LargeString, Nullable: true},
	{Name: "data", Type: arrow.BinaryTypes.Binary, Nullable: true},
	{Name: "a", Type: arrow.PrimitiveTypes.Int32},
	{Name: "b", Type: arrow.PrimitiveTypes.Int32},
}, nil)

// Values that exercise the edges of each transform: rounding halves,
// overflow of ×100 into int64, NaN and infinities, signed zero.
var amounts = []float64{0, math.Copysign(0, -1), 2.5, -2.5, 0.5, -0.5, 0.005, 1.125, -1.125, 99.995, 1e300, -1e300,
	math.NaN(), math.Inf(1), math.Inf(-1), 9.2233720368547758e16, -9.2233720368547758e16, 4503599627370495.5, 12.34, -7}

var countries = []string{"FR", "DE", "US", "", "Ünï", "fr", "FRA", "日本"}

// Emails and other strings for mask: the '@' at index 0, 1 and past a
// multi-byte first character, several '@', none, values right at the
// fast path's 32-byte limit, non-ASCII and emoji.
var emails = []string{
	"alice@example.com", "", "a", "@", "@example.com", "a@", "ab@c@d.fr", "é@x.fr", "émilie@exämple.fr",
	"日本語", "日@本", "😀@mail.example", "x@y", "no-at-sign-here", "bob.smith+tag@sub.example.co.uk",
	"0123456789012345678901234567890@", "01234567890123456789012345678901@x", "012345678901234567890123456789012",
	"\u00e9", "Ünïcødé Ñame", "a@b", "@@", "x@@y",
}

// longNote is a 100 KB value with an '@' near its end.
var longNote = strings.Repeat("long ünïcode text · ", 5000) + "@end"

// batch builds n rows of the table. Row i is a deterministic function of
// (seed, i); rows 0..len(edge lists) walk through the edge values, so
// every batch of 37 rows or more holds all of them. withNulls puts nulls
// in every nullable column at different strides.
func batch(mem memory.Allocator, n int, seed uint64, withNulls bool) arrow.RecordBatch {
	r := rand.New(rand.NewPCG(seed, 1))
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	id := b.Field(0).(*array.Int64Builder)
	amount := b.Field(1).(*array.Float64Builder)
	qty := b.Field(2).(*array.Int32Builder)
	country := b.Field(3).(*array.StringBuilder)
	email := b.Field(4).(*array.StringBuilder)
	note := b.Field(5).(*array.LargeStringBuilder)
	data := b.Field(6).(*array.BinaryBuilder)
	ca := b.Field(7).(*array.Int32Builder)
	cb := b.Field(8).(*array.Int32Builder)
	null := func(i, stride int) bool { return withNulls && i%stride == stride-1 }
	for i := range n {
		id.Append(int64(i*7) - 50)
		switch {
		case null(i, 11):
			amount.AppendNull()
		case i < len(amounts):
			amount.Append(amounts[i])
		default:
			amount.Append(math.Round(r.NormFloat64()*10000) / 100)
		}
		if null(i, 7) {
			qty.AppendNull()
		} else {
			qty.Append(int32(r.IntN(11)) - 2)
		}
		if null(i, 5) {
			country.AppendNull()
		} else {
			country.Append(countries[(i+r.IntN(2))%len(countries)])
		}
		switch {
		case null(i, 9):
			email.AppendNull()
		case i < len(emails):
			email.Append(emails[i])
		default:
			email.Append(randomEmail(r))
		}
		switch {
		case null(i, 13):
			note.AppendNull()
		case i%17 == 3:
			note.Append(longNote)
		default:
			note.Append(emails[r.IntN(len(emails))])
		}
		if null(i, 3) {
			data.AppendNull()
		} else {
			data.Append([][]byte{[]byte("ab"), {}, {0xff, 0}, []byte("x")}[i%4])
		}
		// gcd's inputs: zeros, negatives and extremes among random values.
		switch i % 10 {
		case 0:
			ca.Append(0)
			cb.Append(int32(r.IntN(1000)))
		case 1:
			ca.Append(-int32(r.IntN(1 << 20)))
			cb.Append(int32(r.IntN(1 << 20)))
		case 2:
			ca.Append(math.MaxInt32)
			cb.Append(math.MaxInt32 - 1)
		default:
			ca.Append(int32(r.Uint32() >> 1))
			cb.Append(int32(r.Uint32() >> 1))
		}
	}
	return b.NewRecordBatch()
}

func randomEmail(r *rand.Rand) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789._"
	var s strings.Builder
	for range 1 + r.IntN(20) {
		s.WriteByte(letters[r.IntN(len(letters))])
	}
	if r.IntN(8) == 0 {
		s.WriteString("ü")
	}
	s.WriteString("@")
	s.WriteString([]string{"example.com", "mail.example.org", "b.fr", "exämple.de"}[r.IntN(4)])
	return s.String()
}

// input is one named batch of the table.
type input struct {
	name string
	make func(memory.Allocator) arrow.RecordBatch
}

// inputs: empty, one row, a batch that is not a multiple of 8 rows, a
// larger one with and without nulls, and a slice whose offset is not a
// multiple of 8 (its bitmaps must be re-packed on the way in).
var inputs = []input{
	{"empty", func(m memory.Allocator) arrow.RecordBatch { return batch(m, 0, 1, true) }},
	{"one", func(m memory.Allocator) arrow.RecordBatch { return batch(m, 1, 2, true) }},
	{"edges", func(m memory.Allocator) arrow.RecordBatch { return batch(m, 45, 3, true) }},
	{"nulls", func(m memory.Allocator) arrow.RecordBatch { return batch(m, 3000, 4, true) }},
	{"no-nulls", func(m memory.Allocator) arrow.RecordBatch { return batch(m, 3000, 5, false) }},
	{"sliced", func(m memory.Allocator) arrow.RecordBatch {
		whole := batch(m, 200, 6, true)
		defer whole.Release()
		return whole.NewSlice(3, 170)
	}},
}
