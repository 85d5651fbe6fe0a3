// Command window_agg counts, sums and averages a value per key per
// tumbling window of event time (ABI v2), with the same output as the C
// one (transforms/c/window_agg) call for call, and the same state layout,
// so any language's module restores another's snapshot. For the orders
// table, the count, sum and average of amount per country per minute of
// ts:
//
//	stages:
//	  - wasm: build/window_agg.wasm
//	    config: {key: country, value: amount, time: ts, seconds: 60}
//
// Its output is one row per key and window: window_start (the time
// column's type), key (utf8), count (int64, rows), sum and avg (float64,
// over the rows whose value is not null; avg is null when there are
// none). Every input column is dropped.
//
// Without an event-time column declared, the input is taken to arrive in
// event-time order: the open window is emitted when the first row of a
// later window arrives. With one (the wasm stage's event_time and
// lateness, and config time naming the same column), several windows
// stay open, and each is emitted once the host's watermark passes its
// end. Either way what is open is emitted at end of input, and a row
// whose window was already emitted is rejected as too late, as is a row
// whose key or time is null, so the error policy decides about it.
//
// The open windows are the stage's state: saved at every checkpoint and
// restored when a run resumes.
package main

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"

	"github.com/dataweaver/dataweaver/guest-sdk/go/guest"
)

func main() {}

func init() { guest.StageV2(setup) }

// group is one key's aggregate in one window: the count of rows, of
// non-null values, and their sum.
type group struct {
	window        int64
	key           string
	count, values int64
	sum           float64
}

type groupKey struct {
	window int64
	key    string
}

var (
	width       int64 // in the time column's unit
	byWatermark bool
	// The open groups in order of arrival (the order they are emitted
	// in); latest is the newest window opened, closedBefore the end of
	// the windows already emitted (a row of an earlier window is late).
	opened       bool
	latest       int64
	closedBefore int64 = math.MinInt64
	groups       []group
	index        = map[groupKey]int{} // into groups

	oStart        guest.Out[int64]
	oKey          guest.OutStr
	oCount        guest.Out[int64]
	oSum, oAvg    guest.Out[float64]
	errNotAWindow = errors.New("not a window_agg state (want WAG2)")
)

// groupOf returns the group of window w and key, made if new. The key
// may point into the batch: a new group keeps a copy.
func groupOf(w int64, key string) *group {
	if i, ok := index[groupKey{w, key}]; ok {
		return &groups[i]
	}
	key = strings.Clone(key)
	index[groupKey{w, key}] = len(groups)
	groups = append(groups, group{window: w, key: key})
	return &groups[len(groups)-1]
}

// closeBefore emits the groups of every window starting before end (in
// order of arrival) and forgets them.
func closeBefore(b *guest.Batch, end int64) {
	kept := groups[:0]
	for _, g := range groups {
		if g.window >= end {
			kept = append(kept, g)
			continue
		}
		b.Emit(guest.NoOrigin)
		oStart.Put(b, g.window)
		oKey.Put(b, g.key)
		oCount.Put(b, g.count)
		oSum.Put(b, g.sum)
		if g.values != 0 {
			oAvg.Put(b, g.sum/float64(g.values))
		} else {
			oAvg.PutNull(b)
		}
	}
	if len(kept) != len(groups) {
		clear(groups[len(kept):]) // let the keys go
		groups = kept
		clear(index)
		for i, g := range groups {
			index[groupKey{g.window, g.key}] = i
		}
	}
	closedBefore = max(closedBefore, end)
}

// unitPerSecond reads the time unit off an ABI timestamp type name, as
// the C module does: "timestamp[s]", "timestamp[ms, UTC]", ….
func unitPerSecond(typ string) int64 {
	switch {
	case strings.HasPrefix(typ, "timestamp[s]"), strings.HasPrefix(typ, "timestamp[s,"):
		return 1
	case strings.HasPrefix(typ, "timestamp[ms"):
		return 1e3
	case strings.HasPrefix(typ, "timestamp[us"):
		return 1e6
	case strings.HasPrefix(typ, "timestamp[ns"):
		return 1e9
	}
	return 0
}

