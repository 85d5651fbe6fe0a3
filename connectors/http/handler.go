package http

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// EndOfInputHeader, set to "true" on a request to a source with
// allow_end_of_input, ends the input after that request.
const EndOfInputHeader = "Weave-End-Of-Input"

// Body formats, named as in default_format and the sink's codec.
const (
	formatJSON   = "json"
	formatNDJSON = "ndjson"
	formatArrow  = "arrow"
	formatAvro   = "avro" // sink only
)

// contentTypes maps the media types the source accepts to formats.
var contentTypes = map[string]string{
	"application/json":                    formatJSON,
	"text/json":                           formatJSON,
	"application/x-ndjson":                formatNDJSON,
	"application/ndjson":                  formatNDJSON,
	"application/jsonl":                   formatNDJSON,
	"application/x-jsonlines":             formatNDJSON,
	"application/jsonlines":               formatNDJSON,
	"application/vnd.apache.arrow.stream": formatArrow,
	"application/vnd.apache.arrow.file":   formatArrow,
	"application/x-apache-arrow-stream":   formatArrow,
}

const acceptedTypes = "application/json, application/x-ndjson or application/vnd.apache.arrow.stream"

// ServeHTTP takes one POST through auth, admission, decoding and the
// queue, and answers once the pipeline has stored its rows (or cannot).
// The cheap refusals (path, token, method, type, a declared length over
// the limit) come before the body is read and before the request waits for
// a place, so a client sending Expect: 100-continue does not upload in vain.
func (sv *server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	cfg := &sv.cfg
	w := &statusWriter{ResponseWriter: rw}
	var body *countingReader
	defer func() {
		if body != nil {
			cfg.stats.bytes.Add(body.n)
		}
		cfg.stats.record(w.status, w.busy)
	}()
	if r.URL.Path != cfg.path {
		reply(w, http.StatusNotFound, errBody{Error: "no such path; rows are POSTed to " + cfg.path}, 0)
		return
	}
	if cfg.token != "" && !bearerOK(r.Header.Get("Authorization"), cfg.tokenHash) {
		challenge := `Bearer realm="dataweaver"`
		if r.Header.Get("Authorization") != "" {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
		reply(w, http.StatusUnauthorized, errBody{Error: "missing or wrong bearer token (Authorization: Bearer <token>)"}, 0)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, errBody{Error: "only POST is accepted"}, 0)
		return
	}
	gzipped, why := contentEncoding(r.Header)
	if why != "" {
		reply(w, http.StatusUnsupportedMediaType, errBody{Error: why}, 0)
		return
	}
	format, why := sv.formatOf(r.Header)
	if why != "" {
		reply(w, http.StatusUnsupportedMediaType, errBody{Error: why}, 0)
		return
	}
	if r.ContentLength > cfg.maxBody {
		be := classify(&http.MaxBytesError{Limit: cfg.maxBody})
		reply(w, be.status, errBody{Error: be.msg}, 0)
		return
	}
	end := false
	if v := r.Header.Get(EndOfInputHeader); v != "" {
		b, err := strconv.ParseBool(v)
		switch {
		case err != nil:
			reply(w, http.StatusBadRequest, errBody{Error: EndOfInputHeader + " must be true or false"}, 0)
			return
		case b && !cfg.allowEnd:
			reply(w, http.StatusBadRequest, errBody{Error: EndOfInputHeader + " is not allowed by this source (allow_end_of_input: false)"}, 0)
			return
		}
		end = b
	}

	deadline := time.Now().Add(cfg.maxWait)
	if why := sv.admit(r.Context(), deadline); why != "" {
		if why != errGone {
			w.busy = why == whyBusy
			sv.replyUnavailable(w, why)
		}
		return
	}
	req := newRequest(sv.requestID(r), format)
	req.end = end
	req.traceParent = r.Header.Get("traceparent")
	// The server's own writer: MaxBytesReader tells it to close the
	// connection once the limit is passed, which a wrapper cannot forward.
	body = &countingReader{r: http.MaxBytesReader(rw, r.Body, cfg.maxBody)}
	err := readBody(cfg, req, body, gzipped)
	if err != nil {
		sv.leave()
		be := classify(err)
		reply(w, be.status, errBody{Error: be.msg}, 0)
		return
	}
	req.bytes = body.n
	req.ok = okBody{Rows: req.rows, Rejected: len(req.rejects), Errors: reasons(format, req.rejects), Ended: end}
	if cfg.rejectBad && len(req.rejects) > 0 {
		sv.leave()
		req.release()
		e := &req.rejects[0]
		msg := fmt.Sprintf("%s: %v", where(format, e), e.Err)
		if n := len(req.rejects); n > 1 {
			msg += fmt.Sprintf(" (and %d more rows)", n-1)
		}
		reply(w, http.StatusBadRequest, errBody{Error: msg + "; nothing of this request was taken", Rejected: len(req.rejects), Errors: req.ok.Errors}, 0)
		return
	}
	if res, now := sv.enqueue(req); now {
		sv.write(w, res)
		return
	}

	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	timeout := t.C
	for {
		select {
		case res := <-req.done:
			sv.write(w, res)
			return
		case <-timeout:
			timeout = nil
			if sv.withdraw(req) {
				w.busy = true
				sv.replyUnavailable(w, "the pipeline did not take the request within max_wait")
				return
			}
			// Read took it meanwhile: wait for the answer.
		case <-r.Context().Done():
			// Taken or not, there is nobody left to answer; rows already
			// taken still reach the sinks (the client will resend them).
			sv.withdraw(req)
			return
		}
	}
}

