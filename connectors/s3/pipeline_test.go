package s3

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	_ "github.com/dataweaver/dataweaver/connectors/file"
	"github.com/dataweaver/dataweaver/connectors/internal/blob"
	"github.com/dataweaver/dataweaver/connectors/internal/s3test"
	"github.com/dataweaver/dataweaver/format"
)

// TestPipelinesThroughS3 runs the README's two pipelines as weave run
// parses them, with positions: file_to_s3.yaml (testdata/orders.csv →
// Parquet parts in a bucket, twice: the second run resumes and adds
// nothing) and s3_to_file.yaml (the parts → local Parquet parts). The
// rows that arrive are the CSV's good rows, equal in every value.
// Credentials come from the environment through the AWS chain, with the
// shared config files pointed away so the machine's own cannot interfere.
func TestPipelinesThroughS3(t *testing.T) {
	srv := s3test.Shared(t) // before counting: the shared server's goroutine stays
	before := runtime.NumGoroutine()
	t.Cleanup(func() { conformance.NoGoroutineLeak(t, before) })
	mem := conformance.Checked(t)
	bucket := s3test.Bucket(t)
	in, err := filepath.Abs(filepath.Join("..", "..", "testdata", "orders.csv"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	nowhere := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"IN": in, "OUT": out, "S3_BUCKET": bucket, "S3_ENDPOINT": srv.Endpoint,
		"AWS_ACCESS_KEY_ID": s3test.AccessKey, "AWS_SECRET_ACCESS_KEY": s3test.SecretKey, "AWS_REGION": s3test.Region,
		"AWS_CONFIG_FILE": nowhere, "AWS_SHARED_CREDENTIALS_FILE": nowhere, "AWS_PROFILE": "",
	} {
		t.Setenv(k, v)
	}
	state := t.TempDir()
	for run := 1; run <= 2; run++ {
		m := conformance.RunPipelineIn(t, mem, pipelineText(t, "file_to_s3.yaml"), state)
		if run == 2 && (!m.Resumed || m.Steps[0].RowsOut.Load() != 0) {
			t.Errorf("second run of file_to_s3: resumed %v, %d rows read; want a resumed run reading nothing", m.Resumed, m.Steps[0].RowsOut.Load())
		}
	}
	if left := uploads(t, srv.Client(), bucket); len(left) > 0 {
		t.Errorf("unfinished uploads: %v", left)
	}
	conformance.RunPipelineIn(t, mem, pipelineText(t, "s3_to_file.yaml"), state)

	want := readCSVGoodRows(t, in, mem)
	defer want.Release()
	var got []arrow.RecordBatch
	parts, _ := filepath.Glob(filepath.Join(out, "part-*.parquet"))
	for _, p := range parts {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, decode(t, p, data, "parquet", blob.CompNone, mem, nil)...)
	}
	defer conformance.Release(got)
	conformance.EqualRows(t, want, got)
}

func pipelineText(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "pipelines", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readCSVGoodRows decodes the CSV with the csv format's own reader, its
// rejects dropped, into one record.
func readCSVGoodRows(t *testing.T, path string, mem memory.Allocator) arrow.RecordBatch {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fm, _ := format.Lookup("csv")
	rd, err := fm.NewReader(format.Input{R: bytes.NewReader(data), Name: path}, format.ReadOptions{Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var recs []arrow.RecordBatch
	defer func() { conformance.Release(recs) }()
	for {
		rec, _, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	cols := make([]arrow.Array, rd.Schema().NumFields())
	rows := int64(0)
	for _, r := range recs {
		rows += r.NumRows()
	}
	for i := range cols {
		parts := make([]arrow.Array, len(recs))
		for j, r := range recs {
			parts[j] = r.Column(i)
		}
		if cols[i], err = array.Concatenate(parts, mem); err != nil {
			t.Fatal(err)
		}
		defer cols[i].Release()
	}
	return array.NewRecordBatch(rd.Schema(), cols, rows)
}
