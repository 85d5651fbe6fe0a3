package pipetest

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// DeadLetter is one row of engine.DeadLetterSchema: a row a step rejected
// under the dead_letter policy.
type DeadLetter struct {
	Step   string // the step that rejected the row
	Error  string // why
	File   string // where a source read it ("" for stage and sink rejects)
	Line   int64  // line in File; 0 when unknown
	Row    int64  // index in the batch the step received; -1 for source rejects
	Column string // the offending column, when known
	// Record is the row as the source read it (source rejects) or as a
	// JSON object (stage and sink rejects).
	Record string
}

func (d DeadLetter) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "step %s: %q", d.Step, d.Error)
	if d.Column != "" {
		fmt.Fprintf(&b, " (column %s)", d.Column)
	}
	if d.File != "" {
		fmt.Fprintf(&b, " at %s:%d", d.File, d.Line)
	}
	if d.Record != "" {
		fmt.Fprintf(&b, ": %s", d.Record)
	}
	return b.String()
}

// deadLetters reads dead-letter records by column name, so a column the
// engine adds later does not shift the others.
func deadLetters(recs []arrow.RecordBatch) []DeadLetter {
	var out []DeadLetter
	for _, rec := range recs {
		str := func(name string, i int) string {
			idx := rec.Schema().FieldIndices(name)
			if len(idx) == 0 {
				return ""
			}
			col, ok := rec.Column(idx[0]).(*array.String)
			if !ok || col.IsNull(i) {
				return ""
			}
			return col.Value(i)
		}
		num := func(name string, i int, null int64) int64 {
			idx := rec.Schema().FieldIndices(name)
			if len(idx) == 0 {
				return null
			}
			col, ok := rec.Column(idx[0]).(*array.Int64)
			if !ok || col.IsNull(i) {
				return null
			}
			return col.Value(i)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			out = append(out, DeadLetter{
				Step: str("step", i), Error: str("error", i), File: str("file", i), Line: num("line", i, 0),
				Row: num("row", i, -1), Column: str("column", i), Record: str("record", i),
			})
		}
	}
	return out
}

// checkDeadLetters matches expected dead letters with the ones received,
// in any order (a dead letter from the source and one from a stage have
// no order a user should rely on), each with a different one; it reports
// what is left over on either side.
func checkDeadLetters(at, file string, exp []*expectedDeadLetter, got []DeadLetter) string {
	// A maximum bipartite matching (augmenting paths), not first-fit: a
	// loose expectation ({step: x}) must not take the one row a stricter
	// one needs.
	match := make([]int, len(got)) // got index → exp index, -1 when free
	for j := range match {
		match[j] = -1
	}
	var try func(i int, seen []bool) bool
	try = func(i int, seen []bool) bool {
		for j := range got {
			if seen[j] || !exp[i].matches(got[j]) {
				continue
			}
			seen[j] = true
			if match[j] < 0 || try(match[j], seen) {
				match[j] = i
				return true
			}
		}
		return false
	}
	matched := make([]bool, len(exp))
	for i := range exp {
		matched[i] = try(i, make([]bool, len(got)))
	}
	var msgs []string
	for i, e := range exp {
		if !matched[i] {
			msgs = append(msgs, fmt.Sprintf("not found (%s:%d): %s", file, e.line, e))
		}
	}
	for j, d := range got {
		if match[j] < 0 {
			msgs = append(msgs, "not expected: "+d.String())
		}
	}
	if len(msgs) == 0 {
		return ""
	}
	return summarize(fmt.Sprintf("%s: dead letters differ (%d expected, %d got)", at, len(exp), len(got)), msgs)
}

func (e *expectedDeadLetter) String() string {
	var parts []string
	if e.step != "" {
		parts = append(parts, "step: "+e.step)
	}
	if e.err != "" {
		parts = append(parts, fmt.Sprintf("error containing %q", e.err))
	}
	if len(e.row) > 0 {
		kv := make([]string, len(e.row))
		for i, c := range e.row {
			kv[i] = c.Key + ": " + c.Value
		}
		parts = append(parts, "row: {"+strings.Join(kv, ", ")+"}")
	}
	if e.hasRecord {
		parts = append(parts, fmt.Sprintf("record: %q", e.record))
	}
	if len(parts) == 0 {
		return "any dead letter"
	}
	return strings.Join(parts, ", ")
}

func (e *expectedDeadLetter) matches(d DeadLetter) bool {
	if e.step != "" && e.step != d.Step || !strings.Contains(d.Error, e.err) || e.hasRecord && e.record != d.Record {
		return false
	}
	if len(e.row) == 0 {
		return true
	}
	// Stage and sink rejects carry the row as a JSON object; a source
	// reject carries the raw record, which has no columns to compare.
	dec := json.NewDecoder(strings.NewReader(d.Record))
	dec.UseNumber()
	var row map[string]any
	if err := dec.Decode(&row); err != nil {
		return false
	}
	for _, kv := range e.row {
		v, ok := row[kv.Key]
		if !ok || !sameValue(kv.Value, v) {
			return false
		}
	}
	return true
}

// sameValue compares a value written in the test file (YAML text) with one
// of the dead letter's JSON row: numbers by value (1e300 is 1e+300),
// null by any of YAML's spellings, everything else by its text.
func sameValue(want string, got any) bool {
	switch g := got.(type) {
	case nil:
		return want == "null" || want == "~" || want == ""
	case json.Number:
		w, err1 := strconv.ParseFloat(want, 64)
		x, err2 := g.Float64()
		return err1 == nil && err2 == nil && (w == x || math.IsNaN(w) && math.IsNaN(x))
	case string:
		return want == g
	case bool:
		return want == strconv.FormatBool(g)
	}
	b, err := json.Marshal(got)
	return err == nil && string(b) == want
}
