package blob

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/coordinator/split"
	"github.com/dataweaver/dataweaver/format"
)

// objectSplit is the Data of a split of a blob source: one object, whole
// or one Parquet row group of it. Size, MtimeNs and ETag are the object
// as planned: a worker refuses an object that changed since, as a resume
// does.
type objectSplit struct {
	Name    string `json:"name"`
	Size    int64  `json:"size"`
	MtimeNs int64  `json:"mtime_ns"`
	ETag    string `json:"etag,omitempty"`
	// Group is the row group (-1 for the whole object), Skip the rows
	// before it and Rows its rows.
	Group int   `json:"group"`
	Skip  int64 `json:"skip,omitempty"`
	Rows  int64 `json:"rows,omitempty"`
	// Schema is the schema the planner found in the first object (an Arrow
	// IPC stream holding no batch), for a text format given none: each
	// split decodes into it, as a run alone decodes later files into the
	// first one's, rather than infer types of its own.
	Schema []byte `json:"schema,omitempty"`
	// Start and End are a byte-range split's range of the object (End 0:
	// not one), Header the CSV header line its reader reads first.
	Start  int64  `json:"start,omitempty"`
	End    int64  `json:"end,omitempty"`
	Header []byte `json:"header,omitempty"`
}

// Splits lists the splits of the source's input (split.Source): one per
// object, one per row group of a Parquet file, or one per byte range of a
// large JSON Lines (or newline-free CSV) object, so a few large files
// still spread over many workers. Standard input has none.
func (s *Source) Splits(ctx context.Context) ([]split.Split, error) {
	if s.stream {
		return nil, fmt.Errorf("%s: standard input cannot be read in splits", s.kind)
	}
	objs, err := s.store.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.kind, err)
	}
	var schema []byte
	if s.format.Text && s.opts.Schema == nil && len(objs) > 0 {
		if schema, err = s.firstSchema(ctx); err != nil {
			return nil, err
		}
	}
	var out []split.Split
	for _, o := range objs {
		whole := objectSplit{Name: o.Name, Size: o.Size, MtimeNs: o.MtimeNs, ETag: o.ETag, Group: -1, Schema: schema}
		ranges, err := s.rangeSplits(ctx, o, whole)
		if err != nil {
			return nil, err
		}
		if len(ranges) > 0 {
			out = append(out, ranges...)
			continue
		}
		groups, err := s.rowGroups(ctx, o)
		if err != nil {
			return nil, err
		}
		if len(groups) < 2 {
			out = append(out, newSplit(whole, o.Name, o.Name))
			continue
		}
		var skip int64
		for g, n := range groups {
			sp := whole
			sp.Group, sp.Skip, sp.Rows = g, skip, n
			skip += n
			out = append(out, newSplit(sp, o.Name+"#"+strconv.Itoa(g),
				fmt.Sprintf("%s row group %d (rows %d to %d)", o.Name, g, sp.Skip, sp.Skip+n-1)))
		}
	}
	return out, nil
}

func newSplit(o objectSplit, id, text string) split.Split {
	data, _ := json.Marshal(o) // plain fields: cannot fail
	rows := o.Rows
	return split.Split{ID: id, Text: text, Data: data, Rows: rows}
}

// rowGroups returns the row counts of a Parquet object's row groups (nil
// for other formats and compressed files), read from its footer.
func (s *Source) rowGroups(ctx context.Context, o Object) ([]int64, error) {
	if s.format.Name != "parquet" || s.compression == CompGzip || s.compression == CompZstd || BySuffix(o.Name) != "" {
		return nil, nil
	}
	opened, err := s.store.Open(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.kind, err)
	}
	defer opened.Close()
	if opened.RA == nil {
		return nil, nil
	}
	opts := s.opts
	opts.Schema = nil
	r, err := s.format.NewReader(format.Input{Name: o.Name, R: opened.R, RA: opened.RA, Size: o.Size}, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.kind, err)
	}
	defer r.Close()
	g, ok := r.(interface{ RowGroupRows() []int64 })
	if !ok {
		return nil, nil
	}
	return append([]int64(nil), g.RowGroupRows()...), nil
}

// firstSchema opens the source as a run alone would, for the schema of
// its first object, and encodes it.
func (s *Source) firstSchema(ctx context.Context) ([]byte, error) {
	schema, err := s.Open(ctx)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(s.mem()))
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("%s: encode the schema: %w", s.kind, err)
	}
	return buf.Bytes(), nil
}

// ReadSplit makes the next Open read one split (split.Source).
func (s *Source) ReadSplit(sp split.Split) error {
	var o objectSplit
	if err := json.Unmarshal(sp.Data, &o); err != nil {
		return fmt.Errorf("%s: split %s: %w", s.kind, sp.ID, err)
	}
	if len(o.Schema) > 0 && s.opts.Schema == nil {
		r, err := ipc.NewReader(bytes.NewReader(o.Schema), ipc.WithAllocator(s.mem()))
		if err != nil {
			return fmt.Errorf("%s: split %s: schema: %w", s.kind, sp.ID, err)
		}
		s.opts.Schema = r.Schema()
		r.Release()
	}
	s.split = &o
	return nil
}

// restrict keeps the split's object of the listing and sets where reading
// starts; called by Open in place of the resume plan.
func (s *Source) restrict(listErr error) error {
	sp := s.split
	if listErr != nil {
		return fmt.Errorf("%s: %w", s.kind, listErr)
	}
	for _, o := range s.objs {
		if o.Name != sp.Name {
			continue
		}
		if o.Size != sp.Size || o.MtimeNs != sp.MtimeNs || o.ETag != sp.ETag {
			return fmt.Errorf("%s: %s changed since the splits were planned (size %d, now %d); "+
				"write new files instead of changing read ones", s.kind, o.Name, sp.Size, o.Size)
		}
		s.objs, s.total = []Object{o}, o.Size
		if sp.End > 0 {
			s.total = sp.End - sp.Start
		}
		if sp.Skip > 0 {
			s.at = &resumeAt{index: 0, row: sp.Skip}
		}
		return nil
	}
	return fmt.Errorf("%s: %s, planned as a split, is gone", s.kind, sp.Name)
}

// splitDone reports whether the split's rows have all been served, and
// caps the next batch at the rows left.
func (s *Source) splitDone() bool {
	sp := s.split
	if sp == nil || sp.Rows <= 0 || s.cur == nil {
		return false
	}
	left := sp.Skip + sp.Rows - s.cur.row
	if left <= 0 {
		return true
	}
	if s.cap <= 0 || s.cap > left {
		s.cap = left
	}
	return false
}

func (s *Source) mem() memory.Allocator {
	if s.opts.Mem != nil {
		return s.opts.Mem
	}
	return memory.DefaultAllocator
}
