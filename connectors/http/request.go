package http

import (
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/engine"
)

// Where a request is on its way through the server. Every change happens
// under server.mu.
type reqState int

const (
	admitted  reqState = iota // holds a place, being decoded
	queued                    // decoded, waiting for Read
	taken                     // Read has it (rows in the pipeline)
	withdrawn                 // left before Read took it (503, client gone)
	finished                  // answered
)

// request is one POST from the moment it holds a place in the queue until
// it is answered.
type request struct {
	id      string // for row errors and logs: X-Request-Id, Idempotency-Key or request-<n>
	state   reqState
	format  string
	recs    []arrow.RecordBatch // decoded rows; Read takes them in order
	rows    int64
	rejects []engine.RowError
	bytes   int64
	end     bool // carries Weave-End-Of-Input
	// traceParent is the W3C traceparent header, "" for none: the batch
	// holding the request's first rows continues its trace.
	traceParent string
	ok          okBody // the 200 reply, made before the rejects go to the engine

	// Read's position in recs while the request spans batches.
	next int   // index in recs
	off  int64 // rows of recs[next] already emitted

	// done receives the answer once (buffered, so finishing never blocks).
	done chan result
}

// result is how a request ends.
type result struct {
	status int
	body   any
	// abort drops the connection without an answer (a simulated crash).
	abort bool
}

func newRequest(id, format string) *request {
	return &request{id: id, format: format, done: make(chan result, 1)}
}

// release frees the rows not yet handed to the pipeline.
func (r *request) release() {
	for i, rec := range r.recs {
		if rec != nil {
			rec.Release()
			r.recs[i] = nil
		}
	}
}

// exhausted reports whether Read has emitted every row.
func (r *request) exhausted() bool { return r.next >= len(r.recs) }

// finish answers the request; only the first answer counts. The caller
// holds server.mu.
func (r *request) finish(res result) {
	if r.state == finished {
		return
	}
	r.state = finished
	r.done <- res
}

// okBody is the 200 reply: rows taken, rows rejected (which went through
// the source's error policy) and the first rejects' reasons.
type okBody struct {
	Rows     int64    `json:"rows"`
	Rejected int      `json:"rejected"`
	Errors   []reason `json:"errors,omitempty"`
	Ended    bool     `json:"ended,omitempty"`
}

// errBody is every other reply.
type errBody struct {
	Error    string   `json:"error"`
	Rejected int      `json:"rejected,omitempty"`
	Errors   []reason `json:"errors,omitempty"`
}

// reason locates one bad row: its line (NDJSON) or its index in the array
// (JSON), the column when known, and what is wrong.
type reason struct {
	Line   int64  `json:"line,omitempty"`
	Index  *int64 `json:"index,omitempty"`
	Column string `json:"column,omitempty"`
	Error  string `json:"error"`
}

// maxReasons bounds the reasons a reply lists; the count stays exact.
const maxReasons = 10

func reasons(format string, rejects []engine.RowError) []reason {
	var out []reason
	for i := range rejects {
		if i == maxReasons {
			break
		}
		out = append(out, rowReason(format, &rejects[i]))
	}
	return out
}

func rowReason(format string, e *engine.RowError) reason {
	r := reason{Column: e.Column}
	if e.Err != nil {
		r.Error = e.Err.Error()
	}
	switch format {
	case formatNDJSON:
		r.Line = e.Line
	default:
		i := e.Line - 1
		r.Index = &i
	}
	return r
}

// where is a reject's position as a reply's message names it.
func where(format string, e *engine.RowError) string {
	s := "element " + strconv.FormatInt(e.Line-1, 10)
	if format == formatNDJSON {
		s = "line " + strconv.FormatInt(e.Line, 10)
	}
	if e.Column != "" {
		s += ": column " + strconv.Quote(e.Column)
	}
	return s
}
