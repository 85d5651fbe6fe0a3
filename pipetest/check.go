package pipetest

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"gopkg.in/yaml.v3"

	connmem "github.com/dataweaver/dataweaver/connectors/inmemory"
)

// maxShown bounds the rows a failure lists: past a handful the diff stops
// helping and starts scrolling the first difference off the screen.
const maxShown = 10

// checkStep compares what one step emitted with an expectation: the schema
// first (a mismatch ends the check, since rows of another shape cannot be
// compared value by value), then the rows, then the count.
func checkStep(file string, e *expectation, want *arrow.Schema, out *Output, mem memory.Allocator) []string {
	at := fmt.Sprintf("%s:%d: step %s", file, e.line, e.step)
	if out == nil || out.Schema == nil {
		return []string{at + ": the step never ran (the run failed before it); nothing to compare"}
	}
	if want != nil {
		if diff := schemaDiff(want, out.Schema); len(diff) > 0 {
			return []string{fmt.Sprintf("%s: schema differs (rows not compared):\n    %s", at, strings.Join(diff, "\n    "))}
		}
	}
	var fails []string
	if e.rows != nil {
		compared := out
		if len(e.columns) > 0 {
			var msg string
			if compared, msg = project(out, e.columns); msg != "" {
				return []string{fmt.Sprintf("%s: schema differs (rows not compared):\n    %s", at, msg)}
			}
			defer releaseAll(compared.Records)
		}
		if msg := unknownColumns(file, e.rows, compared.Schema, out.Schema); msg != "" {
			return []string{fmt.Sprintf("%s: schema differs (rows not compared):\n    %s", at, msg)}
		}
		if msg := compareRows(file, e, compared, mem); msg != "" {
			fails = append(fails, at+": "+msg)
		}
	}
	if e.count >= 0 && out.Rows() != int64(e.count) {
		fails = append(fails, fmt.Sprintf("%s: got %d rows, expected count %d", at, out.Rows(), e.count))
	}
	return fails
}

// schemaDiff lists how got differs from want: each column missing, extra,
// of another type, or nullable where want says not null; then the order.
func schemaDiff(want, got *arrow.Schema) []string {
	var diff []string
	for _, w := range want.Fields() {
		idx := got.FieldIndices(w.Name)
		if len(idx) == 0 {
			diff = append(diff, fmt.Sprintf("column %s: expected %s, but the step has no such column", w.Name, w.Type))
			continue
		}
		g := got.Field(idx[0])
		if !arrow.TypeEqual(w.Type, g.Type) {
			diff = append(diff, fmt.Sprintf("column %s: expected type %s, got %s", w.Name, w.Type, g.Type))
		}
		if !w.Nullable && g.Nullable {
			diff = append(diff, fmt.Sprintf("column %s: expected not null, got nullable", w.Name))
		}
	}
	for _, g := range got.Fields() {
		if !want.HasField(g.Name) {
			diff = append(diff, fmt.Sprintf("column %s (%s): not expected", g.Name, g.Type))
		}
	}
	if len(diff) == 0 && !sameOrder(want, got) {
		diff = append(diff, fmt.Sprintf("columns in another order: expected %s, got %s", columnNames(want), columnNames(got)))
	}
	return diff
}

func sameOrder(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.Fields() {
		if a.Field(i).Name != b.Field(i).Name {
			return false
		}
	}
	return true
}

func columnNames(s *arrow.Schema) string {
	names := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		names[i] = f.Name
	}
	return "(" + strings.Join(names, ", ") + ")"
}

// project is out with only the named columns, in that order; its records
// share the step's arrays and are the caller's to release. The message
// names a column the step does not emit.
func project(out *Output, names []string) (*Output, string) {
	idx := make([]int, len(names))
	fields := make([]arrow.Field, len(names))
	for i, name := range names {
		at := out.Schema.FieldIndices(name)
		if len(at) == 0 {
			return nil, fmt.Sprintf("column %s (in columns:): the step has no such column (its columns: %s)",
				name, strings.Trim(columnNames(out.Schema), "()"))
		}
		idx[i], fields[i] = at[0], out.Schema.Field(at[0])
	}
	p := &Output{Name: out.Name, Kind: out.Kind, Schema: arrow.NewSchema(fields, nil)}
	for _, r := range out.Records {
		cols := make([]arrow.Array, len(idx))
		for i, c := range idx {
			cols[i] = r.Column(c)
		}
		p.Records = append(p.Records, array.NewRecordBatch(p.Schema, cols, r.NumRows()))
	}
	return p, ""
}

