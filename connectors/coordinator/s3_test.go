package coordinator_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dataweaver/dataweaver/connectors/coordinator"
	"github.com/dataweaver/dataweaver/connectors/internal/s3test"
	_ "github.com/dataweaver/dataweaver/connectors/s3"
)

// TestS3Splits: two workers share the objects under a prefix (one split
// each) and write one part object per split; after the positions are
// reset a rerun redoes every split and its parts replace the first ones.
func TestS3Splits(t *testing.T) {
	srv := s3test.Shared(t)
	bucket := s3test.Bucket(t)
	client := srv.Client()
	ctx := context.Background()
	n := 0
	for f := range 4 {
		var b strings.Builder
		b.WriteString("id,name\n")
		for range 100 {
			fmt.Fprintf(&b, "%d,n\n", n)
			n++
		}
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("in/%d.csv", f)),
			Body: strings.NewReader(b.String())}); err != nil {
			t.Fatal(err)
		}
	}
	url := startNATS(t)
	f, opts := parse(t, fmt.Sprintf(`
name: s3splits
source:
  s3: {%[1]s, path: "in/*.csv"}
sinks:
  - s3: {%[1]s, path: "out/", format: csv}
coordinator:
  urls: ["${NATS}"]
`, srv.Config(bucket)), map[string]string{"NATS": url})
	runWorkers := func(k int) int {
		results := make([]coordinator.Result, k)
		errs := make([]error, k)
		var wg sync.WaitGroup
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = coordinator.RunFile(ctx, f, opts, nil, nil)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		splits := 0
		for _, r := range results {
			splits += r.Splits
		}
		return splits
	}
	check := func() {
		t.Helper()
		out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("out/")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Contents) != 4 {
			t.Errorf("%d part objects, want one per split (4)", len(out.Contents))
		}
		var ids []int
		for _, o := range out.Contents {
			obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(obj.Body)
			obj.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
				id, err := strconv.Atoi(strings.SplitN(l, ",", 2)[0])
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		checkExactlyOnce(t, ids, n)
	}
	if got := runWorkers(2); got != 4 {
		t.Errorf("read %d splits, want 4", got)
	}
	check()
	st, err := coordinator.OpenStore(ctx, coordinator.Config{URLs: []string{url}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	entries, err := st.List(ctx, "s3splits")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := st.Delete(ctx, e.Key); err != nil {
			t.Fatal(err)
		}
	}
	if got := runWorkers(1); got != 4 {
		t.Errorf("redo read %d splits, want 4", got)
	}
	check()
}
