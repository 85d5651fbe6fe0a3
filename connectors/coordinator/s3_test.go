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
	"github.com/dataweaver/dataweaver/connectors/coordinator/split"
	"github.com/dataweaver/dataweaver/connectors/internal/blob"
	"github.com/dataweaver/dataweaver/connectors/internal/s3test"
	_ "github.com/dataweaver/dataweaver/connectors/s3"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
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

// TestS3StrayUploadsAborted: a worker killed mid-split leaves its part's
// multipart upload unfinished (planted here, as kill -9 leaves it). The
// split is handed out again (its first attempt failed and gave it back),
// and the attempt that completes it aborts the stray upload: nothing
// unfinished stays under the prefix to be billed.
func TestS3StrayUploadsAborted(t *testing.T) {
	srv := s3test.Shared(t)
	bucket := s3test.Bucket(t)
	client := srv.Client()
	ctx := context.Background()
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("in/0.csv"),
		Body: strings.NewReader("id,name\n0,n\n1,n\n")}); err != nil {
		t.Fatal(err)
	}
	f, opts := parse(t, fmt.Sprintf(`
name: s3stray
source:
  s3: {%[1]s, path: "in/*.csv"}
sinks:
  - s3: {%[1]s, path: "out/", format: csv}
coordinator:
  urls: ["${NATS}"]
`, srv.Config(bucket)), map[string]string{"NATS": startNATS(t)})
	p, err := config.Build(f, opts)
	if err != nil {
		t.Fatal(err)
	}
	splits, err := p.Source.Source.(split.Source).Splits(ctx)
	_ = p.Close()
	if err != nil || len(splits) != 1 {
		t.Fatalf("splits %v, %v: want one", splits, err)
	}
	key := "out/" + blob.SplitPartName(blob.SplitPartBase(splits[0].ID), 1, ".csv")
	up, err := client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("id,name\n0,n\n")}); err != nil {
		t.Fatal(err)
	}
	failed := errors.New("first attempt fails")
	fail := func(context.Context, *engine.Pipeline) (*engine.Metrics, error) { return nil, failed }
	if _, err := coordinator.RunFile(ctx, f, opts, fail, nil); !errors.Is(err, failed) {
		t.Fatalf("first attempt: %v, want %v", err, failed)
	}
	res, err := coordinator.RunFile(ctx, f, opts, nil, nil)
	if err != nil || res.Splits != 1 {
		t.Fatalf("second attempt: %+v, %v: want the split read", res, err)
	}
	ups, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), Prefix: aws.String("out/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Errorf("%d unfinished uploads under out/ after the job, want 0 (the stray one aborted)", len(ups.Uploads))
	}
	objs, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("out/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs.Contents) != 1 || aws.ToString(objs.Contents[0].Key) != key {
		t.Errorf("objects under out/: %d, want the split's one part %s", len(objs.Contents), key)
	}
}
