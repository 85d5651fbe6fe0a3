// Package http provides the `http` source, a server that takes POSTed
// batches of rows, and the `http` sink, which POSTs batches to a URL.
//
// # Source
//
// Each Open starts a server on address; Close stops it. A POST to path
// carries rows as JSON (an object or an array of objects), JSON Lines or
// an Arrow IPC stream, chosen by Content-Type (default_format when there
// is none), and is decoded into the configured schema by the same
// packages the file connector uses (format/jsonl, codec's JSON decoder,
// format/arrowipc), in the request's own goroutine, so concurrent
// clients decode in parallel.
//
// A request's life: it waits for a place (max_pending_requests of them)
// before its body is read, so memory holds at most that many bodies and
// their rows besides what the pipeline holds; it is decoded; it waits in
// the queue until Read takes it; and it is answered 200 when the engine
// acknowledges the batch holding its last rows, that is once every sink
// has flushed them. If it is not taken within max_wait of arriving it is
// answered 503 with Retry-After: a blocked pipeline slows its clients
// down instead of buffering without bound. A request that never gets its
// 200 — the run failed, the process died, the client timed out — is sent
// again by its client, so delivery is at-least-once at the grain of a
// request: rows of a request taken into an acknowledged batch may come
// again with the rest of that request.
//
// Read takes the current request's rows and then those of requests
// already waiting, up to the pipeline's batch rows: a large request
// spans batches (zero-copy slices), small ones share a batch. Read never
// waits to fill a batch, so a lone webhook is not delayed by linger, and
// under load batches fill from the queue by themselves.
//
// # Bad input
//
// Refusals that need no body come first (404 path, 401 token, 405
// method, 415 Content-Type), so clients that send Expect: 100-continue do
// not upload in vain. A body that cannot be framed — JSON broken around
// the rows, a corrupt Arrow stream, an Arrow schema other than the
// source's — gets 400 naming the element, byte offset or column; over
// max_body_bytes, 413. A row that does not fit the schema (a JSON Lines
// line that is not an object, a string in an int64 column) is a row error
// with the request's id as its file, its line (NDJSON) or element number
// (JSON) and its raw bytes: with bad_rows: policy (the default) it goes
// through the source's on_error like a bad line of a file, and the 200
// reply counts it and names the first ones; with bad_rows: reject the
// whole request gets 400 and none of it is taken. Arrow bodies are typed
// already and are all or nothing. A row over max_record_bytes is such a
// row error too, wrapping format.ErrRecordTooLarge with the limit: an
// NDJSON line is skipped by format/jsonl without being held (no raw
// bytes), a JSON object keeps its first codec.RawPrefix bytes.
// max_body_bytes is enforced while reading (http.MaxBytesReader), so a
// chunked body of any size costs about the limit before its 413.
//
// # Stopping
//
// Close answers every request not yet acknowledged with 503 and shuts
// the server down. A Read whose context ends (the engine's drain on
// SIGINT, or a failed run) answers the requests still queued with 503 at
// once, and requests arriving afterwards too; requests already taken are
// answered when their batch is acknowledged. With allow_end_of_input, a
// request carrying Weave-End-Of-Input: true ends the input: later
// requests get 503 and Read returns engine.ErrEndOfInput once every
// request admitted before it has been read — a one-shot import, and how
// a sink that commits only on Close (Parquet) gets to acknowledge.
//
// # Sink
//
// Each batch is encoded by the file format writer of its codec (json: a
// JSON array built from the JSON Lines writer's rows, ndjson, arrow: an
// IPC stream per request, avro: an object container per request) and
// sent as one request, or several when it exceeds max_rows or max_bytes.
// Write returns once every request of the batch got a 2xx reply, so Flush
// has nothing to do. Errors follow the engine's conventions: network
// errors, timeouts, 408, 429 and 5xx are returned for the engine to retry
// with the step's backoff, and the next try waits at least the reply's
// Retry-After; 3xx (redirects are not followed) and other 4xx are
// engine.Permanent. A retried Write of the same record resumes at the
// request that failed, with the same Idempotency-Key
// (<run id>-<batch>-<request>), so a receiver that remembers keys stores
// each request once. The rate limit is a token bucket consulted before
// every request, retries included.
//
// # Not yet
//
// Compressed request bodies (Content-Encoding), Avro and Protobuf bodies
// on the source, de-duplication of repeated requests by Idempotency-Key
// on the source, and mTLS.
//
// # From Go
//
// [SourceConfig] and [SinkConfig] hold the settings of a pipeline file's http
// step, one field per key; their Build methods make the step through the same
// spec. The package Example posts rows to a test server.
package http
