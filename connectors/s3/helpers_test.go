package s3

import (
	"bytes"
	"context"
	"io"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dataweaver/dataweaver/connectors/internal/blob/blobtest"
	"github.com/dataweaver/dataweaver/connectors/internal/s3test"
	_ "github.com/dataweaver/dataweaver/format/arrowipc"
	_ "github.com/dataweaver/dataweaver/format/avro"
	_ "github.com/dataweaver/dataweaver/format/csv"
	_ "github.com/dataweaver/dataweaver/format/jsonl"
	_ "github.com/dataweaver/dataweaver/format/parquet"
	"github.com/dataweaver/dataweaver/internal/crashtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	s3test.Stop()
	crashtest.Cleanup()
	os.Exit(code)
}

// encode and decode are the formats' own writers and readers (blobtest).
var (
	encode = blobtest.Encode
	decode = blobtest.Decode
)

func put(t testing.TB, client *s3.Client, bucket, key string, data []byte) {
	t.Helper()
	_, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func get(t testing.TB, client *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return data
}

// keys lists the objects under prefix, sorted.
func keys(t testing.TB, client *s3.Client, bucket, prefix string) []string {
	t.Helper()
	var out []string
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			out = append(out, aws.ToString(o.Key))
		}
	}
	sort.Strings(out)
	return out
}

// uploads lists the unfinished multipart uploads in bucket.
func uploads(t testing.TB, client *s3.Client, bucket string) []string {
	t.Helper()
	out, err := client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, u := range out.Uploads {
		left = append(left, aws.ToString(u.Key))
	}
	return left
}

// readParts reads back every part object under prefix, in key order.
func readParts(t testing.TB, client *s3.Client, bucket, prefix, formatName, compression string, mem memory.Allocator, schema *arrow.Schema) []arrow.RecordBatch {
	t.Helper()
	var out []arrow.RecordBatch
	for _, k := range keys(t, client, bucket, prefix) {
		if !strings.Contains(k, "part-") {
			continue
		}
		out = append(out, decode(t, k, get(t, client, bucket, k), formatName, compression, mem, schema)...)
	}
	return out
}
