package s3

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	memsink "github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/connectors/internal/blob"
	"github.com/dataweaver/dataweaver/connectors/internal/s3test"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/position"
)

// drainAfter closes the pipeline's Drain once the source has handed out n
// batches: a graceful stop in the middle of the input.
type drainAfter struct {
	*Source
	n     int
	drain chan struct{}
}

func (d *drainAfter) Read(ctx context.Context) (*engine.Batch, error) {
	if d.n == 0 {
		// The engine cancels reading when it sees Drain; wait for that
		// rather than race it, so the run stops exactly here.
		<-ctx.Done()
		return nil, ctx.Err()
	}
	b, err := d.Source.Read(ctx)
	if d.n--; d.n == 0 {
		close(d.drain)
	}
	return b, err
}

// TestResumeThroughPipeline runs s3 → memory through engine.Pipeline with a
// position store, stops the first run after a few batches, and runs again
// with a new source, sink and store object on the same state directory
// (as a restarted process builds them): together the runs deliver every
// row once, in order. An object added under the prefix is then read by
// the next run, alone; an object the position points into that was
// replaced stops the run.
func TestResumeThroughPipeline(t *testing.T) {
	srv := s3test.Shared(t)
	client := srv.Client()
	for _, tc := range []struct {
		name, format, ext, compression string
		stopAt                         []int
	}{
		{"jsonl.gz", "jsonl", ".jsonl.gz", blob.CompGzip, []int{1, 17}},
		{"parquet", "parquet", ".parquet", blob.CompNone, []int{3}},
	} {
		for _, stop := range tc.stopAt {
			t.Run(fmt.Sprintf("%s/stop after %d", tc.name, stop), func(t *testing.T) {
				mem := conformance.Checked(t)
				bucket := s3test.Bucket(t)
				var runIn func(state string, stopAfter int) (*memsink.Sink, *engine.Metrics, error)
				want := conformance.Sample(mem, conformance.SampleSchema, 0, 160)
				defer want.Release()
				for i, name := range []string{"a", "b", "c"} { // 40 rows each: 6 batches of 7
					part := want.NewSlice(int64(40*i), int64(40*i+40))
					put(t, client, bucket, "in/"+name+tc.ext, encode(t, tc.format, tc.compression, mem, want.Schema(), part))
					part.Release()
				}
				conf := "{" + srv.Config(bucket) + ", path: \"in/*" + tc.ext + "\", schema: " + conformance.SchemaYAML(want.Schema()) + "}"
				if tc.format == "parquet" {
					conf = "{" + srv.Config(bucket) + ", path: in/, format: parquet}"
				}
				state := t.TempDir()
				run := func(stopAfter int) (*memsink.Sink, *engine.Metrics, error) {
					return runIn(state, stopAfter)
				}
				runIn = func(state string, stopAfter int) (*memsink.Sink, *engine.Metrics, error) {
					t.Helper()
					src := conformance.MustBuild[*Source](t, engine.KindSource, "s3", conf, conformance.Build(mem, 7, "source"))
					var step engine.Source = src
					var drain chan struct{}
					if stopAfter > 0 {
						drain = make(chan struct{})
						step = &drainAfter{Source: src, n: stopAfter, drain: drain}
					}
					sink := memsink.NewSink()
					p := &engine.Pipeline{
						Name:      "resume",
						Source:    engine.SourceStep{Name: "in", Source: step},
						Sinks:     []engine.SinkStep{{Name: "out", Sink: sink}},
						Mem:       mem,
						Drain:     drain,
						Positions: position.OpenDir(state),
					}
					m, err := p.Run(context.Background())
					return sink, m, err
				}
				mustRun := func(stopAfter int) (*memsink.Sink, *engine.Metrics) {
					t.Helper()
					sink, m, err := run(stopAfter)
					if err != nil {
						sink.Release()
						t.Fatalf("run: %v", err)
					}
					return sink, m
				}
				first, m1 := mustRun(stop)
				defer first.Release()
				if !m1.Interrupted.Load() || first.Rows() == 0 || first.Rows() >= 120 {
					t.Fatalf("the first run was to stop part way: interrupted %v, %d rows", m1.Interrupted.Load(), first.Rows())
				}
				second, m2 := mustRun(0)
				defer second.Release()
				if !m2.Resumed {
					t.Error("the second run did not resume")
				}
				got := append(first.Records(), second.Records()...)
				head := want.NewSlice(0, 120)
				defer head.Release()
				conformance.EqualRows(t, head, got)
				if end := m2.EndPosition(); !strings.Contains(end, "s3://"+bucket+"/in/c"+tc.ext+" (file 3 of s3://") {
					t.Errorf("the second run ended at %q, want in/c%s", end, tc.ext)
				}

				// A new object sorting after the last one is read, alone.
				tail := want.NewSlice(120, 160)
				put(t, client, bucket, "in/d"+tc.ext, encode(t, tc.format, tc.compression, mem, want.Schema(), tail))
				third, _ := mustRun(0)
				defer third.Release()
				conformance.EqualRows(t, tail, third.Records())
				tail.Release()

				// Replaced while a position points into it: refused.
				if stop != tc.stopAt[0] {
					return
				}
				other := t.TempDir()
				fourth, _, err := runIn(other, 2) // stops inside in/a
				fourth.Release()
				if err != nil {
					t.Fatal(err)
				}
				part := want.NewSlice(0, 39)
				put(t, client, bucket, "in/a"+tc.ext, encode(t, tc.format, tc.compression, mem, want.Schema(), part))
				part.Release()
				fifth, _, err := runIn(other, 0)
				fifth.Release()
				if !errors.Is(err, blob.ErrResume) || !strings.Contains(err.Error(), "in/a"+tc.ext+" changed since the position was saved") {
					t.Errorf("a run resuming inside a replaced object: %v, want a refusal naming it", err)
				}
			})
		}
	}
}

