package formattest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
)

// LimitCase is one case of a text reader's record-limit table test.
type LimitCase struct {
	Name  string
	In    string
	Limit int // ReadOptions.MaxRecordBytes
	Want  []string
	// WantRejects are "line:column" as RejectsOf renders them, with a
	// record over the limit as "line:too long".
	WantRejects []string
}

// RecordLimit reads each case with schema plain and gzip-compressed (the
// file connector's gzip reader returns short pieces), on one worker in one
// batch, on three in batches of two and with one-byte reads, so a record
// over the limit is met complete in the buffer, cut by it, and between
// chunks. Every record over the limit must be one reject wrapping
// format.ErrRecordTooLarge whose message names the file, the line and the
// limit; the rows around it are read as usual.
func RecordLimit(t *testing.T, f *format.Format, schema *arrow.Schema, cases []LimitCase) {
	RecordLimitKinds(t, f, schema, cases, nil)
}

// RecordLimitKinds is RecordLimit with more kinds of reject told apart:
// a reject wrapping kinds[name] is "line:name" in WantRejects.
func RecordLimitKinds(t *testing.T, f *format.Format, schema *arrow.Schema, cases []LimitCase, kinds map[string]error) {
	file := "in." + f.Name
	variants := []struct {
		name           string
		batch, workers int
		gzip, oneByte  bool
	}{
		{"one worker", 1000, 1, false, false},
		{"batches of two, three workers", 2, 3, false, false},
		{"gzip", 2, 2, true, false},
		{"one byte reads", 1000, 1, false, true},
	}
	for _, tt := range cases {
		for _, v := range variants {
			t.Run(tt.Name+"/"+v.name, func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				var rd io.Reader = strings.NewReader(tt.In)
				if v.gzip {
					var z bytes.Buffer
					w := gzip.NewWriter(&z)
					if _, err := io.WriteString(w, tt.In); err != nil {
						t.Fatal(err)
					}
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
					zr, err := gzip.NewReader(&z)
					if err != nil {
						t.Fatal(err)
					}
					rd = zr
				}
				if v.oneByte {
					rd = iotest.OneByteReader(rd)
				}
				opts := format.ReadOptions{Schema: schema, BatchRows: v.batch, Workers: v.workers, MaxRecordBytes: tt.Limit}
				_, rows, rej, err := ReadAll(t, f, mem, rd, opts)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(rows, tt.Want) {
					t.Errorf("rows:\n got %q\nwant %q", rows, tt.Want)
				}
				if got := limitRejects(rej, kinds); !reflect.DeepEqual(got, tt.WantRejects) {
					t.Errorf("rejects = %q, want %q (%v)", got, tt.WantRejects, rej)
				}
				for _, e := range rej {
					if !errors.Is(e.Err, format.ErrRecordTooLarge) {
						continue
					}
					msg := e.Error()
					if e.File != file || !strings.HasPrefix(msg, fmt.Sprintf("%s:%d: ", file, e.Line)) || !strings.Contains(msg, strconv.Itoa(tt.Limit)+" bytes") {
						t.Errorf("reject %q: want the file, line %d and the limit %d", msg, e.Line, tt.Limit)
					}
				}
			})
		}
	}
}

func limitRejects(rej []format.RowError, kinds map[string]error) []string {
	var out []string
	for _, e := range rej {
		col := e.Column
		if errors.Is(e.Err, format.ErrRecordTooLarge) {
			col = "too long"
		}
		for name, k := range kinds {
			if errors.Is(e.Err, k) {
				col = name
			}
		}
		out = append(out, strconv.FormatInt(e.Line, 10)+":"+col)
	}
	return out
}

// HugeLine streams head, then a record of size bytes of fill (never held
// in memory: the reader makes it up as it is read), then tail, through f
// with a limit of limit bytes. The record must come back as exactly one
// reject naming line, the rows of head and tail as want, and the bytes
// allocated meanwhile must stay under maxAlloc: a reader that buffered the
// record would allocate at least size. It returns the bytes allocated.
func HugeLine(t *testing.T, f *format.Format, head string, fill byte, size int64, tail string, limit int, line int64, want []string, maxAlloc uint64) uint64 {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	in := io.MultiReader(strings.NewReader(head), io.LimitReader(repeatReader(fill), size), strings.NewReader(tail))
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, rows, rej, err := ReadAll(t, f, mem, in, format.ReadOptions{MaxRecordBytes: limit})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows = %q, want %q", rows, want)
	}
	if len(rej) != 1 || rej[0].Line != line || !errors.Is(rej[0].Err, format.ErrRecordTooLarge) {
		t.Fatalf("rejects = %v, want one record too large at line %d", rej, line)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d-byte record, limit %d: %v; %d MiB allocated", size, limit, &rej[0], alloc>>20)
	if alloc > maxAlloc {
		t.Errorf("allocated %d MiB reading a %d MiB record with a %d MiB limit, want at most %d MiB", alloc>>20, size>>20, limit>>20, maxAlloc>>20)
	}
	return alloc
}

// CloseWhileSkipping closes a reader whose input, after head, is one
// record that never ends: Close must return (a reader that read the record
// to its end would hang, which go test's -timeout reports) and leave no
// buffer behind.
func CloseWhileSkipping(t *testing.T, f *format.Format, head string) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r, err := f.NewReader(format.Input{R: io.MultiReader(strings.NewReader(head), repeatReader('x')), Name: "in." + f.Name},
		format.ReadOptions{Mem: mem, MaxRecordBytes: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

type repeatReader byte

func (r repeatReader) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(r)
	}
	return len(b), nil
}
