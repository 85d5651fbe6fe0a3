package main

import "github.com/dataweaver/dataweaver/guest-sdk/go/guest"

// Window parameters of the "windows" mode, which TestWindows repeats.
// Sliding windows vary by row so that some rows are in no window (s > w)
// and HopMax varies; the session gap makes the 1000-row batch's rows
// (i16: about 65 apart) merge and the small ones' mostly stand alone.
const (
	sessionGap = 200
	lateness   = 300
)

func hopWidth(i int) int64 { return 20 + int64(i%50) }
func hopSlide(i int) int64 { return 1 + int64(i%30) }

// windows is the "windows" mode: i16 is each row's event time. Per row,
// hop_n and hop_first are how many sliding windows hold it and the
// earliest one's start (null if none), hop_max is HopMax of the row's
// width and slide; sess_start and sess_last are the session holding the
// row once it is added to the batch's sessions (rows in batch order, none
// ever dropped), and sess_closed is how many of those sessions are
// closed at the watermark max(time so far) - lateness. Null times give
// nulls and are not added.
func windows(s *guest.Setup) guest.ProcessFunc {
	in := guest.Read[int16](s, "i16")
	hopN, hopFirst := guest.Write[int32](s, "hop_n", "int32"), guest.Write[int64](s, "hop_first", "int64")
	hopMax := guest.Write[int32](s, "hop_max", "int32")
	start, last := guest.Write[int64](s, "sess_start", "int64"), guest.Write[int64](s, "sess_last", "int64")
	closed := guest.Write[int32](s, "sess_closed", "int32")
	var starts []int64
	var open []guest.Session
	return func(b *guest.Batch) error {
		v := in.View(b)
		hn, hf, hm := hopN.Values(b), hopFirst.Values(b), hopMax.Values(b)
		ss, sl, sc := start.Values(b), last.Values(b), closed.Values(b)
		open = open[:0] // sessions are per batch
		var hi int64
		seen := false
		for i := range b.Len() {
			hm[i] = int32(guest.HopMax(hopWidth(i), hopSlide(i)))
			if !v.Valid(i) {
				hopN.SetNull(b, i)
				hopFirst.SetNull(b, i)
				start.SetNull(b, i)
				last.SetNull(b, i)
				closed.SetNull(b, i)
				continue
			}
			t := int64(v.Values[i])
			starts = guest.Hop(t, hopWidth(i), hopSlide(i), starts[:0])
			hn[i] = int32(len(starts))
			if len(starts) > 0 {
				hf[i] = starts[0]
			} else {
				hopFirst.SetNull(b, i)
			}
			var k int
			open, k = guest.SessionAdd(open, t, sessionGap)
			ss[i], sl[i] = open[k].Start, open[k].Last
			if !seen || t > hi {
				hi, seen = t, true
			}
			sc[i] = int32(guest.SessionsClosed(open, hi-lateness, sessionGap))
		}
		return nil
	}
}