// TestResumeRefusesReplacedObject: an object replaced by one of the same
// size (and, within the store's one-second timestamps, maybe the same
// modification time) is told apart by its ETag, and a position inside it
// is refused rather than read on at a row that may no longer be there.
func TestResumeRefusesReplacedObject(t *testing.T) {
	srv := s3test.Shared(t)
	client := srv.Client()
	bucket := s3test.Bucket(t)
	mem := conformance.Checked(t)
	put(t, client, bucket, "in.csv", []byte("id\n1\n2\n3\n"))
	conf := "{" + srv.Config(bucket) + ", path: in.csv}"
	ctx := context.Background()
	src := conformance.MustBuild[*Source](t, engine.KindSource, "s3", conf, conformance.Build(mem, 1, "in"))
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := src.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b.Record.Release()
	src.Close()
	pos, err := json.Marshal(b.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	put(t, client, bucket, "in.csv", []byte("id\n1\n2\n4\n"))
	again := conformance.MustBuild[*Source](t, engine.KindSource, "s3", conf, conformance.Build(mem, 1, "in"))
	defer again.Close()
	if err := again.Resume(pos); err != nil {
		t.Fatal(err)
	}
	_, err = again.Open(ctx)
	if !errors.Is(err, blob.ErrResume) || !strings.Contains(err.Error(), "ETag") {
		t.Fatalf("Open resuming inside a replaced object of the same size: %v, want a refusal naming the ETag", err)
	}
}

// TestCredentialsFromProfile: without keys in the configuration, the AWS
// chain finds them in the shared credentials file under the profile the
// configuration names (and not in the environment, emptied here).
func TestCredentialsFromProfile(t *testing.T) {
	srv := s3test.Shared(t)
	bucket := s3test.Bucket(t)
	mem := conformance.Checked(t)
	put(t, srv.Client(), bucket, "in.csv", []byte("id\n1\n2\n"))
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	text := fmt.Sprintf("[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong-secret\n\n[dwtest]\naws_access_key_id = %s\naws_secret_access_key = %s\n", s3test.AccessKey, s3test.SecretKey)
	if err := os.WriteFile(creds, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_SHARED_CREDENTIALS_FILE": creds, "AWS_CONFIG_FILE": filepath.Join(dir, "config"),
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
	} {
		t.Setenv(k, v)
	}
	conf := fmt.Sprintf("{bucket: %s, endpoint: %q, force_path_style: true, region: %s, profile: dwtest, path: in.csv}", bucket, srv.Endpoint, s3test.Region)
	src := conformance.MustBuild[engine.Source](t, engine.KindSource, "s3", conf, conformance.Build(mem, 8, "in"))
	recs := conformance.ReadAll(t, src, 8, true)
	defer conformance.Release(recs)
	if len(recs) != 1 || recs[0].NumRows() != 2 {
		t.Errorf("read %v, want the object's 2 rows", recs)
	}
}
