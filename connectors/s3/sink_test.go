package s3

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/s3test"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
)

func newPartSink(t *testing.T, srv *s3test.Server, bucket, extra string, b engine.Build) *PartSink {
	t.Helper()
	return conformance.MustBuild[*PartSink](t, engine.KindSink, "s3", "{"+srv.Config(bucket)+", path: out/, format: parquet"+extra+"}", b)
}

func writeRows(t *testing.T, s engine.Sink, rec arrow.RecordBatch) {
	t.Helper()
	if err := s.Write(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestPartsVisibleAtCommit follows the two-phase checkpoint by hand: after
// Prepare a part is an unfinished upload, invisible to a listing; Commit
// completes it (and again, harmlessly, as after a crash between saving a
// position and publishing it); a sink that dies without preparing leaves
// an upload the next Open aborts, numbering on after the committed parts.
func TestPartsVisibleAtCommit(t *testing.T) {
	srv := s3test.Shared(t)
	client := srv.Client()
	bucket := s3test.Bucket(t)
	mem := conformance.Checked(t)
	ctx := context.Background()
	want := conformance.Sample(mem, conformance.SampleSchema, 0, 30)
	defer want.Release()
	first, second, third := want.NewSlice(0, 10), want.NewSlice(10, 20), want.NewSlice(20, 30)
	defer conformance.Release([]arrow.RecordBatch{first, second, third})

	run1 := newPartSink(t, srv, bucket, "", conformance.Build(mem, 8, "out"))
	if err := run1.Open(ctx, want.Schema()); err != nil {
		t.Fatal(err)
	}
	writeRows(t, run1, first)
	prepared, err := run1.Prepare(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(t, client, bucket, "out/"); len(got) != 0 {
		t.Fatalf("objects visible after Prepare, before Commit: %v", got)
	}
	if got := uploads(t, client, bucket); !slices.Equal(got, []string{"out/part-000001.parquet"}) {
		t.Fatalf("uploads after Prepare: %v, want out/part-000001.parquet", got)
	}
	for range 2 {
		if err := run1.Commit(ctx, prepared); err != nil {
			t.Fatalf("Commit: %v", err)
		}
	}
	if got := keys(t, client, bucket, "out/"); !slices.Equal(got, []string{"out/part-000001.parquet"}) {
		t.Fatalf("objects after Commit: %v", got)
	}
	// Rows after the checkpoint, then the process dies: nothing of them
	// may appear, and the next run must clean up their upload.
	writeRows(t, run1, second)
	if got := uploads(t, client, bucket); len(got) != 1 {
		t.Fatalf("uploads while writing part 2: %v", got)
	}

	run2 := newPartSink(t, srv, bucket, "", conformance.Build(mem, 8, "out"))
	if err := run2.Open(ctx, want.Schema()); err != nil {
		t.Fatal(err)
	}
	if got := uploads(t, client, bucket); len(got) != 0 {
		t.Fatalf("Open left an earlier run's unprepared upload: %v", got)
	}
	writeRows(t, run2, third)
	if err := run2.Close(); err != nil { // no checkpoint: published at Close
		t.Fatal(err)
	}
	if got := keys(t, client, bucket, "out/"); !slices.Equal(got, []string{"out/part-000001.parquet", "out/part-000002.parquet"}) {
		t.Fatalf("objects after the second run: %v, want parts 1 and 2", got)
	}
	for i, rec := range []arrow.RecordBatch{first, third} {
		key := []string{"out/part-000001.parquet", "out/part-000002.parquet"}[i]
		got := decode(t, key, get(t, client, bucket, key), "parquet", "none", mem, conformance.SampleSchema)
		conformance.EqualRows(t, rec, got)
		conformance.Release(got)
	}
	run1.up.abort() // the first run's process is gone; release its buffers
	run1.cur.Discard()
}

// TestPartsAbortedOnFailure: a failed run (Abort, then Close) leaves no
// object and no upload, prepared ones excepted, which stay for Commit.
func TestPartsAbortedOnFailure(t *testing.T) {
	srv := s3test.Shared(t)
	client := srv.Client()
	bucket := s3test.Bucket(t)
	mem := conformance.Checked(t)
	ctx := context.Background()
	rows := conformance.Sample(mem, conformance.SampleSchema, 0, 20)
	defer rows.Release()

	sink := newPartSink(t, srv, bucket, ", part_rows: 5", conformance.Build(mem, 8, "out"))
	if err := sink.Open(ctx, rows.Schema()); err != nil {
		t.Fatal(err)
	}
	writeRows(t, sink, rows) // one part of 20 rows, ended (part_rows), not prepared
	writeRows(t, sink, rows) // and a second
	if got := uploads(t, client, bucket); len(got) != 2 {
		t.Fatalf("uploads before the failure: %v", got)
	}
	sink.Abort()
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if got := uploads(t, client, bucket); len(got) != 0 {
		t.Errorf("uploads left by a failed run: %v", got)
	}
	if got := keys(t, client, bucket, ""); len(got) != 0 {
		t.Errorf("objects left by a failed run: %v", got)
	}
}

// TestSinkConfigErrors: mistakes are refused when the sink is built, with
// the field named, and a secret never appears in the message.
func TestSinkConfigErrors(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{`{bucket: b, path: out, format: csv}`, "must end in /"},
		{`{bucket: b, path: "out/*/", format: csv}`, "glob"},
		{`{bucket: b, path: out/}`, "format"},
		{`{bucket: "b/x", path: out/, format: csv}`, "holds a /"},
		{`{bucket: b, path: out/, format: csv, access_key_id: AKIA}`, "together"},
		{`{bucket: b, path: out/, format: csv, secret_access_key: hunter2-secret}`, "together"},
		{`{bucket: b, path: out/, format: parquet, compression: lz9}`, "compression"},
		{`{bucket: b, path: out/, format: csv, endpoint: "ftp://x"}`, "endpoint"},
		{`{bucket: b, path: out/, format: csv, part_size: 1MiB}`, "5MiB"},
	} {
		_, err := conformance.BuildStep(t, engine.KindSink, "s3", tc.conf, conformance.Build(conformance.Checked(t), 8, "out"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %q", tc.conf, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error shows the secret: %v", tc.conf, err)
		}
	}
}

// TestCommitOfLostUpload: a prepared upload that vanished (aborted by a
// lifecycle rule or by hand) with no object under its key fails Commit
// with what to do, rather than count rows as written that are not there.
func TestCommitOfLostUpload(t *testing.T) {
	srv := s3test.Shared(t)
	client := srv.Client()
	bucket := s3test.Bucket(t)
	mem := conformance.Checked(t)
	ctx := context.Background()
	rows := conformance.Sample(mem, conformance.SampleSchema, 0, 5)
	defer rows.Release()
	sink := newPartSink(t, srv, bucket, "", conformance.Build(mem, 8, "out"))
	if err := sink.Open(ctx, rows.Schema()); err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	writeRows(t, sink, rows)
	prepared, err := sink.Prepare(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pp preparedParts
	if err := json.Unmarshal(prepared, &pp); err != nil || len(pp.Objects) != 1 {
		t.Fatalf("prepared %s: %v", prepared, err)
	}
	o := pp.Objects[0]
	if _, err := client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: &o.Key, UploadId: &o.UploadID}); err != nil {
		t.Fatal(err)
	}
	err = sink.Commit(ctx, prepared)
	if err == nil || !strings.Contains(err.Error(), "is gone and the object does not exist") {
		t.Fatalf("Commit of an upload aborted behind the sink's back: %v", err)
	}
}

// TestSecretsMarked: the secret key and session token are secret fields,
// handed to the program for redaction whether the source or the sink
// holds them; the access key ID is not a secret.
func TestSecretsMarked(t *testing.T) {
	text := `source:
  s3: {bucket: b, path: in/, format: csv, access_key_id: AKIAEXAMPLEID, secret_access_key: "source-secret-key", session_token: "source-session-token"}
sinks:
  - s3: {bucket: b, path: out/, format: csv, access_key_id: AKIAEXAMPLEID, secret_access_key: "sink-secret-key"}
`
	f, err := config.Parse([]byte(text), "t.yaml", config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := f.Secrets()
	slices.Sort(got)
	if want := []string{"sink-secret-key", "source-secret-key", "source-session-token"}; !slices.Equal(got, want) {
		t.Errorf("secrets %v, want %v", got, want)
	}
}

// TestMultipartSplit writes a part larger than part_size: its bytes go up
// as several parts of exactly part_size (the last one smaller), and the
// completed object is byte for byte what the format writes.
func TestMultipartSplit(t *testing.T) {
	srv := s3test.Shared(t)
	client := srv.Client()
	bucket := s3test.Bucket(t)
	mem := conformance.Checked(t)
	ctx := context.Background()
	schema := arrow.NewSchema([]arrow.Field{{Name: "line", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewStringBuilder(mem)
	line := strings.Repeat("x", 1000)
	for i := 0; i < 12_000; i++ { // ~12 MB of CSV: parts of 5, 5 and ~2 MiB
		b.Append(fmt.Sprintf("%06d%s", i, line))
	}
	col := b.NewArray()
	b.Release()
	rec := array.NewRecordBatch(schema, []arrow.Array{col}, int64(col.Len()))
	col.Release()
	defer rec.Release()

	sink := conformance.MustBuild[*PartSink](t, engine.KindSink, "s3", "{"+srv.Config(bucket)+", path: out/, format: csv, part_size: 5MiB}", conformance.Build(mem, 8, "out"))
	if err := sink.Open(ctx, schema); err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	for off := int64(0); off < rec.NumRows(); off += 3000 {
		part := rec.NewSlice(off, off+3000)
		writeRows(t, sink, part)
		part.Release()
	}
	prepared, err := sink.Prepare(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var pp preparedParts
	if err := json.Unmarshal(prepared, &pp); err != nil || len(pp.Objects) != 1 {
		t.Fatalf("prepared %s: %v", prepared, err)
	}
	if n := len(pp.Objects[0].Parts); n != 3 {
		t.Errorf("the upload has %d parts, want 3 (12 MB in parts of 5 MiB)", n)
	}
	if err := sink.Commit(ctx, prepared); err != nil {
		t.Fatal(err)
	}
	got := get(t, client, bucket, "out/part-000001.csv")
	if want := encode(t, "csv", "none", mem, schema, rec); !bytes.Equal(got, want) {
		t.Errorf("the object holds %d bytes, not the %d the csv writer writes for the rows", len(got), len(want))
	}
}
