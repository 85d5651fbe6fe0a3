package s3

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/blob"
	"github.com/dataweaver/dataweaver/connectors/internal/s3test"
	"github.com/dataweaver/dataweaver/format"
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

// encode writes recs with a format's own writer, independently of the
// sink under test, optionally wrapped by a compressor.
func encode(t testing.TB, formatName, compression string, mem memory.Allocator, schema *arrow.Schema, recs ...arrow.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	comp, err := blob.Compress(compression, &buf)
	if err != nil {
		t.Fatal(err)
	}
	fm, err := format.Lookup(formatName)
	if err != nil {
		t.Fatal(err)
	}
	w, err := fm.NewWriter(comp, schema, format.WriteOptions{Mem: mem, Name: "encode"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := comp.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decode reads data with a format's own reader (schema given for text
// formats, so values compare exactly).
func decode(t testing.TB, name string, data []byte, formatName, compression string, mem memory.Allocator, schema *arrow.Schema) []arrow.Record {
	t.Helper()
	r, closeZ, err := blob.Decompress(compression, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer closeZ()
	fm, err := format.Lookup(formatName)
	if err != nil {
		t.Fatal(err)
	}
	in := format.Input{R: r, Name: name}
	if compression == blob.CompNone {
		in.RA, in.Size = bytes.NewReader(data), int64(len(data))
	}
	opts := format.ReadOptions{Mem: mem}
	if fm.Text {
		opts.Schema = schema
	}
	rd, err := fm.NewReader(in, opts)
	if err != nil {
		t.Fatalf("read back %s: %v", name, err)
	}
	defer rd.Close()
	var out []arrow.Record
	for {
		rec, rejects, err := rd.Next()
		if len(rejects) > 0 {
			t.Errorf("read back %s: rejects %v", name, rejects)
		}
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			conformance.Release(out)
			t.Fatalf("read back %s: %v", name, err)
		}
		out = append(out, rec)
	}
}

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
func readParts(t testing.TB, client *s3.Client, bucket, prefix, formatName, compression string, mem memory.Allocator, schema *arrow.Schema) []arrow.Record {
	t.Helper()
	var out []arrow.Record
	for _, k := range keys(t, client, bucket, prefix) {
		if !strings.Contains(k, "part-") {
			continue
		}
		out = append(out, decode(t, k, get(t, client, bucket, k), formatName, compression, mem, schema)...)
	}
	return out
}
