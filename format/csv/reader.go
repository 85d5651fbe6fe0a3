package csv

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/format"
	"github.com/dataweaver/dataweaver/format/internal/rowcodec"
)

// ErrOptions is wrapped when ReadOptions or WriteOptions cannot be used.
var ErrOptions = errors.New("csv: invalid options")

// NewReader reads the header and, without a schema, the inference sample,
// then starts decoding in the background. The sample stays buffered and is
// decoded like the rest, so a stream that cannot be re-read (stdin) loses
// nothing.
func NewReader(in format.Input, opts format.ReadOptions) (format.Reader, error) {
	return newReader(in, opts, maxQuotedLines)
}

// newReader is NewReader with maxLines line breaks allowed in a quoted
// field; tests lower it.
func newReader(in format.Input, opts format.ReadOptions, maxLines int) (format.Reader, error) {
	name, opts := rowcodec.ReadDefaults(in, opts)
	delim, err := delimiter(opts.Delimiter)
	if err != nil {
		return nil, err
	}
	nullEmpty, nullOther := nullSet(opts.NullValues)

	rl := &rules{delim: delim, limit: opts.MaxRecordBytes, maxLines: maxLines}
	p := rowcodec.NewPipeline(in.R, name, rowcodec.Records{Split: rl.splitter(), Broken: rl.explain}, opts)
	p.SkipBOM()
	var header []string
	if !opts.NoHeader {
		row, line, ok, err := p.Take()
		if err != nil {
			return nil, err
		}
		if ok {
			if header, _, err = splitRecord(row, delim); err != nil {
				return nil, fmt.Errorf("%s:%d: header: %w: %w", name, line, format.ErrMalformed, err)
			}
			for i, h := range header {
				if h == "" {
					header[i] = fmt.Sprintf("f%d", i)
				}
			}
		}
	}

	schema := opts.Schema
	var slotOf []int // schema field index per field position, -1 to skip
	switch {
	case schema != nil && header != nil:
		pos := make(map[string]int, len(header))
		for i := len(header) - 1; i >= 0; i-- {
			pos[header[i]] = i
		}
		slotOf = make([]int, len(header))
		for i := range slotOf {
			slotOf[i] = -1
		}
		var missing []string
		for fi, f := range schema.Fields() {
			if i, ok := pos[f.Name]; ok && slotOf[i] < 0 {
				slotOf[i] = fi
			} else {
				missing = append(missing, f.Name)
			}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("%s:1: %w: schema columns %q are not in the header %q", name, ErrOptions, missing, header)
		}
	case schema != nil:
		slotOf = make([]int, schema.NumFields())
		for i := range slotOf {
			slotOf[i] = i
		}
	default:
		ncols := -1
		if header != nil {
			ncols = len(header)
		}
		sample, cut, err := p.Peek(opts.InferRows)
		if err != nil {
			return nil, err
		}
		types := infer(sample, rl, ncols, nullOther)
		if len(types) == 0 && cut != nil {
			return nil, p.NoSample(cut)
		}
		fields := make([]arrow.Field, len(types))
		slotOf = make([]int, len(types))
		for i, t := range types {
			n := fmt.Sprintf("f%d", i)
			if header != nil {
				n = header[i]
			}
			fields[i] = arrow.Field{Name: n, Type: t, Nullable: true}
			slotOf[i] = i
		}
		schema = arrow.NewSchema(fields, nil)
	}
	for _, f := range schema.Fields() {
		if _, err := rowcodec.NewColumn(f.Name, f.Type, false); err != nil {
			return nil, fmt.Errorf("%s: %w: %w", name, ErrOptions, err)
		}
	}

	p.Start(opts.Workers, func() rowcodec.ChunkDecoder {
		d := &decoder{
			Batch: rowcodec.Batch{Mem: opts.Mem, Schema: schema, File: name},
			rules: rl, delim: delim, nullEmpty: nullEmpty, nullOther: nullOther,
		}
		for _, f := range schema.Fields() {
			c, _ := rowcodec.NewColumn(f.Name, f.Type, false)
			d.cols = append(d.cols, c)
		}
		d.slots = make([]*rowcodec.Column, len(slotOf))
		for i, fi := range slotOf {
			if fi >= 0 {
				d.slots[i] = d.cols[fi]
			}
		}
		return d
	})
	return rowcodec.NewReader(schema, p, errClosed), nil
}

func delimiter(r rune) (byte, error) {
	switch {
	case r == 0:
		return ',', nil
	case r >= 0x80 || r == '"' || r == '\n' || r == '\r':
		return 0, fmt.Errorf("%w: delimiter %q must be one ASCII character other than a quote or line end", ErrOptions, r)
	}
	return byte(r), nil
}

// nullSet splits NullValues into "the empty cell is null" and the other
// texts. nil means the default, {""}; an empty non-nil slice means no text is
// null, so empty cells of string columns are empty strings.
func nullSet(vals []string) (bool, [][]byte) {
	if vals == nil {
		return true, nil
	}
	empty := false
	var other [][]byte
	for _, v := range vals {
		if v == "" {
			empty = true
		} else {
			other = append(other, []byte(v))
		}
	}
	return empty, other
}

var errClosed = errors.New("csv: reader is closed")