// contentEncoding reports whether the body is gzipped, or says why the
// encoding is refused (415).
func contentEncoding(h http.Header) (bool, string) {
	switch enc := strings.TrimSpace(h.Get("Content-Encoding")); {
	case enc == "" || strings.EqualFold(enc, "identity"):
		return false, ""
	case strings.EqualFold(enc, "gzip") || strings.EqualFold(enc, "x-gzip"):
		return true, ""
	default:
		return false, fmt.Sprintf("Content-Encoding %q is not supported; send the body uncompressed or as gzip", enc)
	}
}

// formatOf picks the body's format from Content-Type, or says why not.
func (sv *server) formatOf(h http.Header) (string, string) {
	ct := h.Get("Content-Type")
	if ct == "" {
		return sv.cfg.defFormat, ""
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", fmt.Sprintf("unreadable Content-Type %q: %v", ct, err)
	}
	if f, ok := contentTypes[mt]; ok {
		if cs, ok := params["charset"]; ok && f != formatArrow && !strings.EqualFold(cs, "utf-8") {
			return "", fmt.Sprintf("charset %q is not supported; send UTF-8", cs)
		}
		return f, ""
	}
	hint := ""
	if mt == "application/x-www-form-urlencoded" {
		hint = " (curl's default for --data; add -H 'Content-Type: application/x-ndjson' or the type of your body)"
	}
	return "", fmt.Sprintf("Content-Type %s is not accepted%s; send %s", mt, hint, acceptedTypes)
}

// requestID names a request in row errors (the dead-letter file column)
// and logs: the client's X-Request-Id or Idempotency-Key when it sends one,
// so rejects can be matched to what it sent.
func (sv *server) requestID(r *http.Request) string {
	for _, h := range []string{"X-Request-Id", "Idempotency-Key"} {
		if v := r.Header.Get(h); v != "" {
			if len(v) > 128 {
				v = v[:128]
			}
			return strings.ToValidUTF8(v, "\uFFFD")
		}
	}
	sv.mu.Lock()
	sv.requestNo++
	n := sv.requestNo
	sv.mu.Unlock()
	return "request-" + strconv.FormatInt(n, 10)
}

func (sv *server) write(w http.ResponseWriter, res result) {
	if res.abort {
		// Drop the connection without a reply, as a crashed process would.
		panic(http.ErrAbortHandler)
	}
	retry := time.Duration(0)
	if res.status == http.StatusServiceUnavailable {
		retry = sv.cfg.retryAfter
	}
	reply(w, res.status, res.body, retry)
}

func (sv *server) replyUnavailable(w http.ResponseWriter, why string) {
	sv.write(w, unavailable(why))
}

// reply writes a JSON reply, with Retry-After when retry > 0.
func reply(w http.ResponseWriter, status int, body any, retry time.Duration) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if retry > 0 {
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// countingReader counts the body bytes read, for the batch's Bytes, and
// keeps the first read error: format readers do not always wrap it, and
// it decides the reply (413 for a body over the limit, 408 for a slow one).
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}
