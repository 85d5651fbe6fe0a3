// Package kafka provides the `kafka` source and sink: rows as Kafka
// records, one record per row, the value encoded by package codec (JSON
// or Avro). The client is franz-go (kgo).
//
// # Source
//
// The source consumes its topics in a consumer group with automatic
// commits off. Each Read polls up to the pipeline's batch rows, waiting
// at most its linger for the batch to fill. A batch's checkpoint holds,
// per topic and partition, the offset after its last record there; the
// source keeps the checkpoints it handed out and, when the engine acks one
// (once every sink has flushed that batch), commits the offsets of every
// batch up to it in one synchronous OffsetCommit. Acks may skip batches,
// so the commit merges them (a later batch's offset wins per partition).
// Once Ack returns, a restart does not read those records again; whatever
// was not committed is read again after a Close, a crash or a rebalance.
// The guarantee is at-least-once.
//
// Close leaves the group without committing. A crashed process stays a
// group member until its session times out, so its replacement waits for
// that before it is given the partitions; the tests stand for a crash
// with Close, which commits nothing either.
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
// start_offset puts it) has reached the partition's end offset.
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
// # Not yet
//
// Handling of revoked partitions in a group of several pipelines (offsets
// of a revoked partition are committed late, so its new owner may read a
// few batches again, never fewer), transactions (exactly-once into Kafka),
// SASL and TLS, a topic taken from a column, and a schema registry.
package kafka
