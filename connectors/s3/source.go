package s3

import (
	"context"
	"errors"
	"fmt"
	pathpkg "path"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/connectors/coordinator/split"
	"github.com/dataweaver/dataweaver/connectors/internal/blob"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

var sourceSpec = spec.New("s3").
	Summary("Reads objects from S3 or an S3-compatible store in CSV, JSON Lines, Parquet, Arrow IPC or Avro, optionally gzip/zstd-compressed.").
	Description("path is one key, a prefix ending in / (every object under it), or a glob over keys (* ? [..] "+
		"within a /-separated segment, ** across segments). Matching objects are read in key order as one "+
		"table, as the file source reads a glob: the first object's schema (or the declared schema) applies "+
		"to all.\n\n"+
		"Parquet and Arrow files are read with ranged GETs: the footer first, then only the row groups or "+
		"record batches needed, so a resumed run does not download what it skips. Text formats and "+
		"compressed objects are streamed with one GET each. Every request carries the ETag the listing "+
		"saw (If-Match), so an object replaced while it is read stops the run rather than mixing versions.\n\n"+
		"A run continues where the last one's saved position stopped (the key, its size, ETag and "+
		"modification time, and the row): keys sorting before it are skipped, the object is read on "+
		"from the row after the position, and every key sorting after it is read, including new ones, so "+
		"a prefix that grows is ingested incrementally. An object the position points into that changed "+
		"or disappeared stops the run with an error; run with --from-start or reset the position with "+
		"weave positions.\n\n"+
		"Credentials come from access_key_id/secret_access_key when given, else from the standard AWS "+
		"chain: environment variables, the shared config and credentials files (profile), web identity "+
		"(EKS), SSO, container and instance roles.").
	Field(
		bucketField(),
		spec.String("path").
			Desc("Key to read, a prefix ending in / (every object under it), or a glob over keys.").
			Example("exports/orders.parquet").Example("exports/2024/").Example("logs/2024-*/*.jsonl.gz").Example("lake/**/part-*.parquet"),
	).
	Field(connectionFields()...).
	Field(blob.ReadFields("csv, jsonl, parquet, arrow or avro. Default: from the path's extension (ignoring .gz/.zst); "+
		"required for a prefix.")...).
	WithExample("Parquet parts from AWS S3 (credentials from the AWS chain)", `source:
  s3:
    bucket: analytics
    region: eu-west-1
    path: exports/orders/part-*.parquet`).
	WithExample("Gzipped JSON Lines from a MinIO or other S3-compatible store", `source:
  s3:
    bucket: logs
    endpoint: http://127.0.0.1:9000
    force_path_style: true
    path: app/2024-05-*.jsonl.gz`)

func init() {
	engine.RegisterSource(sourceSpec, newSource)
	engine.RegisterSink(sinkSpec, newSink)
}

// Source reads objects: the file source's reading core (positions, resume,
// decoding, compression) over a bucket.
type Source struct {
	engine.NoAck
	r     *blob.Source
	conn  *connection
	store *store
}

// Open lists the objects and opens the first, whose schema is the
// source's. It may follow a Close (Pipeline.Validate then Run).
func (s *Source) Open(ctx context.Context) (*arrow.Schema, error) { return s.r.Open(ctx) }

// Read returns the next batch, moving on to the next object at the end of
// one. A failure names the request that failed when one did: a format
// reader may word a failed read as missing bytes.
func (s *Source) Read(ctx context.Context) (*engine.Batch, error) {
	b, err := s.r.Read(ctx)
	if err != nil && !errors.Is(err, engine.ErrEndOfInput) {
		if f := s.store.failure(); f != nil && !errors.Is(err, f) {
			err = fmt.Errorf("%w (the store refused a read: %w)", err, f)
		}
	}
	return b, err
}

// Resume makes the next Open continue after pos, a position saved by an
// earlier run (engine.Resumer); Open checks it against the objects.
func (s *Source) Resume(pos []byte) error { return s.r.Resume(pos) }

// CapNextRead makes the next Read return at most n rows (engine.RowCapper).
func (s *Source) CapNextRead(n int64) { s.r.CapNextRead(n) }

// Splits lists one split per object, or per row group of a Parquet
// object, for N workers sharing the input (split.Source).
func (s *Source) Splits(ctx context.Context) ([]split.Split, error) { return s.r.Splits(ctx) }

// ReadSplit makes the next Open read one split only (split.Source).
func (s *Source) ReadSplit(sp split.Split) error { return s.r.ReadSplit(sp) }

// Progress reports bytes read so far against the objects' total size.
func (s *Source) Progress() (done, total int64) { return s.r.Progress() }

func newSource(conf *spec.Parsed, b engine.Build) (engine.Source, error) {
	conn, err := parseConnection(conf)
	if err != nil {
		return nil, err
	}
	path := conf.String("path")
	switch {
	case path == "":
		return nil, blob.ConfigErr(conf, "path", "path is empty: give a key, a prefix ending in /, or a glob")
	case path[0] == '/':
		return nil, blob.ConfigErr(conf, "path", "path %q starts with /: keys are relative to the bucket", path)
	}
	if _, err := pathpkg.Match(path, ""); err != nil {
		return nil, blob.ConfigErr(conf, "path", "bad glob %q: %v", path, err)
	}
	c, err := blob.ParseRead(conf, b, path)
	if err != nil {
		return nil, err
	}
	c.Kind, c.Path = "s3 source", conn.url(path)
	st := &store{conn: conn, path: path}
	c.Store = st
	return &Source{r: blob.NewSource(c), conn: conn, store: st}, nil
}

// Close stops reading and drops the client's idle connections.
func (s *Source) Close() error {
	err := s.r.Close()
	s.conn.closeIdle()
	return err
}
