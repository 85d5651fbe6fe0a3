package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/generate"
)

// order is one row of the orders table as plain Go values, and the JSON
// object the message connectors carry. The tests compare what arrived
// with these, decoded with encoding/json rather than with the codecs
// under test.
type order struct {
	ID       int64     `json:"id"`
	Customer string    `json:"customer"`
	Email    string    `json:"email"`
	Country  string    `json:"country"`
	Amount   float64   `json:"amount"`
	TS       time.Time `json:"ts"`
	Note     *string   `json:"note"`
}

func (o order) String() string {
	note := "null"
	if o.Note != nil {
		note = *o.Note
	}
	return fmt.Sprintf("{%d %q %q %s %v %s %s}", o.ID, o.Customer, o.Email, o.Country, o.Amount, o.TS.UTC().Format(time.RFC3339Nano), note)
}

func (o order) equal(p order) bool { return o.String() == p.String() }

// orders returns rows 1..n of the generate source's orders preset (seed 1,
// what `generate: {preset: orders}` produces).
func orders(n int) []order {
	rec := generate.Orders(memory.NewGoAllocator(), n, 1)
	defer rec.Release()
	col := func(i int) arrow.Array { return rec.Column(i) }
	id, cust, email, ctry := col(0).(*array.Int64), col(1).(*array.String), col(2).(*array.String), col(3).(*array.String)
	amount, ts, note := col(4).(*array.Float64), col(5).(*array.Timestamp), col(6).(*array.String)
	out := make([]order, n)
	for i := range out {
		out[i] = order{ID: id.Value(i), Customer: cust.Value(i), Email: email.Value(i), Country: ctry.Value(i),
			Amount: amount.Value(i), TS: ts.Value(i).ToTime(arrow.Microsecond)}
		if note.IsValid(i) {
			s := note.Value(i)
			out[i].Note = &s
		}
	}
	return out
}

// masked is o as transforms/mask leaves it with columns [customer,
// email]: the first character, "***", and an address's domain. Written
// here again, from the transform's documentation, to check the guest.
func masked(o order) order {
	o.Customer, o.Email = mask(o.Customer), mask(o.Email)
	return o
}

func mask(s string) string {
	_, n := utf8.DecodeRuneInString(s)
	if at := strings.LastIndexByte(s, '@'); at > 0 {
		return s[:min(n, at)] + "***" + s[at:]
	}
	return s[:n] + "***"
}

// decodeOrder reads a message or record value.
func decodeOrder(t *testing.T, data []byte) order {
	t.Helper()
	var o order
	if err := json.Unmarshal(data, &o); err != nil {
		t.Fatalf("message %q: %v", data, err)
	}
	return o
}

func encodeOrder(t *testing.T, o order) []byte {
	t.Helper()
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameOrders fails t unless got holds exactly want, in order.
func sameOrders(t *testing.T, what string, want, got []order) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d orders, want %d", what, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !got[i].equal(want[i]) {
			t.Fatalf("%s: order %d is %s, want %s", what, i, got[i], want[i])
		}
	}
}

// atLeastOnce fails t unless got holds every order of want at least once
// (in any order) and nothing else: a repeat must be identical to the
// original. It returns how many repeats there were.
func atLeastOnce(t *testing.T, what string, want, got []order) int {
	t.Helper()
	byID := map[int64]order{}
	for _, o := range want {
		byID[o.ID] = o
	}
	seen := map[int64]int{}
	for _, o := range got {
		w, ok := byID[o.ID]
		if !ok {
			t.Fatalf("%s: unexpected order %s", what, o)
		}
		if !o.equal(w) {
			t.Fatalf("%s: order %s, want %s", what, o, w)
		}
		seen[o.ID]++
	}
	for _, o := range want {
		if seen[o.ID] == 0 {
			t.Fatalf("%s: order %d was lost (%d of %d orders arrived)", what, o.ID, len(seen), len(want))
		}
	}
	return len(got) - len(want)
}
