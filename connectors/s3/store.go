package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dataweaver/dataweaver/connectors/internal/blob"
)

// store lists and opens the objects a source reads (blob.Store): the keys
// of one bucket that match the configured path.
type store struct {
	conn *connection
	path string // exact key, prefix ending in /, or glob
	// failed is the first request of a read that failed. A format reader
	// may report a failed ReadAt as bytes missing ("only 0 rows could be
	// read") without its cause; Source.Read adds this to what it returns.
	failed atomic.Pointer[error]
}

// failure returns the first failed request's error, nil if none.
func (st *store) failure() error {
	if p := st.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// listPrefix is what ListObjectsV2 is asked for: the path up to its first
// pattern character (S3 prefixes need not end at a /), or the whole path.
func listPrefix(path string) string {
	if i := strings.IndexAny(path, `*?[`); i >= 0 {
		return path[:i]
	}
	return path
}

// matches reports whether key is one of the path's objects.
func (st *store) matches(key string) bool {
	switch {
	case strings.HasSuffix(key, "/"):
		return false // a "folder" marker, not data
	case blob.HasMeta(st.path):
		return blob.MatchSegments(strings.Split(st.path, "/"), strings.Split(key, "/"))
	case strings.HasSuffix(st.path, "/"):
		return strings.HasPrefix(key, st.path)
	}
	return key == st.path
}

// List pages through the keys under the path's prefix (ListObjectsV2
// returns them in UTF-8 binary order, the order the source reads them in).
func (st *store) List(ctx context.Context) ([]blob.Object, error) {
	client, err := st.conn.get(ctx)
	if err != nil {
		return nil, err
	}
	var objs []blob.Object
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{
		Bucket: aws.String(st.conn.bucket), Prefix: aws.String(listPrefix(st.path)),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", st.conn.url(listPrefix(st.path)), err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if !st.matches(key) {
				continue
			}
			obj := blob.Object{Name: st.conn.url(key), Size: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag)}
			if o.LastModified != nil {
				obj.MtimeNs = o.LastModified.UnixNano()
			}
			objs = append(objs, obj)
		}
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("no objects match %s", st.conn.url(st.path))
	}
	// The listing is sorted by bytes already; blob compares names with
	// <, which is the same order, as every name has the same s3://bucket/.
	return objs, nil
}

// Open returns a stream that starts its GET at the first Read and a
// ReaderAt that makes a ranged GET per call: a Parquet reader reads the
// footer and the row groups it needs, and never the whole object. Every
// request carries If-Match with the listed ETag, so an object replaced
// while it is read fails the run instead of mixing two versions.
func (st *store) Open(ctx context.Context, obj blob.Object) (blob.Opened, error) {
	client, err := st.conn.get(ctx)
	if err != nil {
		return blob.Opened{}, err
	}
	key := strings.TrimPrefix(obj.Name, "s3://"+st.conn.bucket+"/")
	// Reads are not bound to ctx (it bounds the open only), but Close
	// cancels the ones in flight.
	rctx, cancel := context.WithCancel(context.Background())
	o := &objectReader{ctx: rctx, client: client, bucket: st.conn.bucket, key: key, name: obj.Name, etag: obj.ETag, size: obj.Size, st: st}
	o.body.o = o
	// A byte-range split reads its range with one GET, and the line
	// crossing its end with another.
	section := func(off, n int64) (io.ReadCloser, error) { return o.get(fmt.Sprintf("bytes=%d-%d", off, off+n-1)) }
	return blob.Opened{R: &o.body, RA: o, Section: section, Close: func() error {
		cancel()
		return o.body.close()
	}}, nil
}

// objectReader reads one object.
type objectReader struct {
	ctx       context.Context
	client    *s3.Client
	bucket    string
	key, name string
	etag      string
	size      int64
	body      lazyBody
	st        *store
}

func (o *objectReader) get(rng string) (io.ReadCloser, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(o.key)}
	if o.etag != "" {
		in.IfMatch = aws.String(o.etag)
	}
	if rng != "" {
		in.Range = aws.String(rng)
	}
	out, err := o.client.GetObject(o.ctx, in)
	if err != nil {
		err = fmt.Errorf("%s: %w", o.name, err)
		if o.ctx.Err() == nil {
			o.st.failed.CompareAndSwap(nil, &err)
		}
		return nil, err
	}
	return out.Body, nil
}

// ReadAt reads len(p) bytes at off with one ranged GET.
func (o *objectReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%s: read at negative offset %d", o.name, off)
	}
	if off >= o.size || len(p) == 0 {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := min(int64(len(p)), o.size-off)
	body, err := o.get(fmt.Sprintf("bytes=%d-%d", off, off+want-1))
	if err != nil {
		return 0, err
	}
	defer body.Close()
	n, err := io.ReadFull(body, p[:want])
	if err != nil {
		return n, fmt.Errorf("%s: reading bytes %d-%d: %w", o.name, off, off+want-1, err)
	}
	if want < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

// lazyBody is the object read from its start, its GET sent at the first
// Read: formats with random access may never read it.
type lazyBody struct {
	mu   sync.Mutex
	o    *objectReader
	body io.ReadCloser
	err  error
}

func (b *lazyBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	if b.body == nil && b.err == nil {
		b.body, b.err = b.o.get("")
	}
	body, err := b.body, b.err
	b.mu.Unlock()
	if err != nil {
		return 0, err
	}
	n, err := body.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("%s: %w", b.o.name, err)
	}
	return n, err
}

func (b *lazyBody) close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.err = errors.New("closed")
	if b.body == nil {
		return nil
	}
	err := b.body.Close()
	b.body = nil
	return err
}
