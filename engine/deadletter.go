package engine

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// DeadLetterSchema is the fixed schema of dead-letter records. A fixed
// schema lets any sink (a JSONL file, a Parquet file, a Kafka topic) take
// rejects from every step, whatever each step's own schema is.
//
//   - step: the step that rejected the row
//   - error: why
//   - file, line: where the row was read, when a source rejected it
//   - row: the row's index in the record the step received (stages, sinks);
//     after filters that hand on a selection (Selecting), the record they
//     were given, so the index stays the one the rows had before them
//   - column: the offending column, when known
//   - record: the row as read (source rejects) or as a JSON object (stage and sink rejects)
var DeadLetterSchema = arrow.NewSchema([]arrow.Field{
	{Name: "step", Type: arrow.BinaryTypes.String},
	{Name: "error", Type: arrow.BinaryTypes.String},
	{Name: "file", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "line", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "row", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "column", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "record", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// deadLetterRecord builds one dead-letter record from rejects. src, when not
// nil, is the batch the rejected rows' Row indexes point into; their values
// are rendered as JSON objects.
func deadLetterRecord(mem memory.Allocator, rejects []RowError, src arrow.RecordBatch) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, DeadLetterSchema)
	defer b.Release()
	step := b.Field(0).(*array.StringBuilder)
	msg := b.Field(1).(*array.StringBuilder)
	file := b.Field(2).(*array.StringBuilder)
	line := b.Field(3).(*array.Int64Builder)
	row := b.Field(4).(*array.Int64Builder)
	col := b.Field(5).(*array.StringBuilder)
	rec := b.Field(6).(*array.StringBuilder)
	for i := range rejects {
		r := &rejects[i]
		step.Append(r.Step)
		if r.Err != nil {
			msg.Append(strings.ToValidUTF8(r.Err.Error(), "\uFFFD"))
		} else {
			msg.Append("rejected")
		}
		appendOpt(file, r.File)
		if r.Line > 0 {
			line.Append(r.Line)
		} else {
			line.AppendNull()
		}
		switch {
		case r.File == "" && src != nil:
			row.Append(int64(r.Row))
		default:
			row.AppendNull()
		}
		appendOpt(col, r.Column)
		switch {
		case r.Raw != nil:
			rec.Append(strings.ToValidUTF8(string(bytes.TrimRight(r.Raw, "\r\n")), "\uFFFD"))
		case src != nil && r.Row >= 0 && int64(r.Row) < src.NumRows():
			rec.Append(rowJSON(src, r.Row))
		default:
			rec.AppendNull()
		}
	}
	return b.NewRecordBatch()
}

func appendOpt(b *array.StringBuilder, s string) {
	if s == "" {
		b.AppendNull()
		return
	}
	b.Append(strings.ToValidUTF8(s, "\uFFFD"))
}

// rowJSON renders one row as a JSON object in schema order. It is only used
// for rejected rows, so clarity beats speed here.
func rowJSON(rec arrow.RecordBatch, i int) string {
	var b strings.Builder
	b.WriteByte('{')
	for c, f := range rec.Schema().Fields() {
		if c > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(f.Name))
		b.WriteByte(':')
		v, err := json.Marshal(rec.Column(c).GetOneForMarshal(i))
		if err != nil {
			v, _ = json.Marshal(rec.Column(c).ValueStr(i))
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.String()
}

// allRows makes one reject per row of rec, for a batch that failed as a whole.
// selectedRows is allRows for a batch that is the rows sel of rec (all of
// rec when sel is nil).
func selectedRows(rec arrow.RecordBatch, sel []int, err error) []RowError {
	if sel == nil {
		return allRows(rec, err)
	}
	out := make([]RowError, len(sel))
	for k, i := range sel {
		out[k] = RowError{Row: i, Err: err}
	}
	return out
}

func allRows(rec arrow.RecordBatch, err error) []RowError {
	n := int(rec.NumRows())
	out := make([]RowError, n)
	for i := range out {
		out[i] = RowError{Row: i, Err: err}
	}
	return out
}