func setup(s *guest.Setup) (guest.ProcessFunc, error) {
	key, value, tcol, seconds := "country", "amount", "ts", 60.0
	if err := s.ConfigKeys(guest.ConfString("key", &key), guest.ConfString("value", &value),
		guest.ConfString("time", &tcol), guest.ConfNumber("seconds", &seconds)); err != nil {
		return nil, err
	}
	kc := guest.ReadString(s, key)
	vc := guest.Read[float64](s, value)
	tc := guest.Read[int64](s, tcol)
	tf, found := s.Field(tcol)
	per := unitPerSecond(tf.Type)
	if found && per == 0 {
		s.Errorf("time column %s is %s, want a timestamp", tcol, tf.Type)
	}
	if !(seconds >= 1 && seconds <= 366*86400) || seconds != float64(int64(seconds)) {
		s.Errorf("seconds must be a whole number of seconds from 1 to a year")
	}
	ev := s.EventTime()
	if ev != "" && ev != tcol {
		s.Errorf("the pipeline's event_time is %s, but config time is %s: window by the column the watermark follows", ev, tcol)
	}
	byWatermark = ev != ""
	width = int64(seconds) * per
	s.DropAll()
	startType := "int64"
	if found {
		startType = tf.Type
	}
	oStart = guest.Write[int64](s, "window_start", startType)
	oKey = guest.WriteString(s, "key")
	oCount = guest.Write[int64](s, "count", "int64")
	oSum = guest.Write[float64](s, "sum", "float64")
	oAvg = guest.Write[float64](s, "avg", "float64")
	s.KeepState(snapshot, restore)
	s.OnFinish(finish)
	// The watermark wm says no row of time <= wm is still to come
	// (Flink's meaning), so the window [w, w+width) is complete once
	// w+width-1 <= wm.
	s.OnWatermark(func(b *guest.Batch, wm int64) error {
		closeBefore(b, wm-width+2)
		return nil
	})
	return func(b *guest.Batch) error {
		k, v, t := kc.View(b), vc.View(b), tc.View(b)
		for i := range b.Len() {
			if !k.Valid(i) || !t.Valid(i) {
				b.Rejectf(i, "window_agg: the key or the time is null")
				continue
			}
			w := guest.Tumble(t.Values[i], width)
			if w < closedBefore || (!byWatermark && opened && w < latest) {
				b.Rejectf(i, "window_agg: row too late (its window was already emitted)")
				continue
			}
			if !byWatermark && opened && w > latest {
				closeBefore(b, w)
			}
			if !opened || w > latest {
				latest = w
			}
			opened = true
			g := groupOf(w, k.Value(i))
			g.count++
			if v.Valid(i) {
				g.values++
				g.sum += v.Values[i]
			}
		}
		return nil
	}, nil
}

// finish emits every open window. Rows of the windows emitted are late
// from now on, but later ones are not: a run that resumes after this one
// goes on with new windows.
func finish(b *guest.Batch) error {
	end := closedBefore
	if opened && latest+width > closedBefore {
		end = latest + width
	}
	closeBefore(b, math.MaxInt64)
	closedBefore, opened = end, false
	return nil
}

// snapshot is the C module's layout, little-endian: "WAG2", the window
// width, opened (1 byte), latest, closedBefore, the number of groups
// (uint32), then per group its window, key length (uint32) and bytes,
// count, values, and sum by its bits.
func snapshot() []byte {
	b := append([]byte(nil), "WAG2"...)
	b = binary.LittleEndian.AppendUint64(b, uint64(width))
	if opened {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(latest))
	b = binary.LittleEndian.AppendUint64(b, uint64(closedBefore))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(groups)))
	for _, g := range groups {
		b = binary.LittleEndian.AppendUint64(b, uint64(g.window))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(g.key)))
		b = append(b, g.key...)
		b = binary.LittleEndian.AppendUint64(b, uint64(g.count))
		b = binary.LittleEndian.AppendUint64(b, uint64(g.values))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(g.sum))
	}
	return b
}

// restore reads snapshot's layout, with the C module's messages.
func restore(p []byte) error {
	groups = groups[:0]
	clear(index)
	take := func(n int) []byte {
		if len(p) < n {
			return nil
		}
		b := p[:n]
		p = p[n:]
		return b
	}
	u64 := func(b []byte) int64 { return int64(binary.LittleEndian.Uint64(b)) }
	if m := take(4); m == nil || string(m) != "WAG2" {
		return errNotAWindow
	}
	if len(p) < 8+1+8+8+4 {
		return errors.New("state cut short in its header")
	}
	w, a := u64(take(8)), take(1)[0]
	latest, closedBefore = u64(take(8)), u64(take(8))
	n := binary.LittleEndian.Uint32(take(4))
	if w != width {
		return errors.New("the state is of windows of another width; reset the positions to change it")
	}
	for range n {
		if len(p) < 12 || uint64(len(p)-12) < uint64(binary.LittleEndian.Uint32(p[8:])) {
			return errors.New("state cut short in a key")
		}
		gw := u64(take(8))
		kl := int(binary.LittleEndian.Uint32(take(4)))
		g := groupOf(gw, string(take(kl)))
		if len(p) < 24 {
			return errors.New("state cut short in a group")
		}
		g.count, g.values, g.sum = u64(take(8)), u64(take(8)), math.Float64frombits(uint64(u64(take(8))))
	}
	if len(p) != 0 {
		return errors.New("state has bytes past its last group")
	}
	opened = a != 0
	return nil
}
