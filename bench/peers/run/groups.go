package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"
)

// W3's outputs are aggregates, one JSON object per line with window_start,
// key, count and sum (weave's window_agg and DuckDB add avg, which the
// check leaves out: it follows from the other two). Each tool writes
// window_start its own way (weave "2026-01-01T00:00:00Z", DuckDB
// "2026-01-01 00:00:00"), so it is compared as an instant, and sums as
// floats within sumTolerance, since every tool adds in its own order.

// group names one aggregate: the window's start in Unix microseconds and
// the key.
type group struct {
	window int64
	key    string
}

type agg struct {
	count int64
	sum   float64
}

// sumTolerance is the relative difference allowed between two sums of the
// same values added in different orders: 60 amounts below 1,000 with two
// decimals differ by 1e-11 at most; a missing or extra row moves a sum by
// 1e-5 of it at least.
const sumTolerance = 1e-9

// readGroups reads a W3 output. changelog says that a group may appear on
// several lines, each an update of the one before, the last line the
// final aggregate (Benthos's output, see w3.go); otherwise a group written
// twice is an error.
func readGroups(path string, changelog bool) (map[group]agg, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	groups := map[group]agg{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var row struct {
			WindowStart *string  `json:"window_start"`
			Key         *string  `json:"key"`
			Count       *int64   `json:"count"`
			Sum         *float64 `json:"sum"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if row.WindowStart == nil || row.Key == nil || row.Count == nil || row.Sum == nil {
			return nil, fmt.Errorf("%s:%d: want window_start, key, count and sum, got %s", path, line, sc.Bytes())
		}
		w, err := parseWindow(*row.WindowStart)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		g := group{w, *row.Key}
		if _, dup := groups[g]; dup && !changelog {
			return nil, fmt.Errorf("%s:%d: group %s written twice", path, line, g)
		}
		groups[g] = agg{*row.Count, *row.Sum}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return groups, nil
}

// windowLayouts are the ways the tools write a timestamp: RFC 3339
// (weave, Benthos) and SQL's (DuckDB: TIMESTAMP without a zone, which is
// UTC here, or TIMESTAMPTZ with one).
var windowLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05.999999999-07", "2006-01-02 15:04:05.999999999-07:00"}

func parseWindow(s string) (int64, error) {
	for _, l := range windowLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UnixMicro(), nil
		}
	}
	return 0, fmt.Errorf("window_start %q: not a timestamp", s)
}

func (g group) String() string {
	return fmt.Sprintf("(%s, %s)", time.UnixMicro(g.window).UTC().Format(time.RFC3339), g.key)
}

// summary is what the report prints of an output: its groups and the
// rows they count (the input's rows when nothing was dropped).
func summary(groups map[group]agg) string {
	var rows int64
	for _, a := range groups {
		rows += a.count
	}
	return fmt.Sprintf("%d groups, %d rows", len(groups), rows)
}

// compareGroups returns how got differs from want: groups missing or
// extra, counts not equal, sums further apart than sumTolerance. At most
// limit differences are listed, then their number.
func compareGroups(want, got map[group]agg, limit int) []string {
	var diffs []string
	for g, w := range want {
		a, ok := got[g]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("group %s missing", g))
		case a.count != w.count:
			diffs = append(diffs, fmt.Sprintf("group %s: count %d, want %d", g, a.count, w.count))
		case !closeSums(a.sum, w.sum):
			diffs = append(diffs, fmt.Sprintf("group %s: sum %v, want %v", g, a.sum, w.sum))
		}
	}
	for g := range got {
		if _, ok := want[g]; !ok {
			diffs = append(diffs, fmt.Sprintf("group %s not expected", g))
		}
	}
	slices.Sort(diffs) // map order would make two runs' lists differ
	if len(diffs) > limit {
		diffs = append(diffs[:limit], fmt.Sprintf("and %d more", len(diffs)-limit))
	}
	return diffs
}

func closeSums(a, b float64) bool {
	return math.Abs(a-b) <= sumTolerance*math.Max(math.Abs(a), math.Abs(b))
}
