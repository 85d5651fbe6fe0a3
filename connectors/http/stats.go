package http

import (
	"maps"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/dataweaver/dataweaver/engine"
)

// Refusal reasons, the `reason` label of weave_source_requests_refused_total:
// a fixed set, so a client cannot make new series.
const (
	refusedUnauthorized = "unauthorized"
	refusedNotFound     = "not_found"
	refusedMethod       = "method"
	refusedMediaType    = "media_type"
	refusedTooLarge     = "too_large"
	refusedTimeout      = "timeout"
	refusedBadRequest   = "bad_request"
	refusedBusy         = "busy"
	refusedStopping     = "stopping"
)

// requestStats counts what the source answered, across its servers (each
// Open starts one), for engine.RequestCounter. It is updated once per
// request, never per row.
type requestStats struct {
	bytes atomic.Int64

	mu      sync.Mutex
	replies map[int]int64
	refused map[string]int64
}

func newRequestStats() *requestStats {
	return &requestStats{replies: map[int]int64{}, refused: map[string]int64{}}
}

// record counts one answered request; status 0 (no reply: the client
// left, or the connection was dropped) counts nothing.
func (s *requestStats) record(status int, busy bool) {
	if status == 0 {
		return
	}
	reason := refusalReason(status, busy)
	s.mu.Lock()
	s.replies[status]++
	if reason != "" {
		s.refused[reason]++
	}
	s.mu.Unlock()
}

// refusalReason names why a request with this reply was not taken, ""
// for one that was.
func refusalReason(status int, busy bool) string {
	switch status {
	case http.StatusOK:
		return ""
	case http.StatusUnauthorized:
		return refusedUnauthorized
	case http.StatusNotFound:
		return refusedNotFound
	case http.StatusMethodNotAllowed:
		return refusedMethod
	case http.StatusUnsupportedMediaType:
		return refusedMediaType
	case http.StatusRequestEntityTooLarge:
		return refusedTooLarge
	case http.StatusRequestTimeout:
		return refusedTimeout
	case http.StatusServiceUnavailable:
		if busy {
			return refusedBusy
		}
		return refusedStopping
	}
	return refusedBadRequest
}

func (s *requestStats) snapshot() engine.RequestStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return engine.RequestStats{Replies: maps.Clone(s.replies), Refused: maps.Clone(s.refused), BodyBytes: s.bytes.Load()}
}

// RequestStats reports the requests the source answered
// (engine.RequestCounter), for weave_source_requests_total and its kin.
func (s *Source) RequestStats() engine.RequestStats { return s.cfg.stats.snapshot() }

// statusWriter remembers the status a handler replied with.
type statusWriter struct {
	http.ResponseWriter
	status int
	// busy marks a 503 given because the pipeline did not keep up
	// (max_pending_requests, max_wait), not because it is stopping.
	busy bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}
