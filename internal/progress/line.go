package progress

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Stats is one reading of a running pipeline.
type Stats struct {
	Rows    int64 // rows read by the source
	Bytes   int64 // input bytes read
	Elapsed time.Duration
	// Done and Total are input bytes consumed and in all, for the bar;
	// Total <= 0 when the source does not know its size.
	Done, Total int64
}

// Rate is rows per second over the whole run so far (0 before any time
// has passed).
func (s Stats) Rate() float64 {
	if secs := s.Elapsed.Seconds(); secs > 0 {
		return float64(s.Rows) / secs
	}
	return 0
}

// Fraction is the share of the input consumed, in [0, 1]; ok is false when
// the source does not know its size.
func (s Stats) Fraction() (frac float64, ok bool) {
	if s.Total <= 0 {
		return 0, false
	}
	return min(max(float64(s.Done)/float64(s.Total), 0), 1), true
}

// Left estimates the time to the end of the input at the rate so far;
// ok is false when that cannot be told (size unknown, nothing read yet, or
// already at the end).
func (s Stats) Left() (left time.Duration, ok bool) {
	frac, sized := s.Fraction()
	if !sized || frac <= 0 || frac >= 1 {
		return 0, false
	}
	return time.Duration(float64(s.Elapsed) * (1 - frac) / frac), true
}

// Line renders s in at most width-1 columns (writing into the last column
// makes some terminals wrap). A width <= 0 means no limit.
func Line(s Stats, width int) string {
	head := fmt.Sprintf("%s rows  %s rows/s", Count(s.Rows), Count(int64(s.Rate())))
	if s.Bytes > 0 {
		// Sources that make rows (generate) read no bytes; "0 B" would only
		// look like a stall.
		head += "  " + Bytes(s.Bytes)
	}
	head += "  " + Clock(s.Elapsed)
	frac, sized := s.Fraction()
	if !sized {
		return clip(head, width)
	}
	tail := fmt.Sprintf(" %3d%%", int(frac*100))
	if left, ok := s.Left(); ok {
		tail += "  ETA " + Clock(left)
	}
	// The bar takes what the numbers leave, within reason: a bar shorter
	// than 10 cells says nothing, and one wider than 40 only adds noise.
	barWidth := 40
	if width > 0 {
		barWidth = min(barWidth, width-1-len(head)-len(tail)-4)
	}
	if barWidth < 10 {
		return clip(head+tail, width)
	}
	return head + "  " + bar(frac, barWidth) + tail
}

// bar draws [=====>    ] with width cells between the brackets.
func bar(frac float64, width int) string {
	full := int(frac * float64(width))
	var b strings.Builder
	b.WriteByte('[')
	b.WriteString(strings.Repeat("=", full))
	if full < width {
		b.WriteByte('>')
		b.WriteString(strings.Repeat(" ", width-full-1))
	}
	b.WriteByte(']')
	return b.String()
}

func clip(s string, width int) string {
	if width > 0 && len(s) > width-1 {
		return s[:max(width-1, 0)]
	}
	return s
}

// Count abbreviates a count: 999, 1.2k, 45.6M, 7.0G.
func Count(n int64) string {
	switch f := float64(n); {
	case n < 1000:
		return fmt.Sprint(n)
	case f < 1e6:
		return fmt.Sprintf("%.1fk", f/1e3)
	case f < 1e9:
		return fmt.Sprintf("%.1fM", f/1e6)
	default:
		return fmt.Sprintf("%.1fG", f/1e9)
	}
}

// Bytes renders a byte count in binary units: 512 B, 1.5 KiB, 20.0 MiB.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// Clock renders a duration as m:ss, or h:mm:ss past an hour.
func Clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s < 3600 {
		return fmt.Sprintf("%d:%02d", s/60, s%60)
	}
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// Grouped writes n in full with thousands separators: 1,234,567. The
// summary uses it where the exact count matters more than its size.
func Grouped(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Plural picks one or many by n: "1 row", "2 rows".
func Plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
