package http

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
)

// readBody decodes a request's body as it comes off the wire (already
// capped at max_body_bytes by http.MaxBytesReader), inflating it first
// when it is gzipped. The inflated stream is capped at max_body_bytes too
// and read as it is decoded, never whole: a small gzip body that inflates
// to gigabytes (a gzip bomb) gets 413 once the limit is passed, having
// cost about the limit in memory.
//
// Readers along the way keep their first error (countingReader): a
// decoder may take a failed read for the end of its input, and the error
// decides the reply (413, 408, 400 for a corrupt gzip stream). The wire's
// error comes first: it is why the gzip stream broke.
func readBody(cfg *serverConfig, req *request, wire *countingReader, gzipped bool) error {
	var in *countingReader
	err := func() error {
		if !gzipped {
			return decodeBody(cfg, req, wire)
		}
		zr, err := gzip.NewReader(wire)
		if err != nil {
			return badRequest("Content-Encoding gzip: the body is not gzip: %v", err)
		}
		defer zr.Close()
		in = &countingReader{r: &inflateLimit{r: zr, left: cfg.maxBody, limit: cfg.maxBody}}
		return decodeBody(cfg, req, in)
	}()
	var first error
	switch {
	case wire.err != nil:
		first = classify(wire.err)
	case in != nil && in.err != nil:
		first = inflateError(in.err)
	default:
		return err
	}
	req.release()
	req.recs, req.rejects, req.rows = nil, nil, 0
	return first
}

// inflateError is the reply to a failure while inflating.
func inflateError(err error) error {
	if be := classify(err); be.status != http.StatusBadRequest {
		return be
	}
	return badRequest("Content-Encoding gzip: corrupt body: %v", err)
}

// inflateLimit passes at most limit inflated bytes and fails, as
// http.MaxBytesReader does, when there are more.
type inflateLimit struct {
	r           io.Reader
	left, limit int64
}

func (l *inflateLimit) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, l.tooBig()
	}
	// Read one byte past what is left, to tell "exactly the limit" from
	// "more than the limit".
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	if int64(n) <= l.left {
		l.left -= int64(n)
		return n, err
	}
	n = int(l.left)
	l.left = -1
	return n, l.tooBig()
}

func (l *inflateLimit) tooBig() error {
	return &bodyError{status: http.StatusRequestEntityTooLarge,
		msg: fmt.Sprintf("body larger than max_body_bytes (%d bytes) once decompressed; send fewer rows per request", l.limit)}
}