// unknownColumns names the columns expected rows give that are not
// compared: ones the step does not emit (a schema difference, reported as
// one before any value), or ones left out of columns:.
func unknownColumns(file string, rows *yaml.Node, got, all *arrow.Schema) string {
	var msgs []string
	seen := map[string]bool{}
	for _, row := range rows.Content {
		row = deref(row)
		if row.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(row.Content); i += 2 {
			k := row.Content[i]
			if got.HasField(k.Value) || seen[k.Value] {
				continue
			}
			seen[k.Value] = true
			if all.HasField(k.Value) {
				msgs = append(msgs, fmt.Sprintf("column %s (%s:%d): not among the compared columns: %s",
					k.Value, file, k.Line, strings.Trim(columnNames(got), "()")))
				continue
			}
			msgs = append(msgs, fmt.Sprintf("column %s (%s:%d): expected, but the step has no such column (its columns: %s)",
				k.Value, file, k.Line, strings.Trim(columnNames(all), "()")))
		}
	}
	return strings.Join(msgs, "\n    ")
}

// compareRows decodes the expected rows into the step's own schema (so
// 1 means an int64 in an int64 column and a float in a float64 one) and
// compares them with what the step emitted.
func compareRows(file string, e *expectation, out *Output, mem memory.Allocator) string {
	want, rejects, err := connmem.DecodeRows(mem, out.Schema, e.rows, file, e.path)
	if err != nil {
		return err.Error()
	}
	defer want.Release()
	if len(rejects) > 0 {
		var msgs []string
		for _, r := range rejects {
			msgs = append(msgs, fmt.Sprintf("%s:%d: column %s: %v", file, r.Line, r.Column, r.Err))
		}
		return "expected rows do not fit the step's schema " + columnTypes(out.Schema) + ":\n    " + strings.Join(msgs, "\n    ")
	}
	lines := make([]int, len(e.rows.Content))
	for i, n := range e.rows.Content {
		lines[i] = n.Line
	}
	got := flatten(out.Records)
	exp := flatten([]arrow.RecordBatch{want})
	if e.unordered {
		return unorderedDiff(file, lines, exp, got)
	}
	return orderedDiff(file, lines, exp, got)
}

func columnTypes(s *arrow.Schema) string {
	parts := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		parts[i] = f.Name + " " + f.Type.String()
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// rowRef is one row of a record.
type rowRef struct {
	rec arrow.RecordBatch
	i   int
}

func flatten(recs []arrow.RecordBatch) []rowRef {
	var out []rowRef
	for _, r := range recs {
		for i := 0; i < int(r.NumRows()); i++ {
			out = append(out, rowRef{r, i})
		}
	}
	return out
}

// firstDiff is the index of the first column where a and b differ, -1
// when they agree. Both have the step's schema.
func firstDiff(a, b rowRef) int {
	for c := 0; c < int(a.rec.NumCols()); c++ {
		if !cellEqual(a.rec.Column(c), a.i, b.rec.Column(c), b.i) {
			return c
		}
	}
	return -1
}

// floatTolerance is the relative difference under which two floats are
// equal: a transform computing 0.1+0.2 should match an expected 0.3, and
// nine significant digits are more than a test writes by hand.
const floatTolerance = 1e-9

func cellEqual(a arrow.Array, i int, b arrow.Array, j int) bool {
	if a.IsNull(i) || b.IsNull(j) {
		return a.IsNull(i) && b.IsNull(j)
	}
	var x, y float64
	switch a := a.(type) {
	case *array.Float64:
		x, y = a.Value(i), b.(*array.Float64).Value(j)
	case *array.Float32:
		x, y = float64(a.Value(i)), float64(b.(*array.Float32).Value(j))
	default:
		return array.SliceEqual(a, int64(i), int64(i+1), b, int64(j), int64(j+1))
	}
	if x == y || math.IsNaN(x) && math.IsNaN(y) {
		return true
	}
	return math.Abs(x-y) <= floatTolerance*math.Max(math.Abs(x), math.Abs(y))
}

// render writes a row as a YAML flow mapping, in the step's column order,
// strings quoted so "1" and 1 look different.
func render(r rowRef) string {
	var b strings.Builder
	b.WriteByte('{')
	for c, f := range r.rec.Schema().Fields() {
		if c > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.Name)
		b.WriteString(": ")
		b.WriteString(cell(r.rec.Column(c), r.i))
	}
	b.WriteByte('}')
	return b.String()
}

func cell(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "null"
	}
	switch a := a.(type) {
	case *array.String:
		return strconv.Quote(a.Value(i))
	case *array.LargeString:
		return strconv.Quote(a.Value(i))
	}
	return a.ValueStr(i)
}

