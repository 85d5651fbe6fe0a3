package file

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/format"
)

// TestMaxRecordBytesStdin: a line on stdin that never ends (the README's
// "10 GiB with no newline on stdin", here 64 MiB under a 1 MiB limit) is one
// reject at its line naming stdin and the limit, and the row before it
// arrives. The source is opened and closed first, as weave validates a
// pipeline before running it: what that opening took from stdin is kept to
// be replayed, so this is the path where stdin could be held. The process
// allocates a fraction of the line.
func TestMaxRecordBytesStdin(t *testing.T) {
	const (
		line  = 64 << 20
		limit = 1 << 20
	)
	mem := conformance.Checked(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = r
	t.Cleanup(func() { os.Stdin = old; r.Close() })
	go func() {
		defer w.Close()
		if _, err := io.WriteString(w, "{\"id\":1}\n{\"id\":2,\"pad\":\""); err != nil {
			return
		}
		_, _ = io.Copy(w, io.LimitReader(spaces{}, line))
	}()

	src := mustSource(t, "{path: \"-\", format: jsonl, max_record_bytes: 1048576}", conformance.Build(mem, 10, "source"))
	if _, err := src.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	recs, rejects := readRejects(t, src)
	runtime.ReadMemStats(&after)
	defer conformance.Release(recs)
	if got := ids(t, recs, 0); !equalInts(got, []int64{1}) {
		t.Errorf("rows %v, want [1]", got)
	}
	if len(rejects) != 1 {
		t.Fatalf("%d rejects, want 1: %v", len(rejects), rejects)
	}
	rej := rejects[0]
	if rej.File != "-" || rej.Line != 2 || !errors.Is(rej.Err, format.ErrRecordTooLarge) ||
		!strings.Contains(rej.Err.Error(), "longer than the limit of 1048576 bytes (max_record_bytes)") {
		t.Errorf("reject %s:%d %v; want -:2, longer than the limit of 1048576 bytes (max_record_bytes)", rej.File, rej.Line, rej.Err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("a %d MiB line on stdin over a %d MiB limit: %d MiB allocated", line>>20, limit>>20, alloc>>20)
	// Growing the line buffer to the limit allocates a few limits; holding
	// the line (in the reader or the replay buffer) would take the line.
	if alloc > line/4 {
		t.Errorf("allocated %d MiB reading a %d MiB line with a %d MiB limit", alloc>>20, line>>20, limit>>20)
	}
}

// spaces reads as an endless run of spaces: inside a JSON string, the
// text of a line that never ends.
type spaces struct{}

func (spaces) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = ' '
	}
	return len(b), nil
}
