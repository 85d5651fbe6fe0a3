package http

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dataweaver/dataweaver/engine"
)

// StatusError is a reply outside 2xx: its status and the start of its body
// (what the receiver said was wrong).
type StatusError struct {
	Method, URL string
	Code        int
	Body        string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("http sink: %s %s: %d %s", e.Method, e.URL, e.Code, http.StatusText(e.Code))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// retryable tells failures worth another try (the receiver is busy, down
// or slow) from those that will fail the same way again.
func retryable(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// maxErrorBody bounds how much of an error reply goes into the message.
const maxErrorBody = 512

// post sends one body, after any Retry-After wait and the rate limit. A
// failure that retrying cannot fix is engine.Permanent; the engine
// retries the rest with its backoff.
func (s *Sink) post(ctx context.Context, body []byte, key string) error {
	if wait := s.notBefore.Sub(s.clock.Now()); wait > 0 {
		if err := s.clock.Sleep(ctx, wait); err != nil {
			return err
		}
	}
	if s.limit != nil {
		if err := s.limit.wait(ctx, s.clock); err != nil {
			return err
		}
	}
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, s.method, s.url, bytes.NewReader(body))
	if err != nil {
		return engine.Permanent(fmt.Errorf("http sink: %w", err))
	}
	h := req.Header
	h.Set("Content-Type", mediaTypes[s.codec])
	h.Set("User-Agent", "dataweaver")
	if s.token != "" {
		h.Set("Authorization", bearer(s.token))
	}
	if s.idemHeader != "" {
		h.Set(s.idemHeader, key)
	}
	for _, kv := range s.headers {
		h.Set(kv.Key, kv.Value)
	}
	if tp := engine.TraceParent(ctx); tp != "" {
		// The receiver continues the batch's trace (W3C trace context).
		h.Set("traceparent", tp)
	}
	s.requests++
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("http sink: %s %s: no reply within %s: %w", s.method, s.url, s.timeout, err)
		}
		var badCert *tls.CertificateVerificationError
		if errors.As(err, &badCert) {
			// An untrusted server stays untrusted however often we ask.
			return engine.Permanent(fmt.Errorf("http sink: %w (set tls.ca_file to trust its certificate authority)", err))
		}
		return fmt.Errorf("http sink: %w", err) // the url.Error names method and URL
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// Read the rest so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	text, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	serr := &StatusError{Method: s.method, URL: s.url, Code: resp.StatusCode, Body: strings.TrimSpace(strings.ToValidUTF8(string(text), "\uFFFD"))}
	switch {
	case retryable(resp.StatusCode):
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), s.clock.Now()); ok {
			s.notBefore = s.clock.Now().Add(min(d, s.maxRetryAfter))
		}
		return serr
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return engine.Permanent(fmt.Errorf("%w (redirects are not followed: set url to %q)", serr, resp.Header.Get("Location")))
	}
	return engine.Permanent(serr)
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, 1<<32)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
