// Command dedupe is an ABI v2 Wasm stage that keeps the first row of each
// key per tumbling window of event time and drops the repeats:
//
//	stages:
//	  - wasm: build/dedupe.wasm
//	    config: {key: email, time: ts, seconds: 60}
//
// Rows pass through whole (every input column, taken from the row's
// origin). The input is taken to arrive in event-time order: when a row
// of a later window arrives, the keys seen so far are forgotten. A row
// whose key or time is null, or that is older than the open window, is
// rejected. The keys of the open window are the stage's state, saved at
// every checkpoint, so a resumed run drops the repeats of rows the killed
// run already handed on.
package main

import (
	"encoding/binary"
	"errors"
	"strings"

	"github.com/dataweaver/dataweaver/guest-sdk/go/guest"
)

type config struct {
	Key, Time string
	Seconds   int64
}

func main() {}

func init() { guest.StageV2(setup) }

// The open window: its start and the keys seen in it.
var (
	open  bool
	start int64
	seen  = map[string]struct{}{}
	width int64
)

func setup(s *guest.Setup) (guest.ProcessFunc, error) {
	c := config{Key: "email", Time: "ts", Seconds: 60}
	if err := s.ConfigKeys(guest.ConfString("key", &c.Key), guest.ConfString("time", &c.Time),
		guest.ConfInt("seconds", &c.Seconds)); err != nil {
		return nil, err
	}
	tf, ok := s.Field(c.Time)
	if !ok {
		return nil, errors.New("no column \"" + c.Time + "\" in the input")
	}
	per := map[string]int64{"timestamp[s]": 1, "timestamp[ms]": 1e3, "timestamp[us]": 1e6, "timestamp[ns]": 1e9,
		"timestamp[s,UTC]": 1, "timestamp[ms,UTC]": 1e3, "timestamp[us,UTC]": 1e6, "timestamp[ns,UTC]": 1e9,
		"timestamp[s, UTC]": 1, "timestamp[ms, UTC]": 1e3, "timestamp[us, UTC]": 1e6, "timestamp[ns, UTC]": 1e9}[tf.Type]
	if per == 0 {
		return nil, errors.New("time column \"" + c.Time + "\" is " + tf.Type + ", want a timestamp")
	}
	if c.Seconds < 1 {
		return nil, errors.New("config: seconds must be 1 or more")
	}
	width = c.Seconds * per
	key := guest.ReadString(s, c.Key)
	ts := guest.Read[int64](s, c.Time)
	s.KeepState(snapshot, restore)
	return func(b *guest.Batch) error {
		k, t := key.View(b), ts.View(b)
		tv := t.Values
		for i := range b.Len() {
			if !k.Valid(i) || !t.Valid(i) {
				b.Rejectf(i, "dedupe: the key or the time is null")
				continue
			}
			w := guest.Tumble(tv[i], width)
			if open && w < start {
				b.Rejectf(i, "dedupe: row older than the open window")
				continue
			}
			if !open || w > start {
				clear(seen)
				open, start = true, w
			}
			ks := k.Value(i)
			if _, dup := seen[ks]; dup {
				continue
			}
			// Value points into the batch, which the next one overwrites:
			// the key kept in the state must be a copy.
			seen[strings.Clone(ks)] = struct{}{}
			b.Emit(i)
		}
		return nil
	}, nil
}

// snapshot: the window width, open, start, then each key length-prefixed.
func snapshot() []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(width))
	if open {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(start))
	for k := range seen {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(k)))
		b = append(b, k...)
	}
	return b
}

func restore(b []byte) error {
	if len(b) < 17 {
		return errors.New("dedupe: state cut short")
	}
	if int64(binary.LittleEndian.Uint64(b)) != width {
		return errors.New("dedupe: the state is of windows of another width; reset the positions to change it")
	}
	open, start = b[8] == 1, int64(binary.LittleEndian.Uint64(b[9:]))
	clear(seen)
	for p := b[17:]; len(p) > 0; {
		if len(p) < 4 || uint64(len(p)-4) < uint64(binary.LittleEndian.Uint32(p)) {
			return errors.New("dedupe: state cut short in a key")
		}
		n := int(binary.LittleEndian.Uint32(p))
		seen[string(p[4:4+n])] = struct{}{}
		p = p[4+n:]
	}
	return nil
}
