package e2e

import (
	"slices"
	"testing"
)

// Repeated rows of the at-least-once pipelines, and what bounds them.

// copyOf is one stored copy of an order and the unit it was committed in
// (a part file, a transaction), which is one checkpoint interval.
type copyOf struct {
	order
	unit string
}

// orderValues strips the units off copies.
func orderValues(cs []copyOf) []order {
	out := make([]order, len(cs))
	for i, c := range cs {
		out[i] = c.order
	}
	return out
}

// repeatUnits is, for the orders stored more than once, the units holding
// their first copy (cs is in commit order: parts by number, transactions
// by id); largest is the most rows any unit holds.
func repeatUnits(cs []copyOf) (units map[string]int, repeats, largest int) {
	rows := map[string]int{}
	first := map[int64]string{}
	count := map[int64]int{}
	for _, c := range cs {
		rows[c.unit]++
		largest = max(largest, rows[c.unit])
		if _, ok := first[c.ID]; !ok {
			first[c.ID] = c.unit
		}
		count[c.ID]++
	}
	units = map[string]int{}
	for id, n := range count {
		if n > 1 {
			units[first[id]] = rows[first[id]]
			repeats += n - 1
		}
	}
	return units, repeats, largest
}

// checkRepeatBound is how the at-least-once tests bound their repeats.
//
// A kill repeats the one checkpoint interval whose output was committed (a
// part renamed into place, a transaction committed) while its source
// position was not yet acknowledged (Kafka offsets, JetStream acks):
// checkpoints are taken one at a time, each acknowledging synchronously
// before the next starts, and an interval's output is one unit (one part
// per checkpoint; one transaction per checkpoint). Rows of an interval not
// yet committed are not repeated: they were never stored. So
//
//   - the first copy of every repeated order lies in the last unit
//     committed before one of the kills (lastUnits[k] for kill k: the
//     last part present at the kill that was published in the end, the
//     prepared one being published by the next run; the last transaction
//     committed before it), never in an earlier one, whose position was
//     acknowledged;
//   - hence in at most one unit per kill;
//   - and the repeats number at most kills × the largest unit: each kill
//     stores one unit's records again (a record may be repeated twice, if
//     a second kill catches the unit its repeat went into).
//
// The largest unit is itself bounded: by the rows a checkpoint interval
// reads (here one batch: a checkpoint behind every batch), and for
// JetStream by max_ack_pending, as no message of an interval is
// acknowledged before its commit.
func checkRepeatBound(t *testing.T, what string, cs []copyOf, lastUnits []string) {
	t.Helper()
	kills := len(lastUnits)
	units, repeats, largest := repeatUnits(cs)
	t.Logf("%s: %d repeated rows after %d kills, first stored in %d units %v (the largest unit holds %d rows; the last units at the kills were %v)", what, repeats, kills, len(units), units, largest, lastUnits)
	for u := range units {
		if !slices.Contains(lastUnits, u) {
			t.Errorf("%s: rows first stored in %s were stored again, but %s was not the last unit committed before a kill (%v): an earlier checkpoint's position was not acknowledged", what, u, u, lastUnits)
		}
	}
	if len(units) > kills {
		t.Errorf("%s: repeated rows were first stored in %d units %v; %d kills can repeat at most %d", what, len(units), units, kills, kills)
	}
	if repeats > kills*largest {
		t.Errorf("%s: %d repeated rows, more than %d kills × %d rows (the largest unit)", what, repeats, kills, largest)
	}
}
