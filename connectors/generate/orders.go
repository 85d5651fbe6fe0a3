package generate

import (
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/orders"
)

// OrdersSchema is the benchmark "orders" table: id, customer, email,
// country, amount, ts (microseconds, UTC) and a nullable note.
var OrdersSchema = orders.Schema

var (
	firstNames = strings.Fields(`Ada Alan Grace Edsger Barbara Donald Ken Dennis Margaret Linus Guido Bjarne
		Frances Radia Sophie Tim Vint Leslie John Niklaus Hedy Katherine Dorothy Mary Annie Jean
		Evelyn Joan Carl Ivan Lynn Rob Robin Rosalind Shafi Tony Yukihiro Anders James Brian
		Fernando Chen Priya Amara Kofi Ingrid Mateo Yuki`)
	lastNames = strings.Fields(`Lovelace Turing Hopper Dijkstra Liskov Knuth Thompson Ritchie Hamilton Torvalds
		Rossum Stroustrup Allen Perlman Wilson Lee Cerf Lamport McCarthy Wirth Lamarr Johnson Vaughan
		Jackson Easley Bartik Boyd Clarke Sutherland Conway Pike Milner Franklin Goldwasser Hoare
		Matsumoto Hejlsberg Gosling Kernighan Corbato Wang Patel Okafor Mensah Larsen Garcia Sato Novak`)
	domains = []string{"example.com", "example.org", "mail.test", "inbox.example", "post.test", "corp.example", "web.test"}

	// countries are ordered roughly by how often they come up; the
	// generator favours the front of the list, as real order data does.
	countries = strings.Fields(`US GB DE FR NL CA ES IT SE AU JP BR PL IE BE CH AT DK NO MX IN KR PT NZ FI SG ZA AR CZ NG`)

	notes = []string{"gift wrap", "leave at the door", "expedite", "call before delivery", "fragile",
		"second attempt", "customer asked for an invoice", "deliver after 6pm", "dup of earlier order?", "VIP"}
)

// thePools are built on first use, not at every weave start (~1 ms of
// every command's start-up, most of which never generate a row).
var thePools = sync.OnceValue(func() [4]*pool {
	c, e, k, n := orderPools()
	return [4]*pool{c, e, k, n}
})

// orderPools builds aligned customer and email pools (entry i of both is
// the same person) so a customer always has the same address.
func orderPools() (cust, email, country, note *pool) {
	var cs, es []string
	for i, f := range firstNames {
		for j, l := range lastNames {
			cs = append(cs, f+" "+l)
			d := domains[(i*7+j*3)%len(domains)]
			es = append(es, strings.ToLower(f)+"."+strings.ToLower(l)+"@"+d)
		}
	}
	return newPool(cs), newPool(es), newPool(append(append([]string(nil), countries...), "XX")), newPool(notes)
}

// Orders returns rows 0..rows-1 of the orders table for seed.
func Orders(mem memory.Allocator, rows int, seed int64) arrow.RecordBatch {
	return OrdersRange(mem, seed, 0, rows)
}

// ordersEpoch is 2024-01-01T00:00:00Z in microseconds.
const ordersEpoch = 1_704_067_200_000_000

// OrdersRange returns rows start..start+n-1 of the orders table for seed:
// id is start+1.., customers and emails come from a pool of 2,304 people,
// country is a two-letter code (skewed towards the first ones, with about
// 0.8% "XX" for an unknown country), amount has two decimals and is
// negative (a refund) about 1.6% of the time, ts advances about 250ms per
// row with up to a second of jitter (so it is not sorted), and note is
// null except for about 6% of rows.
func OrdersRange(mem memory.Allocator, seed int64, start, n int) arrow.RecordBatch {
	pools := thePools()
	customerPool, emailPool, countryPool, notePool := pools[0], pools[1], pools[2], pools[3]
	k := key(seed)
	cust := make([]int32, n)
	ctry := make([]int32, n)
	note := make([]int32, n)
	id := fixed(mem, arrow.PrimitiveTypes.Int64, n, nil, func(v []int64) {
		for i := range v {
			v[i] = int64(start + i + 1)
		}
	})
	amount := fixed(mem, arrow.PrimitiveTypes.Float64, n, nil, func(amt []float64) {
		nCust, nCtry, nNote := customerPool.len(), len(countries), notePool.len()
		for i := range amt {
			h := mix(k + uint64(start+i)*gamma)
			cust[i] = int32(bounded(h, nCust))
			if h&0x7f == 0 {
				ctry[i] = int32(nCtry) // "XX"
			} else {
				ctry[i] = int32(min(bounded(h<<8, nCtry), bounded(h<<20, nCtry)))
			}
			h2 := mix(h)
			cents := int64(100 + (h2>>20)%99_900)
			if h2&0x3f == 0 {
				cents = -cents
			}
			amt[i] = float64(cents) / 100
			note[i] = -1
			if (h2>>8)&0xf == 0 {
				note[i] = int32(bounded(h2<<16, nNote))
			}
		}
	})
	ts := fixed(mem, OrdersSchema.Field(5).Type, n, nil, func(v []arrow.Timestamp) {
		for i := range v {
			r := uint64(start + i)
			jitter := mix(k^0xA5A5A5A5+r*gamma) % 1_000_000
			v[i] = arrow.Timestamp(ordersEpoch + int64(r)*250_000 + int64(jitter))
		}
	})
	cols := []arrow.Array{
		id,
		customerPool.strings(mem, arrow.BinaryTypes.String, cust),
		emailPool.strings(mem, arrow.BinaryTypes.String, cust),
		countryPool.strings(mem, arrow.BinaryTypes.String, ctry),
		amount,
		ts,
		notePool.strings(mem, arrow.BinaryTypes.String, note),
	}
	return newRecord(OrdersSchema, cols, n)
}
