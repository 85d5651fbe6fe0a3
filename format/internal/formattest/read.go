package formattest

import (
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
)

// ReadAll decodes in with f as "in.<format>" and renders every row as
// "v1|v2|...": null for nulls, strings quoted (so "" and null differ),
// other values as ValueStr.
func ReadAll(t testing.TB, f *format.Format, mem memory.Allocator, in io.Reader, opts format.ReadOptions) (*arrow.Schema, []string, []format.RowError, error) {
	t.Helper()
	opts.Mem = mem
	r, err := f.NewReader(format.Input{R: in, Name: "in." + f.Name}, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	defer r.Close()
	var rows []string
	var rejects []format.RowError
	for {
		rec, rej, err := r.Next()
		if errors.Is(err, io.EOF) {
			return r.Schema(), rows, rejects, nil
		}
		if err != nil {
			return r.Schema(), rows, rejects, err
		}
		if !rec.Schema().Equal(r.Schema()) {
			t.Errorf("record schema %s differs from reader schema %s", rec.Schema(), r.Schema())
		}
		rows = append(rows, render(rec)...)
		rejects = append(rejects, rej...)
		rec.Release()
	}
}

func render(rec arrow.RecordBatch) []string {
	var out []string
	for i := 0; i < int(rec.NumRows()); i++ {
		cells := make([]string, rec.NumCols())
		for j, col := range rec.Columns() {
			switch {
			case col.IsNull(i):
				cells[j] = "null"
			case col.DataType().ID() == arrow.STRING || col.DataType().ID() == arrow.LARGE_STRING:
				cells[j] = strconv.Quote(col.ValueStr(i))
			case col.DataType().ID() == arrow.TIMESTAMP:
				cells[j] = timestampStr(col.(*array.Timestamp), i)
			default:
				cells[j] = col.ValueStr(i)
			}
		}
		out = append(out, strings.Join(cells, "|"))
	}
	return out
}

// TypesOf renders a schema as "name:type,...".
func TypesOf(s *arrow.Schema) string {
	var parts []string
	for _, f := range s.Fields() {
		parts = append(parts, f.Name+":"+f.Type.String())
	}
	return strings.Join(parts, ",")
}

// RejectsOf renders rejects as "line:column".
func RejectsOf(rej []format.RowError) []string {
	var out []string
	for _, e := range rej {
		out = append(out, strconv.FormatInt(e.Line, 10)+":"+e.Column)
	}
	return out
}

// FirstDiff is the first index at which a and b differ.
func FirstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// ReadCase is one case of a reader's table test.
type ReadCase struct {
	Name        string
	In          string
	Opts        format.ReadOptions
	WantTypes   string   // TypesOf the schema; "" skips the check
	Want        []string // rows as ReadAll renders them
	WantRejects []string // "line:column", as RejectsOf renders them
}

// ReadCases reads each case with f on one worker and on three, in batches
// of two rows so that every case also runs across chunk boundaries. Every
// reject must wrap format.ErrMalformed and carry the file name and the raw
// row.
func ReadCases(t *testing.T, f *format.Format, cases []ReadCase) {
	file := "in." + f.Name
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			for _, workers := range []int{1, 3} {
				opts := tt.Opts
				opts.Workers = workers
				opts.BatchRows = 2
				s, rows, rej, err := ReadAll(t, f, mem, strings.NewReader(tt.In), opts)
				if err != nil {
					t.Fatalf("workers=%d: %v", workers, err)
				}
				if tt.WantTypes != "" && TypesOf(s) != tt.WantTypes {
					t.Errorf("types = %s, want %s", TypesOf(s), tt.WantTypes)
				}
				if !reflect.DeepEqual(rows, tt.Want) {
					t.Errorf("workers=%d rows:\n got %q\nwant %q", workers, rows, tt.Want)
				}
				if got := RejectsOf(rej); !reflect.DeepEqual(got, tt.WantRejects) {
					t.Errorf("workers=%d rejects = %q, want %q (%v)", workers, got, tt.WantRejects, rej)
				}
				for _, e := range rej {
					if !errors.Is(e.Err, format.ErrMalformed) || e.File != file || len(e.Raw) == 0 {
						t.Errorf("reject %v: want ErrMalformed, file %s and the raw row", &e, file)
					}
				}
			}
		})
	}
}

// Records reads every batch of r, named name in messages, and closes it.
// An error or a rejected row fails the test: it is for inputs that must
// read cleanly. The records read so far are released before it fails, so
// a checked allocator reports the failure and not a leak as well; on
// success the caller releases them.
func Records(t testing.TB, name string, r format.Reader) (*arrow.Schema, []arrow.RecordBatch) {
	t.Helper()
	defer r.Close()
	var recs []arrow.RecordBatch
	fail := func(format string, args ...any) {
		t.Helper()
		for _, rec := range recs {
			rec.Release()
		}
		t.Fatalf(format, args...)
	}
	for {
		rec, rejects, err := r.Next()
		if errors.Is(err, io.EOF) {
			return r.Schema(), recs
		}
		if err != nil {
			fail("Next(%s): %v", name, err)
		}
		recs = append(recs, rec)
		if len(rejects) != 0 {
			fail("%s: unexpected rejects %v", name, rejects)
		}
	}
}

// timestampStr renders a timestamp as arrow-go v15's ValueStr did
// ("2006-01-02 15:04:05.999999999Z0700" in the type's zone, UTC when it
// has none), the form the expectations of the format tests are written in;
// v18's ValueStr gives RFC 3339 without a zone for zone-less types.
func timestampStr(a *array.Timestamp, i int) string {
	dt := a.DataType().(*arrow.TimestampType)
	z, _ := dt.GetZone()
	if z == nil {
		z = time.UTC
	}
	return a.Value(i).ToTime(dt.Unit).In(z).Format("2006-01-02 15:04:05.999999999Z0700")
}
