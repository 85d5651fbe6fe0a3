package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The three tools' ways of writing the same two groups, as each writes
// them: weave's window_agg, DuckDB's COPY … (FORMAT json), and Benthos's
// changelog (an earlier partial aggregate, then the final one).
const (
	weaveOut = `{"window_start":"2026-01-01T00:00:00Z","key":"NL","count":39,"sum":20413.070000000007,"avg":523.4120512820515}
{"window_start":"2026-01-01T00:01:00Z","key":"JP","count":2,"sum":0.30000000000000004,"avg":0.15000000000000002}
`
	duckOut = `{"window_start":"2026-01-01 00:01:00","key":"JP","count":2,"sum":0.3,"avg":0.15}
{"window_start":"2026-01-01 00:00:00","key":"NL","count":39,"sum":20413.07,"avg":523.4120512820513}
`
	benthosOut = `{"avg":520,"count":20,"key":"NL","sum":10400,"window_start":"2026-01-01T00:00:00Z"}
{"avg":0.15000000000000002,"count":2,"key":"JP","sum":0.30000000000000004,"window_start":"2026-01-01T00:01:00Z"}
{"avg":523.4120512820515,"count":39,"key":"NL","sum":20413.070000000007,"window_start":"2026-01-01T00:00:00Z"}
`
)

func TestCompareGroups(t *testing.T) {
	dir := t.TempDir()
	read := func(t *testing.T, text string, changelog bool) map[group]agg {
		t.Helper()
		p := filepath.Join(dir, "out.jsonl")
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		g, err := readGroups(p, changelog)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	want := read(t, weaveOut, false)
	if s := summary(want); s != "2 groups, 41 rows" {
		t.Fatalf("summary %q", s)
	}
	tests := []struct {
		name      string
		out       string
		changelog bool
		diffs     []string // substrings, one per difference, in order
	}{
		{name: "same", out: weaveOut},
		{name: "DuckDB's timestamps and summing order", out: duckOut},
		{name: "Benthos's changelog: the last update counts", out: benthosOut, changelog: true},
		{name: "changelog cut short", out: strings.Join(strings.SplitAfter(benthosOut, "\n")[:2], ""), changelog: true,
			diffs: []string{"(2026-01-01T00:00:00Z, NL): count 20, want 39"}},
		{name: "group missing", out: strings.SplitAfter(duckOut, "\n")[0],
			diffs: []string{"(2026-01-01T00:00:00Z, NL) missing"}},
		{name: "group extra", out: duckOut + `{"window_start":"2026-01-01 00:02:00","key":"JP","count":1,"sum":1}` + "\n",
			diffs: []string{"(2026-01-01T00:02:00Z, JP) not expected"}},
		{name: "other window", out: strings.Replace(duckOut, "00:01:00", "00:01:01", 1),
			diffs: []string{"(2026-01-01T00:01:00Z, JP) missing", "(2026-01-01T00:01:01Z, JP) not expected"}},
		{name: "count off by one", out: strings.Replace(duckOut, `"count":2,`, `"count":3,`, 1),
			diffs: []string{"(2026-01-01T00:01:00Z, JP): count 3, want 2"}},
		{name: "one cent off the sum", out: strings.Replace(duckOut, `"sum":20413.07,`, `"sum":20413.08,`, 1),
			diffs: []string{"(2026-01-01T00:00:00Z, NL): sum 20413.08, want 20413.070000000007"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := compareGroups(want, read(t, tt.out, tt.changelog), 10)
			if len(got) != len(tt.diffs) {
				t.Fatalf("differences %q, want %d like %q", got, len(tt.diffs), tt.diffs)
			}
			for i, d := range tt.diffs {
				if !strings.Contains(got[i], d) {
					t.Errorf("difference %d is %q, want it to say %q", i, got[i], d)
				}
			}
		})
	}
}

func TestCompareGroupsLimit(t *testing.T) {
	want := map[group]agg{}
	for i := range 5 {
		want[group{int64(i) * 60e6, "FR"}] = agg{1, 1}
	}
	got := compareGroups(want, map[group]agg{}, 2)
	if len(got) != 3 || got[2] != "and 3 more" || !slices.IsSorted(got[:2]) {
		t.Fatalf("got %q, want two sorted differences and \"and 3 more\"", got)
	}
}

func TestReadGroupsRejects(t *testing.T) {
	for _, tt := range []struct{ name, text, err string }{
		{"a group twice", weaveOut + strings.SplitAfter(weaveOut, "\n")[0], "written twice"},
		{"no sum", `{"window_start":"2026-01-01T00:00:00Z","key":"NL","count":39}`, "want window_start, key, count and sum"},
		{"not a timestamp", `{"window_start":"yesterday","key":"NL","count":39,"sum":1}`, "not a timestamp"},
		{"not JSON", "window_start,key\n", "out.jsonl:1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "out.jsonl")
			if err := os.WriteFile(p, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := readGroups(p, false); err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error %v, want one saying %q", err, tt.err)
			}
		})
	}
}
