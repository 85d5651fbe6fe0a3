package guest

// Window helpers for v2 stages, beside Tumble: sliding (hop) and session
// windows, on times in any unit (the event-time column's). The C SDK
// (dw_window.h) and the Rust SDK have the same helpers with the same
// answers. Differences are taken unsigned, so times near the ends of
// int64 do not overflow; a window starting before math.MinInt64 wraps,
// as Tumble's does.

// Hop appends to starts the starts of the sliding windows of width w
// (> 0) that start every s (> 0; at multiples of s) and hold t, earliest
// first: a window [start, start+w) holds t when start ≤ t < start+w.
// That is at most HopMax(w, s) windows; with s > w some times are in none.
func Hop(t, w, s int64, starts []int64) []int64 {
	r := t % s
	if r < 0 {
		r += s
	}
	if uint64(r) >= uint64(w) {
		return starts
	}
	n := (uint64(w)-1-uint64(r))/uint64(s) + 1
	first := uint64(t) - uint64(r) - (n-1)*uint64(s)
	for i := range n {
		starts = append(starts, int64(first+i*uint64(s)))
	}
	return starts
}

// HopMax is the most sliding windows of width w sliding by s that one
// time is in: ceil(w / s).
func HopMax(w, s int64) int { return int((uint64(w)-1)/uint64(s) + 1) }

// Session is rows of one key no more than a gap apart. It spans [Start,
// Last+gap): each row at t opens [t, t+gap), and rows whose spans
// overlap are one session (Flink's event-time session windows).
type Session struct {
	Start, Last int64 // the earliest and latest rows
}

func (x Session) touches(t, gap int64) bool {
	switch {
	case t >= x.Last:
		return uint64(t)-uint64(x.Last) < uint64(gap)
	case t >= x.Start:
		return true
	}
	return uint64(x.Start)-uint64(t) < uint64(gap)
}

// SessionAdd adds a row at t to a key's open sessions s, kept sorted and
// apart: the row joins the session it touches, merges those it bridges
// (rows may come in any order), or opens one. It returns the sessions
// and the index of the one now holding t.
func SessionAdd(s []Session, t, gap int64) ([]Session, int) {
	i := 0
	for i < len(s) && s[i].Last < t && !s[i].touches(t, gap) {
		i++
	}
	j := i
	for j < len(s) && s[j].touches(t, gap) {
		j++
	}
	if j == i {
		s = append(s, Session{})
		copy(s[i+1:], s[i:])
		s[i] = Session{t, t}
		return s, i
	}
	s[i] = Session{min(s[i].Start, t), max(s[j-1].Last, t)}
	return append(s[:i+1], s[j:]...), i
}

// SessionsClosed is how many of the first sessions of s no row can reach
// any more once the watermark is wm (rows at or before it are late):
// those whose span ends at or before wm+1. They close in order, so a
// stage emits and drops that many from the front.
func SessionsClosed(s []Session, wm, gap int64) int {
	k := 0
	for k < len(s) && wm >= s[k].Last && uint64(wm)-uint64(s[k].Last) >= uint64(gap)-1 {
		k++
	}
	return k
}
