package rowcodec

import (
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// TestDaysAppendTimestamp: one Days writing a run of timestamps that stay
// on a day, cross midnight both ways, go before the epoch and out of
// RFC 3339's years writes what time.RFC3339Nano does for each.
func TestDaysAppendTimestamp(t *testing.T) {
	const us = int64(time.Second / time.Microsecond)
	day := 86400 * us
	vals := []int64{
		0, 1, day - 1, day, day + 123456, day - 1, // same day, next, back
		-1, -day, -day - 1, // before the epoch
		1704067200*us + 138675, 1704067200*us + 721838, 1704153599*us + 999999, 1704153600 * us,
		253402300800 * us, 1704067200 * us, // year 10000 (time's fallback), then back
		-62135596801 * us, // year 0
	}
	var days Days
	for _, v := range vals {
		want := time.UnixMicro(v).UTC().Format(time.RFC3339Nano)
		if got := string(days.AppendTimestamp(nil, v, arrow.Microsecond)); got != want {
			t.Errorf("%d µs: got %s, want %s", v, got, want)
		}
	}
}

// TestDaysParseTimestamp: one Days parsing a run of timestamps, valid and
// not, sharing dates and not, gives what ParseTimestamp gives for each.
func TestDaysParseTimestamp(t *testing.T) {
	in := []string{
		"2024-01-01T00:00:00.138675Z", "2024-01-01T23:59:59Z", "2024-01-01 12:00:00",
		"2024-01-02T00:00:00Z", "2024-01-01T00:00:01+02:00", // next day, then back
		"2024-02-30T00:00:00Z", "2024-01-01T25:00:00Z", "2024-01-01", "2024-01-0", // invalid
		"2023-02-29T00:00:00Z", "2024-02-29T00:00:00Z", "1969-12-31T23:59:59.5Z",
	}
	var days Days
	for _, strict := range []bool{false, true} {
		for _, s := range in {
			wv, wok := ParseTimestamp([]byte(s), arrow.Microsecond, strict)
			gv, gok := days.ParseTimestamp([]byte(s), arrow.Microsecond, strict)
			if gv != wv || gok != wok {
				t.Errorf("%q (strict %v): got %d %v, want %d %v", s, strict, gv, gok, wv, wok)
			}
		}
	}
}
