package s3

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/s3test"
	"github.com/dataweaver/dataweaver/internal/crashtest"
)

// TestKillAndRerun SIGKILLs a real `weave run` of file_to_s3.yaml part way
// (between or inside checkpoints: one batch of 20 rows per checkpoint) and
// runs it again: the prefix then holds every input row exactly once, in
// whole objects, with no unfinished upload left. The kill point is drawn
// at random (seed logged; DW_CRASH_SEED replays it). Part of make
// test-crash: building weave and the two runs add ~9 s under -race.
func TestS3KillAndRerun(t *testing.T) {
	crashtest.Suite(t)
	srv := s3test.Shared(t)
	client := srv.Client()
	bucket := s3test.Bucket(t)
	const rows = 600
	var csv strings.Builder
	csv.WriteString("id,amount\n")
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&csv, "%d,%d.25\n", i, i)
	}
	in := filepath.Join(t.TempDir(), "orders.csv")
	if err := os.WriteFile(in, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	p := crashtest.Pipeline{
		File:  filepath.Join("..", "..", "testdata", "pipelines", "file_to_s3.yaml"),
		State: t.TempDir(),
		Env: map[string]string{
			"IN": in, "S3_BUCKET": bucket, "S3_ENDPOINT": srv.Endpoint,
			"AWS_ACCESS_KEY_ID": s3test.AccessKey, "AWS_SECRET_ACCESS_KEY": s3test.SecretKey, "AWS_REGION": s3test.Region,
		},
		Set:    []string{"batch.rows=20", "checkpoint_every=1ns"},
		Rows:   rows,
		Stored: partRows(client, bucket, "exports/orders/"),
	}
	c := p.KillAndRerun(t)
	if !strings.Contains(c.Rerun.Output, "started at ") || strings.Contains(c.Rerun.Output, "started at the start") {
		t.Errorf("the rerun did not start at the position the killed run saved:\n%s", c.Rerun.Output)
	}
	if left := uploads(t, client, bucket); len(left) > 0 {
		t.Errorf("unfinished uploads after the rerun: %v", left)
	}
	mem := conformance.Checked(t)
	seen := map[int64]int{}
	for _, k := range keys(t, client, bucket, "exports/orders/") {
		recs := decode(t, k, get(t, client, bucket, k), "parquet", "none", mem, nil)
		for _, r := range recs {
			ids := r.Column(0).(*array.Int64)
			for i := 0; i < ids.Len(); i++ {
				seen[ids.Value(i)]++
			}
		}
		conformance.Release(recs)
	}
	for id := int64(1); id <= rows; id++ {
		if seen[id] != 1 {
			t.Errorf("id %d stored %d times, want once", id, seen[id])
		}
	}
	if len(seen) != rows {
		t.Errorf("%d distinct ids stored, want %d", len(seen), rows)
	}
}

// partRows counts the rows in the completed part objects under prefix,
// from each object's Parquet footer (an object, once visible, never
// changes, so each is read once).
func partRows(client *s3.Client, bucket, prefix string) func(testing.TB) int {
	var mu sync.Mutex
	counted := map[string]int{}
	return func(t testing.TB) int {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		total := 0
		for _, k := range keys(t, client, bucket, prefix) {
			n, ok := counted[k]
			if !ok {
				r, err := file.NewParquetReader(bytes.NewReader(get(t, client, bucket, k)), file.WithReadProps(nil))
				if err != nil {
					t.Fatalf("%s is not a whole Parquet file: %v", k, err)
				}
				n = int(r.NumRows())
				r.Close()
				counted[k] = n
			}
			total += n
		}
		return total
	}
}
