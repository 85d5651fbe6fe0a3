// Command checkv2 exercises the Go SDK's ABI v2 names (the check stage
// covers v1's; a module registers one stage, so v2 has its own). It reads
// int64 "id" and utf8 "s" and drops every input column. For input row i
// it emits two rows: one from row i with n = Tumble(id, 10), even = id is
// even and txt = s, then one of no origin whose three columns are null.
// It keeps the count of rows seen as its state, and at end of input emits
// one row of no origin with n = that count, even = true, txt = "end".
// With an event-time column declared, each watermark emits a row of no
// origin with n = the watermark, even = false, txt = "wm:" + the column.
package main

import (
	"encoding/binary"
	"errors"

	"github.com/dataweaver/dataweaver/guest-sdk/go/guest"
)

func main() {}

func init() { guest.StageV2(setup) }

var seen int64

func setup(s *guest.Setup) (guest.ProcessFunc, error) {
	id := guest.Read[int64](s, "id")
	str := guest.ReadString(s, "s")
	n := guest.Write[int64](s, "n", "int64")
	even := guest.WriteBool(s, "even")
	txt := guest.WriteString(s, "txt")
	s.DropAll()
	s.KeepState(func() []byte {
		return binary.LittleEndian.AppendUint64(nil, uint64(seen))
	}, func(b []byte) error {
		if len(b) != 8 {
			return errors.New("checkv2: want 8 bytes of state")
		}
		seen = int64(binary.LittleEndian.Uint64(b))
		return nil
	})
	ev := s.EventTime()
	s.OnWatermark(func(b *guest.Batch, wm int64) error {
		b.Emit(guest.NoOrigin)
		n.Put(b, wm)
		even.Put(b, false)
		txt.Put(b, "wm:"+ev)
		return nil
	})
	s.OnFinish(func(b *guest.Batch) error {
		b.Emit(guest.NoOrigin)
		n.Put(b, seen)
		even.Put(b, true)
		txt.Put(b, "end")
		return nil
	})
	return func(b *guest.Batch) error {
		ids, ss := id.View(b), str.View(b)
		for i := range b.Len() {
			seen++
			b.Emit(i)
			n.Put(b, guest.Tumble(ids.Values[i], 10))
			even.Put(b, ids.Values[i]%2 == 0)
			txt.Put(b, ss.Value(i))
			b.Emit(guest.NoOrigin)
			n.PutNull(b)
			even.PutNull(b)
			txt.PutNull(b)
		}
		return nil
	}, nil
}
