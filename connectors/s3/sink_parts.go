package s3

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dataweaver/dataweaver/connectors/internal/blob"
	"github.com/dataweaver/dataweaver/engine"
)

// PartSink writes part objects under a prefix, each a multipart upload
// completed at a checkpoint (engine.Committer), or at Close when the
// engine runs without positions: the file sink's directory mode, with an
// upload's completion for the rename. It never replaces an object, so the
// engine may resume a pipeline writing here.
//
// Write, Flush, Prepare, Abort and Close run on the sink's goroutine;
// Commit may run on another one at the same time, and touches nothing but
// the uploads it is given.
type PartSink struct {
	sinkConfig

	runCtx   context.Context
	schema   *arrow.Schema
	buf      []byte // the part buffer, shared by the uploads one after another
	next     int    // number of the next part
	cur      *blob.Stream
	up       *upload // the upload cur writes to
	closed   []*upload
	prepared bool
	split    string // set by WritePart: the split's part names
	redo     bool   // set by WritePartAgain: abort earlier attempts' uploads
	state    atomic.Int32
}

// WritePart makes the sink write the rows of one split of a coordinated
// run (split.Sink): objects part-<split>-000001.<ext>, …, completed when
// the run ends well and not at checkpoints, so a split done again by
// another worker (its first worker died) completes its uploads over the
// same keys, replacing the objects. The dead worker's unfinished uploads
// are aborted by the attempt that completes the split (WritePartAgain).
func (s *PartSink) WritePart(id string) error {
	s.split = blob.SplitPartBase(id)
	return nil
}

// WritePartAgain is WritePart for a split handed out before
// (split.Redoer): once its uploads are completed, the ones an earlier
// attempt left unfinished (its worker was killed) are aborted, so no
// multipart upload of the split is left to be billed. Only then: a first
// attempt has nothing to abort, and listing the uploads once per split
// would cost a job of many splits dearly. Another worker's splits are
// not touched.
func (s *PartSink) WritePartAgain(id string) error {
	s.redo = true
	return s.WritePart(id)
}

