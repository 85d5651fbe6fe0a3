package coordinator_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dataweaver/dataweaver/connectors/coordinator"
	"github.com/dataweaver/dataweaver/connectors/internal/s3test"
	"github.com/dataweaver/dataweaver/engine/config"
	_ "github.com/dataweaver/dataweaver/format/jsonl"
)

// runWorkersOn runs k workers of f at once and returns what they did in
// all.
func runWorkersOn(t *testing.T, f *config.File, opts config.Options, k int) coordinator.Result {
	t.Helper()
	results := make([]coordinator.Result, k)
	errs := make([]error, k)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = coordinator.RunFile(context.Background(), f, opts, nil, nil)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	var all coordinator.Result
	for _, r := range results {
		all.Planned += r.Planned
		all.Splits += r.Splits
		all.Rows += r.Rows
	}
	return all
}

// rangesOf is how many splits a file of size bytes makes at split_size
// 1KiB: one per started KiB, or one when it is not larger.
func rangesOf(size int) int {
	if size <= 1024 {
		return 1
	}
	return (size + 1023) / 1024
}

// textFiles writes the edge cases of byte ranges as lines of one format
// (line(id, pad) renders a record) and returns the ids written and the
// splits expected at 1KiB: lines exactly on the range boundaries, a line
// longer than a range, CRLF line ends with no newline at the end, an
// empty file and a file smaller than a range.
func textFiles(t *testing.T, dir, ext, header string, line func(id int, pad string) string) (ids, splits int) {
	t.Helper()
	write := func(name string, b *strings.Builder) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o666); err != nil {
			t.Fatal(err)
		}
		splits += rangesOf(b.Len())
	}
	// 64-byte lines (the first after a header shorter): every 1024-byte
	// boundary falls on a line's start.
	var b strings.Builder
	b.WriteString(header)
	for b.Len() < 6<<10 {
		width := 64 - b.Len()%64
		pad := strings.Repeat("z", width-len(line(ids, ""))-1)
		b.WriteString(line(ids, pad) + "\n")
		ids++
	}
	write("a-aligned."+ext, &b)
	b.Reset()
	b.WriteString(strings.ReplaceAll(header, "\n", "\r\n"))
	for i := 0; i < 120; i++ {
		pad := strings.Repeat("x", i%37)
		if i == 40 {
			pad = strings.Repeat("y", 3000) // spans three ranges
		}
		b.WriteString(line(ids, pad))
		ids++
		if i < 119 {
			b.WriteString("\r\n")
		}
	}
	write("b-crlf-long."+ext, &b)
	b.Reset()
	write("c-empty."+ext, &b)
	b.Reset()
	b.WriteString(header)
	for range 5 {
		b.WriteString(line(ids, "small") + "\n")
		ids++
	}
	write("d-small."+ext, &b)
	return ids, splits
}

// TestByteRangeSplits: three workers share JSON Lines files cut into
// 1 KiB byte ranges, and CSV files with a header declared free of quoted
// line breaks: every line is read exactly once, whatever falls on a
// boundary. CSV files not so declared are one split each.
func TestByteRangeSplits(t *testing.T) {
	url := startNATS(t)
	before := clientGoroutines()
	t.Cleanup(func() { noClientLeak(t, before) })
	tests := []struct {
		name, ext, header, source string
		line                      func(id int, pad string) string
		whole                     bool // one split per file
	}{
		{name: "jsonl", ext: "jsonl", source: `file: {path: "${IN}/*.jsonl", split_size: 1KiB, schema: {id: int64, pad: utf8}}`,
			line: func(id int, pad string) string { return fmt.Sprintf(`{"id":%d,"pad":"%s"}`, id, pad) }},
		{name: "csv with a header", ext: "csv", header: "id,pad\n",
			source: `file: {path: "${IN}/*.csv", split_size: 1KiB, csv: {quoted_newlines: false}}`,
			line:   func(id int, pad string) string { return fmt.Sprintf(`%d,"%s"`, id, pad) }},
		{name: "csv without a header", ext: "csv",
			source: `file: {path: "${IN}/*.csv", split_size: 1KiB, csv: {quoted_newlines: false, header: false}, schema: {id: int64, pad: utf8}}`,
			line:   func(id int, pad string) string { return fmt.Sprintf(`%d,%s`, id, pad) }},
		{name: "csv with quoted newlines possible", ext: "csv", header: "id,pad\n", whole: true,
			source: `file: {path: "${IN}/*.csv", split_size: 1KiB}`,
			line:   func(id int, pad string) string { return fmt.Sprintf(`%d,"%s"`, id, pad) }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, out := t.TempDir(), t.TempDir()
			n, want := textFiles(t, in, tt.ext, tt.header, tt.line)
			if tt.whole {
				want = 4
			}
			f, opts := parse(t, fmt.Sprintf(`
name: ranges%d
source:
  %s
sinks:
  - file: {path: "${OUT}/", format: csv}
coordinator:
  urls: ["${NATS}"]
`, i, tt.source), map[string]string{"IN": in, "OUT": out, "NATS": url})
			got := runWorkersOn(t, f, opts, 3)
			if got.Planned != want || got.Splits != want {
				t.Errorf("planned %d and read %d splits, want %d and %d", got.Planned, got.Splits, want, want)
			}
			if got.Rows != int64(n) {
				t.Errorf("the splits' sources read %d rows, want %d", got.Rows, n)
			}
			ids, _ := readIDs(t, out)
			checkExactlyOnce(t, ids, n)
		})
	}
}

// TestS3ByteRanges: two workers share one JSON Lines object cut into
// 16 KiB ranges, each read with ranged GETs of its range and the line
// crossing its end: the store serves the object about once, not the
// object's tail from each range's start.
func TestS3ByteRanges(t *testing.T) {
	srv := s3test.Shared(t)
	bucket := s3test.Bucket(t)
	proxy := srv.Proxy(t)
	ctx := context.Background()
	var b strings.Builder
	n := 0
	for b.Len() < 256<<10 {
		fmt.Fprintf(&b, `{"id":%d,"pad":"%s"}`+"\n", n, strings.Repeat("p", n%50))
		n++
	}
	size := b.Len()
	if _, err := srv.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("in/big.jsonl"),
		Body: strings.NewReader(b.String())}); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	f, opts := parse(t, fmt.Sprintf(`
name: s3ranges
source:
  s3: {%s, path: "in/*.jsonl", split_size: 16KiB, schema: {id: int64, pad: utf8}}
sinks:
  - file: {path: "${OUT}/", format: csv}
coordinator:
  urls: ["${NATS}"]
`, s3test.ConfigAt(proxy.Endpoint, bucket)), map[string]string{"OUT": out, "NATS": startNATS(t)})
	proxy.Reset()
	got := runWorkersOn(t, f, opts, 2)
	if want := (size + 16<<10 - 1) / (16 << 10); got.Splits != want {
		t.Errorf("read %d splits, want %d", got.Splits, want)
	}
	ids, _ := readIDs(t, out)
	checkExactlyOnce(t, ids, n)
	served := proxy.Served()
	t.Logf("object %d bytes, served %d bytes in all (listing and planning included)", size, served)
	// Each range reads at most 8 KiB past its end (the first section for
	// the line crossing it): here 17 ranges of 16 KiB, so about 1.5 times
	// the object with headers; ranges read to the object's end would make
	// about 9 times.
	if served > int64(size)*2 {
		t.Errorf("the store served %d bytes for an object of %d: ranges read past their end", served, size)
	}
}
