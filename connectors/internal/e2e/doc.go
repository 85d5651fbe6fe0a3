// Package e2e runs the pipeline files of testdata/pipelines that sync real
// systems, each against the real thing started in-process or beside the
// test: PostgreSQL (a throw-away initdb cluster, internal/pgtest),
// NATS JetStream (an embedded nats-server) and Kafka (franz-go's kfake),
// with the Wasm mask stage built once per test binary.
//
// # Killed and rerun (TestKill*)
//
// Each file runs as a real `weave run` child process (internal/crashtest),
// with addresses in ${VAR}s and small batches through --set, as a user
// would run it, and without stop_at_end, so it cannot end on its own. Once
// the destination itself (the stream, the topic, the table, the published
// part files) holds N rows, N drawn at random with the seed logged, the
// process gets SIGKILL; it must die of it with part of the input still
// missing. The file then runs again, over the state the killed run left
// (its own state directory per test), with stop_at_end to a clean exit,
// and the destination must hold every input row, values checked one by
// one against what went in:
//
//   - postgres_mask_jetstream.yaml: exactly once and in order (Nats-Msg-Id
//     and the stream's duplicate window). The Postgres source resumes from
//     the saved position, so the rerun reads only the rows after it; a
//     third run reads only the rows added since, and a run with a fresh
//     state directory starts at source.postgres.start instead.
//   - jetstream_to_kafka.yaml: at least once (Kafka keeps what the killed
//     run stored and not yet acknowledged); afterwards the durable consumer
//     has nothing pending or unacknowledged and a third run reads nothing.
//   - kafka_to_postgres_upsert.yaml: exactly once, each order in its last
//     version (upsert); a third run reads nothing (the group's offsets). A
//     short session_timeout hands the killed member's partitions over.
//
// The undecodable input each file carries must reach its dead-letter
// destination, naming where it was read.
//
// # Killed again and again (TestKillRepeatedly)
//
// Six pipelines are killed 5 times (DW_CRASH_KILLS=n for n) at increasing
// random points, each run starting over what the last left, then run to
// the end, with a checkpoint behind every batch. Part directories count
// rows flushed to temporary parts too and report after a random pause, so
// that kills fall anywhere in a checkpoint (prepare, save, rename,
// acknowledge), not only just after what a reader sees. Every input row
// must arrive; exactly once for file_to_parts.yaml,
// file_to_postgres_exactly_once.yaml, file_to_postgres_upsert.yaml (last
// versions) and postgres_mask_jetstream.yaml (Nats-Msg-Id); at least once
// for kafka_to_parts.yaml and jetstream_to_postgres.yaml, whose source
// position (offsets, acks) is acknowledged after the output is committed:
// every repeated row must have been first stored in the last unit (part,
// transaction) committed before one of the kills, and the repeats number
// at most kills × the largest unit (checkRepeatBound). The last run's
// summary must say it started at a saved position.
//
// # Stopped in order (TestOrderlyShutdownAfterSinkError)
//
// The same files also run in the test process, with a checked allocator,
// and a sink that fails permanently after 3,000 rows (failingSink). That
// is a test of shutdown, not of a crash: the run must return the sink's
// error, leak no Arrow buffer or goroutine on that path, and leave the
// destination with no more than the sink stored; a rerun in the same
// process then completes the copy as above.
//
// The package has no non-test code; it lives under connectors/internal so
// that it can use pgtest.
package e2e