// abortStrayUploads aborts the split's unfinished uploads: an earlier
// attempt's. One still running completes into NoSuchUpload, finds the
// object there (complete) and carries on.
func (s *PartSink) abortStrayUploads(ctx context.Context, client *s3.Client) error {
	stray := regexp.MustCompile(`^` + regexp.QuoteMeta(s.prefix+"part-"+s.split+"-") + `[0-9]{6,}` + regexp.QuoteMeta(s.ext) + `$`)
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(s.conn.bucket), Prefix: aws.String(s.prefix + "part-" + s.split + "-")}
	for {
		out, err := client.ListMultipartUploads(ctx, in)
		if err != nil {
			return fmt.Errorf("listing the unfinished uploads of split part %s: %w", s.conn.url(s.prefix+"part-"+s.split), err)
		}
		for _, u := range out.Uploads {
			key := aws.ToString(u.Key)
			if !stray.MatchString(key) {
				continue
			}
			old := &upload{ctx: ctx, client: client, bucket: s.conn.bucket, key: key, id: aws.ToString(u.UploadId)}
			if err := old.abort(); err != nil {
				return fmt.Errorf("aborting an upload an earlier attempt at the split left: %w", err)
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

const (
	sinkNew int32 = iota
	sinkOpen
	sinkClosed
)

// preparedObject is one finished upload, as Prepare hands it to the
// engine's position store and Commit reads it back.
type preparedObject struct {
	Key      string      `json:"key"`
	UploadID string      `json:"upload_id"`
	Parts    []completed `json:"parts"`
}

type preparedParts struct {
	Objects []preparedObject `json:"objects"`
}

// partNumber finds the number in a part object's name, whatever its
// extension.
var partNumber = regexp.MustCompile(`^part-([0-9]+)\.`)

// Open aborts the uploads an earlier run left unfinished under the prefix
// without preparing them (their rows were never covered by a saved
// position, so the source reads them again; prepared ones were completed
// by the engine's Commit before Open), and numbers this run's parts after
// the highest one there.
func (s *PartSink) Open(ctx context.Context, schema *arrow.Schema) error {
	if !s.state.CompareAndSwap(sinkNew, sinkOpen) {
		return errors.New("s3 sink: Open called twice")
	}
	s.runCtx, s.schema = ctx, schema
	if err := s.scan(ctx); err != nil {
		s.state.Store(sinkClosed)
		return fmt.Errorf("s3 sink: %w", err)
	}
	return nil
}

func (s *PartSink) scan(ctx context.Context) error {
	if s.split != "" {
		s.next = 1 // other workers upload under the prefix meanwhile
		return nil
	}
	client, err := s.conn.get(ctx)
	if err != nil {
		return err
	}
	bucket := aws.String(s.conn.bucket)
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String(s.prefix), Delimiter: aws.String("/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing %s: %w", s.conn.url(s.prefix), err)
		}
		for _, o := range page.Contents {
			if n, ok := s.number(aws.ToString(o.Key)); ok {
				s.next = max(s.next, n)
			}
		}
	}
	in := &s3.ListMultipartUploadsInput{Bucket: bucket, Prefix: aws.String(s.prefix), Delimiter: aws.String("/")}
	for {
		out, err := client.ListMultipartUploads(ctx, in)
		if err != nil {
			return fmt.Errorf("listing the unfinished uploads under %s: %w", s.conn.url(s.prefix), err)
		}
		for _, u := range out.Uploads {
			key := aws.ToString(u.Key)
			if _, ok := s.number(key); !ok {
				continue
			}
			old := &upload{ctx: ctx, client: client, bucket: s.conn.bucket, key: key, id: aws.ToString(u.UploadId)}
			if err := old.abort(); err != nil {
				return fmt.Errorf("aborting an unprepared upload: %w", err)
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
	s.next++
	return nil
}

// number returns the part number of key when it is a part of this sink
// (its prefix, its extension).
func (s *PartSink) number(key string) (int, bool) {
	name, ok := strings.CutPrefix(key, s.prefix)
	if !ok || !strings.HasSuffix(name, s.ext) {
		return 0, false
	}
	m := partNumber.FindStringSubmatch(name)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// Write starts a part when none is open (so no part is ever empty), and
// ends it once it holds part_rows rows. Errors are permanent: the SDK has
// retried the request, and a stream cut halfway cannot be written on.
func (s *PartSink) Write(ctx context.Context, rec arrow.RecordBatch) error {
	if s.state.Load() != sinkOpen {
		return engine.Permanent(errors.New("s3 sink: Write outside Open and Close"))
	}
	if rec.NumRows() == 0 {
		return nil
	}
	if s.cur == nil {
		if err := s.startPart(ctx); err != nil {
			return engine.Permanent(fmt.Errorf("s3 sink: %w", err))
		}
	}
	s.up.ctx = ctx
	if err := s.cur.Write(rec); err != nil {
		return engine.Permanent(fmt.Errorf("s3 sink: %w", err))
	}
	if s.partRows > 0 && s.cur.Rows() >= s.partRows {
		if err := s.endPart(ctx); err != nil {
			return engine.Permanent(fmt.Errorf("s3 sink: %w", err))
		}
	}
	return nil
}

func (s *PartSink) startPart(ctx context.Context) error {
	client, err := s.conn.get(ctx)
	if err != nil {
		return err
	}
	if s.buf == nil {
		s.buf = make([]byte, 0, s.partSize)
	}
	key := s.prefix + blob.PartName(s.next, s.ext)
	if s.split != "" {
		key = s.prefix + blob.SplitPartName(s.split, s.next, s.ext)
	}
	up, err := startUpload(ctx, client, s.conn.bucket, key, s.buf)
	if err != nil {
		return err
	}
	wopts := s.wopts
	wopts.Name = s.conn.url(key)
	st, err := blob.NewStream(wopts.Name, up, nil, s.format, s.outer, s.schema, wopts, false)
	if err != nil {
		return errors.Join(err, up.abort())
	}
	s.next++
	s.cur, s.up = st, up
	return nil
}

// endPart finishes the current part (a Parquet footer, a gzip trailer)
// and uploads its last bytes. The upload stays open: the object is not
// visible yet.
func (s *PartSink) endPart(ctx context.Context) error {
	st, up := s.cur, s.up
	s.cur, s.up = nil, nil
	up.ctx = ctx
	err := st.Finish()
	if err == nil && st.Failed() != nil {
		err = st.Failed()
	}
	if err == nil {
		err = up.finish()
	}
	if err != nil {
		return errors.Join(fmt.Errorf("finish part %s: %w", s.conn.url(up.key), err), up.abort())
	}
	up.buf = nil // the next upload takes the buffer
	s.closed = append(s.closed, up)
	return nil
}

// Flush pushes the current part's rows through the format and the
// compressor into the part buffer, uploading the parts that fill. They
// become visible, and the batches acknowledged, at the next checkpoint.
func (s *PartSink) Flush(ctx context.Context) error {
	if s.state.Load() != sinkOpen || s.cur == nil {
		return nil
	}
	s.up.ctx = ctx
	if err := s.cur.Flush(); err != nil {
		return engine.Permanent(fmt.Errorf("s3 sink: %w", err))
	}
	return nil
}

// Prepare ends the current part and returns the uploads finished since the
// last checkpoint, for Commit to complete once the position is saved. Nil
// when no row arrived.
func (s *PartSink) Prepare(ctx context.Context) ([]byte, error) {
	if s.state.Load() != sinkOpen {
		return nil, errors.New("s3 sink: Prepare outside Open and Close")
	}
	if s.split != "" {
		return nil, nil // a split's parts are completed whole at Close
	}
	s.prepared = true
	ready, err := s.ready(ctx)
	if err != nil || len(ready) == 0 {
		return nil, err
	}
	return json.Marshal(preparedParts{Objects: ready})
}

// ready ends the current part and returns every finished upload; they
// are no longer the sink's to abort.
func (s *PartSink) ready(ctx context.Context) ([]preparedObject, error) {
	if s.cur != nil {
		if err := s.endPart(ctx); err != nil {
			return nil, fmt.Errorf("s3 sink: %w", err)
		}
	}
	out := make([]preparedObject, len(s.closed))
	for i, up := range s.closed {
		out[i] = preparedObject{Key: up.key, UploadID: up.id, Parts: up.parts}
	}
	s.closed = nil
	return out, nil
}

// Commit completes prepared uploads. An upload completed before is done,
// so Commit may be repeated, and it needs nothing Open does: the engine
// calls it before Open to finish a run that died after saving its
// position.
func (s *PartSink) Commit(ctx context.Context, prepared []byte) error {
	if len(prepared) == 0 {
		return nil
	}
	var pp preparedParts
	if err := json.Unmarshal(prepared, &pp); err != nil {
		return fmt.Errorf("s3 sink %s: prepared parts %q: %w", s.conn.url(s.prefix), prepared, err)
	}
	client, err := s.conn.get(ctx)
	if err != nil {
		return fmt.Errorf("s3 sink: %w", err)
	}
	for _, p := range pp.Objects {
		if _, ok := s.number(p.Key); !ok {
			return fmt.Errorf("s3 sink: prepared object %s is not a part under %s", p.Key, s.conn.url(s.prefix))
		}
		if err := complete(ctx, client, s.conn.bucket, p); err != nil {
			return fmt.Errorf("s3 sink: %w", err)
		}
	}
	return nil
}

// Abort aborts the uploads never prepared; prepared ones stay for the
// engine to complete (now, or at the next start from the saved position).
func (s *PartSink) Abort() {
	if s.state.CompareAndSwap(sinkOpen, sinkClosed) {
		s.discard()
		s.conn.closeIdle()
	}
}

func (s *PartSink) discard() error {
	var errs []error
	if s.cur != nil {
		s.cur.Discard()
		errs = append(errs, s.up.abort())
		s.cur, s.up = nil, nil
	}
	for _, up := range s.closed {
		errs = append(errs, up.abort())
	}
	s.closed = nil
	return errors.Join(errs...)
}

// Close completes what is left when the engine never checkpointed (no
// positions): the run's parts appear when it ends well, as a directory's
// do. When it did checkpoint, rows after the last checkpoint are covered
// by no saved position and will be read again, so their uploads are
// aborted rather than completed twice. A failed or cancelled run aborts
// them too.
func (s *PartSink) Close() error {
	if !s.state.CompareAndSwap(sinkOpen, sinkClosed) {
		return nil
	}
	defer s.conn.closeIdle()
	if s.prepared || s.runCtx.Err() != nil || (s.cur != nil && s.cur.Failed() != nil) {
		if err := s.discard(); err != nil {
			return fmt.Errorf("s3 sink: %w", err)
		}
		return nil
	}
	ctx := context.WithoutCancel(s.runCtx)
	ready, err := s.ready(ctx)
	if err != nil {
		return errors.Join(err, s.discard())
	}
	client, err := s.conn.get(ctx)
	if err != nil {
		return fmt.Errorf("s3 sink: %w", err)
	}
	for _, p := range ready {
		if err := complete(ctx, client, s.conn.bucket, p); err != nil {
			return fmt.Errorf("s3 sink: %w", err)
		}
	}
	if s.redo {
		if err := s.abortStrayUploads(ctx, client); err != nil {
			return fmt.Errorf("s3 sink: %w", err)
		}
	}
	return nil
}

// PartSink does not implement engine.CommitsOnClose, although without
// checkpoints its parts appear only at Close: as for the file sink's
// directory mode, the engine checkpoints every run with a Committer sink
// and acknowledges batches after Commit.
