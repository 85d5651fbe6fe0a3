package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/internal/crashtest"
)

// TestProgressRecordsFromTheBinary is the report: with stderr not
// a terminal (a file here), a run at --log-level debug printed nothing
// until the final table. The real binary now logs progress records while
// it runs, before the table, with counts that grow and stay within what
// the summary reports.
func TestProgressRecordsFromTheBinary(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "job.yaml")
	job := fmt.Sprintf("batch: {rows: 1000}\nsource: %s\nsinks: [discard]\n", pacedSource)
	if err := os.WriteFile(file, []byte(job), 0o644); err != nil {
		t.Fatal(err)
	}
	p := crashtest.Pipeline{File: file, State: filepath.Join(dir, "state"), Flags: []string{"--progress-every", "100ms"}}
	// The paced source takes two seconds: about 20 records at 100 ms.
	out := p.Run(t).Output
	record := regexp.MustCompile(`(?m)^time=\S+ level=INFO msg=progress pipeline=job rows=(\d+) rows_per_s=\d+ bytes=0 elapsed=\d+s$`)
	recs := record.FindAllStringSubmatch(out, -1)
	if len(recs) < 2 {
		t.Fatalf("%d progress records, want at least 2:\n%s", len(recs), out)
	}
	last := int64(-1)
	for _, r := range recs {
		n, _ := strconv.ParseInt(r[1], 10, 64)
		if n < last {
			t.Errorf("progress went back from %d to %d rows", last, n)
		}
		last = n
	}
	table := strings.Index(out, " step ")
	if table < 0 || strings.LastIndex(out, "msg=progress") > table {
		t.Errorf("no summary table, or progress records after it:\n%s", out)
	}
	m := regexp.MustCompile(`(?m)^ *source\.generate +source +([\d,]+) `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no source line in the summary:\n%s", out)
	}
	total, _ := strconv.ParseInt(strings.ReplaceAll(m[1], ",", ""), 10, 64)
	if last > total || total > interruptRows {
		t.Errorf("last progress record %d rows, summary %d, input %d", last, total, interruptRows)
	}
}
