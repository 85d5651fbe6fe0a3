// Package kafka provides the `kafka` source and sink: rows as Kafka
// records, one record per row, the value encoded by package codec (JSON,
// Avro or Protobuf), optionally framed for a schema registry. The client is
// franz-go (kgo).
//
// # Source
//
// The source consumes its topics in a consumer group with automatic
// commits off. Each Read polls up to the pipeline's batch rows, waiting
// at most its linger for the batch to fill. The source keeps, per batch,
// the offset after its last record in each partition; when the engine
// acks a batch (once every sink has flushed it), it commits the offsets of
// every batch up to it in one synchronous OffsetCommit. Acks may skip
// batches, so the commit merges them (a later batch's offset wins per
// partition). Once Ack returns, a restart does not read those records
// again; whatever was not committed is read again after a Close, a crash
// or a rebalance. The guarantee is at-least-once.
//
// metadata: true appends _key, _topic, _partition, _offset and _timestamp
// columns, and header_columns appends chosen headers as text columns, for
// the rows that decoded. A record whose value does not decode is a
// engine.RowError with File "topic/partition", Line the offset and Raw
// the value.
//
// stop_at_end makes the source bounded: Read returns engine.ErrEndOfInput
// once a poll comes back empty and every partition's position (what this
// client polled, else the group's committed offset, else where
// start_offset puts it) has reached the partition's end offset. kgo
// retries polls and joins for as long as the brokers are away, but that
// end-offset check is the source's own request: brokers that cannot be
// reached (not started yet, restarting) make it retry with backoff
// (outage.go) until max_outage, then fail wrapping [ErrOutage].
//
// # Groups of several members
//
// Several pipelines (processes) in one group share the partitions; kgo's
// default cooperative-sticky balancer moves only the partitions that must
// move. The rebalance callbacks (group.go) keep commits honest:
//
//   - revoked (a rebalance takes partitions, or Close leaves the group):
//     the member first commits what the engine acknowledged and no commit
//     has stored yet (an Ack the broker refused during the rebalance), then
//     drops the unacknowledged offsets of the partitions it gives up. The
//     new owner reads those records again.
//   - lost (the session expired or the member was fenced): the offsets are
//     dropped without a commit, which the broker would refuse.
//   - a later Ack of a batch read before either commits only partitions the
//     member still owns, and not those it got back in a later session: a
//     revoke or loss starts a new epoch, and a batch keeps only offsets of
//     partitions not given up since its poll began. Commits and the two
//     callbacks share one lock, so an Ack's commit is never in flight when
//     a partition is handed on (it would rewind the new owner's commits).
//   - an Ack the broker refuses because the group moved on (rebalance in
//     progress, stale generation) does not fail the pipeline: the offsets
//     stay acknowledged until the next commit or the partitions go; nor
//     does the group-session error kgo hands the poll while it rejoins.
//
// A member that dies keeps its partitions, unread, until its session
// times out (session_timeout, 10 s by default; brokers accept 6 s and up
// unless configured otherwise). The tests stand for a SIGKILL with a Close
// whose LeaveGroup never reaches the broker; connectors/internal/e2e kills
// one of three `weave run` processes.
//
// instance_id makes the member static (KIP-345): kgo sends no LeaveGroup
// when it closes, and a process that comes back under the same id within
// session_timeout gets its old assignment without a rebalance, so a
// rolling restart of N workers moves no partition. Two live processes
// with one id fence each other; the fenced one fails naming the id.
//
// # Positions
//
// A batch's Checkpoint (JSON, shown as "orders: p0@120, p1@98") is the
// next offset of every partition the member owns and has read, after the
// batch. The engine saves it; Resume records and logs it, and Open logs
// where the group stands against it. It never moves the group: the
// group's committed offsets are authoritative. They are shared by every
// member, and Ack commits as soon as every sink has flushed a batch, which
// for sinks that do not publish at checkpoints is before the engine's next
// checkpoint saves the position; so a group ahead of a saved position is
// normal.
//
// # Sink
//
// The sink produces with kgo's idempotent producer (acks from all in-sync
// replicas; the broker drops retried duplicates and keeps each
// partition's order). Flush waits for every outstanding acknowledgement
// (kgo Client.Flush) and returns the first refusal; refused records are
// produced again on the next Flush, which the engine retries. A record
// refused while a later one on its partition succeeded is then out of
// order: the idempotent producer makes such refusals rare (they are
// permanent errors like a record too large, which retrying cannot fix).
//
// # Lag
//
// LagMessages (weave_source_lag_messages) sums, over the partitions the
// member owns, the high watermark minus the next offset to hand on: from
// each poll's records where a partition has been polled; for a partition
// not polled yet, from one broker lookup (end offset minus the group's
// committed offset, else where start_offset puts it) made after the
// assignment, so the figure covers every assigned partition from the
// first batch on.
//
// # Security
//
// tls (connectors/internal/tlsconf) and sasl (PLAIN, SCRAM-SHA-256,
// SCRAM-SHA-512) apply to source and sink alike. When either is given,
// Open sends one request to the brokers, so a wrong password or an
// untrusted certificate fails the step at once with the brokers, TLS and
// mechanism named (auth.go), rather than leaving kgo retrying; the
// password is a secret field and never part of an error.
//
// # Schema registry
//
// schema_registry (connectors/internal/schemareg) frames values in the
// Confluent wire format. The sink registers the schema of its value
// columns when it opens; the source looks each schema id up once and
// maps the writer's schema onto its columns (schemareg's doc says how).
// Only values are framed: keys stay bytes.
//
// # Not yet
//
// Committing flushed but not yet acknowledged batches when partitions are
// revoked (sinks that publish at checkpoints are acknowledged only then,
// and a source cannot ask the engine for a checkpoint), transactions (exactly-once into Kafka), SASL OAUTHBEARER
// and AWS_MSK_IAM (kfake cannot test them), key schemas in the registry,
// and a topic taken from a column.
//
// # From Go
//
// [SourceConfig] and [SinkConfig] hold the settings of a pipeline file's kafka
// step, one field per key; their Build methods make the step through the same
// spec. The package Example writes rows to a topic and reads them back, against
// franz-go's in-process kfake.
package kafka
