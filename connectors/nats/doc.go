// Package nats provides the `nats_jetstream` source and the `nats` sink:
// rows as NATS messages, one message per row, encoded by package codec
// (JSON or Avro).
//
// # Source
//
// The source reads a JetStream stream through a durable pull consumer
// (explicit acks). Each Read fetches up to the pipeline's batch rows,
// waiting at most its linger for the batch to fill. The batch's checkpoint
// names the batch; the source keeps the batch's messages and acknowledges
// them when the engine acks that checkpoint, that is once every sink has
// flushed them, so messages are acknowledged in read order and never
// before they are durable downstream. What is not acknowledged comes back:
// at once after a clean Close (which naks it), after ack_wait after a crash.
// The guarantee is at-least-once: a sink may see a message twice, and a
// JetStream sink with msg_id_column drops such repeats.
//
// # Poison messages
//
// A message whose runs keep failing (a crash, a stage or sink error the
// policy cannot absorb) is delivered again and again. With max_deliver
// the source counts deliveries (the server's NumDelivered): past the
// limit a message is not decoded but handed to the source's on_error
// policy with its raw bytes as a reject wrapping [ErrMaxDeliver], and it
// is terminated (not acknowledged: the server's MSG_TERMINATED advisory
// records it) when its batch is acknowledged, that is once the dead-letter
// sink has flushed it. The count is per message but failures are per
// batch, so a batch that keeps failing takes every message in it past the
// limit, not only the culprit. The server's own MaxDeliver is not used: a
// message over it stays in the stream undelivered, and no sink sees it.
//
// stop_at_end turns the source into a bounded one: Read returns
// engine.ErrEndOfInput once a fetch comes back empty and the consumer has
// neither undelivered messages nor unacknowledged ones other than those
// the source holds.
//
// # Sink
//
// The sink publishes to JetStream asynchronously and collects publish
// acknowledgements in Flush (messages the server refused are kept and
// published again on the next Flush, which the engine retries), or
// publishes to core NATS, where Flush is a round trip to the server.
//
// # Not yet
//
// A core NATS source (no persistence: it cannot be at-least-once), subjects
// taken from a column, headers from and to columns, and JetStream
// key-value and object stores.
package nats
