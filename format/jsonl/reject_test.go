package jsonl

import (
	"bytes"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"github.com/dataweaver/dataweaver/format"
)

// TestRejectLinesParallel decodes bad and good lines with tiny batches on
// several workers: every reject must name its exact line, good rows stay in
// order.
func TestRejectLinesParallel(t *testing.T) {
	var (
		in        strings.Builder
		wantRows  []string
		wantRejct []string
	)
	line := 1
	for i := range 3000 {
		switch {
		case i%7 == 3:
			fmt.Fprintf(&in, "{\"id\":%d,\"s\":\"x\"\n", i) // unclosed
			wantRejct = append(wantRejct, fmt.Sprintf("%d:", line))
		case i%13 == 5:
			fmt.Fprintf(&in, "{\"id\":\"n%d\",\"s\":\"x\"}\n", i)
			wantRejct = append(wantRejct, fmt.Sprintf("%d:id", line))
		case i%11 == 2:
			in.WriteString("\n") // blank: not a row, but a line
		default:
			fmt.Fprintf(&in, "{\"s\":\"line\\n%d\",\"id\":%d}\r\n", i, i)
			wantRows = append(wantRows, fmt.Sprintf("%d|%q", i, fmt.Sprintf("line\n%d", i)))
		}
		line++
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	tests := []struct {
		name    string
		batch   int
		workers int
		oneByte bool
	}{
		{"one worker", 1000, 1, false},
		{"tiny batches, four workers", 3, 4, false},
		{"one byte reads", 17, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			var rd interface{ Read([]byte) (int, error) } = strings.NewReader(in.String())
			if tt.oneByte {
				rd = iotest.OneByteReader(rd)
			}
			_, rows, rej, err := readAll(t, mem, rd, format.ReadOptions{Schema: schema, BatchRows: tt.batch, Workers: tt.workers})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rows, wantRows) {
				t.Errorf("%d rows, want %d; first difference at %d", len(rows), len(wantRows), firstDiff(rows, wantRows))
			}
			if got := rejectsOf(rej); !reflect.DeepEqual(got, wantRejct) {
				t.Errorf("rejects differ at %d:\n got %q\nwant %q", firstDiff(got, wantRejct), got[:min(5, len(got))], wantRejct[:5])
			}
		})
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestReadErrorIsFatal: an I/O error reaches Next after the rows before it.
func TestReadErrorIsFatal(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := iotest.TimeoutReader(iotest.OneByteReader(strings.NewReader(strings.Repeat("{\"a\":1}\n", 10))))
	_, _, _, err := readAll(t, mem, r, format.ReadOptions{})
	if err == nil || !strings.Contains(err.Error(), iotest.ErrTimeout.Error()) || !strings.Contains(err.Error(), "in.jsonl") {
		t.Fatalf("err = %v, want the timeout with the file name", err)
	}
}

// TestCloseEarly closes a reader with batches in flight: no goroutine or
// buffer may outlive Close.
func TestCloseEarly(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	before := runtime.NumGoroutine()
	var in bytes.Buffer
	for i := range 10000 {
		fmt.Fprintf(&in, "{\"a\":%d}\n", i)
	}
	r, err := NewReader(format.Input{R: &in, Name: "in.jsonl"}, format.ReadOptions{Mem: mem, BatchRows: 10, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	rec, _, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	rec.Release()
	r.Close()
	if _, _, err := r.Next(); err == nil {
		t.Error("Next after Close returned no error")
	}
	for deadline := time.Now().Add(2 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Close, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