// orderedDiff aligns expected and got rows on their longest common
// subsequence, so one missing row shows as one row, not as every row after
// it differing. A run of expected rows replaced by a run of got rows is
// shown pairwise, naming the first column that differs.
func orderedDiff(file string, lines []int, exp, got []rowRef) string {
	ops := align(exp, got)
	var msgs []string
	differ := 0
	for k := 0; k < len(ops); {
		if ops[k].kind == opEqual {
			k++
			continue
		}
		var dels, ins []op
		for ; k < len(ops) && ops[k].kind != opEqual; k++ {
			if ops[k].kind == opDel {
				dels = append(dels, ops[k])
			} else {
				ins = append(ins, ops[k])
			}
		}
		for n := 0; n < max(len(dels), len(ins)); n++ {
			differ++
			switch {
			case n < len(dels) && n < len(ins):
				e, g := exp[dels[n].i], got[ins[n].j]
				c := firstDiff(e, g)
				col := e.rec.ColumnName(c)
				msgs = append(msgs, fmt.Sprintf("row %d (%s:%d), column %s: expected %s, got %s\n    expected: %s\n    got:      %s",
					dels[n].i+1, file, lines[dels[n].i], col, cell(e.rec.Column(c), e.i), cell(g.rec.Column(c), g.i), render(e), render(g)))
			case n < len(dels):
				msgs = append(msgs, fmt.Sprintf("row %d (%s:%d): missing\n    expected: %s", dels[n].i+1, file, lines[dels[n].i], render(exp[dels[n].i])))
			default:
				msgs = append(msgs, fmt.Sprintf("got row %d: not expected\n    got:      %s", ins[n].j+1, render(got[ins[n].j])))
			}
		}
	}
	if differ == 0 {
		return ""
	}
	return summarize(fmt.Sprintf("rows differ (%d expected, %d got)", len(exp), len(got)), msgs)
}

func summarize(head string, msgs []string) string {
	if len(msgs) > maxShown {
		msgs = append(msgs[:maxShown], fmt.Sprintf("… and %d more", len(msgs)-maxShown))
	}
	return head + ":\n  " + strings.ReplaceAll(strings.Join(msgs, "\n"), "\n", "\n  ")
}

type opKind int

const (
	opEqual opKind = iota
	opDel          // an expected row not in got
	opIns          // a got row not expected
)

type op struct {
	kind opKind
	i, j int
}

// maxAlign bounds the LCS table (cells); past it rows are paired by
// position. Test files hold tens of rows, not thousands.
const maxAlign = 4 << 20

// align is the classic LCS edit script between exp and got.
func align(exp, got []rowRef) []op {
	n, m := len(exp), len(got)
	var ops []op
	if (n+1)*(m+1) > maxAlign {
		for k := 0; k < max(n, m); k++ {
			switch {
			case k < n && k < m && firstDiff(exp[k], got[k]) < 0:
				ops = append(ops, op{opEqual, k, k})
			case k < n && k < m:
				ops = append(ops, op{opDel, k, 0}, op{opIns, 0, k})
			case k < n:
				ops = append(ops, op{opDel, k, 0})
			default:
				ops = append(ops, op{opIns, 0, k})
			}
		}
		return ops
	}
	// lcs[i][j] is the LCS length of exp[i:] and got[j:].
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if firstDiff(exp[i], got[j]) < 0 {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && firstDiff(exp[i], got[j]) < 0:
			ops = append(ops, op{opEqual, i, j})
			i, j = i+1, j+1
		case j == m || i < n && lcs[i+1][j] >= lcs[i][j+1]:
			ops = append(ops, op{opDel, i, 0})
			i++
		default:
			ops = append(ops, op{opIns, 0, j})
			j++
		}
	}
	return ops
}

// unorderedDiff compares rows as multisets; two rows are the same when
// every value is (floats within floatTolerance).
func unorderedDiff(file string, lines []int, exp, got []rowRef) string {
	used := make([]bool, len(got))
	var msgs []string
	for i, e := range exp {
		found := false
		for j, g := range got {
			if !used[j] && firstDiff(e, g) < 0 {
				used[j], found = true, true
				break
			}
		}
		if !found {
			msgs = append(msgs, fmt.Sprintf("row %d (%s:%d): missing\n    expected: %s", i+1, file, lines[i], render(e)))
		}
	}
	for j, g := range got {
		if !used[j] {
			msgs = append(msgs, fmt.Sprintf("got row %d: not expected\n    got:      %s", j+1, render(g)))
		}
	}
	if len(msgs) == 0 {
		return ""
	}
	return summarize(fmt.Sprintf("rows differ, in any order (%d expected, %d got)", len(exp), len(got)), msgs)
}
