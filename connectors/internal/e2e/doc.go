// Package e2e runs the pipeline files of testdata/pipelines that sync real
// systems, each against the real thing started in-process or beside the
// test: PostgreSQL (a throw-away initdb cluster, connectors/internal/pgtest),
// NATS JetStream (an embedded nats-server) and Kafka (franz-go's kfake),
// with the Wasm mask stage built once per test binary.
//
// # What a test checks
//
// Each test loads its file with engine/config (addresses through ${VAR},
// stop_at_end through --set, as a user would run it), lets a first run
// crash part-way — after the sink has stored a batch but before the source
// was told, the window a dying process leaves — and runs the file again.
// The next system must then hold every row (at-least-once, nothing lost),
// with values checked one by one against what went in; where the sink
// de-duplicates (JetStream message ids, a Postgres upsert) it must hold
// each row exactly once. A third run must find nothing left to read (a
// durable consumer, a consumer group) or, for the Postgres source, which
// keeps no position across processes, only what was added after the
// checkpoint it is started from.
//
// The package has no non-test code; it lives under connectors/internal so
// that it can use the conformance helpers and pgtest.
package e2e
