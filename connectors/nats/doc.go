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
// The source keeps only the reply subjects of the messages it holds. While
// it holds some and the server delivers nothing for a second, Read returns
// an empty batch: the engine sends a checkpoint's barrier only after a
// batch, and sinks that publish at checkpoints acknowledge only then, so
// once max_ack_pending messages waited for a checkpoint the source would
// otherwise wait for ack_wait to redeliver them (and read them twice).
//
// # Several workers on one durable
//
// N processes running the same file share the durable consumer: each
// fetch hands a worker messages no other holds, and ack_wait is a worker's
// lease on them. While the source holds messages it sends the server an
// in-progress acknowledgement ("+WPI") for each every third of ack_wait
// (progress.go), so a sink that holds a batch for long (commits on close,
// publishes at checkpoints) does not have its messages handed to another
// worker; a worker that dies stops sending, and its messages go to the
// others ack_wait later. Every request (consumer update, fetch, ack) is
// tried with its own request_timeout and retried through a JetStream
// leader election, so a cluster losing its stream or consumer leader
// slows the workers down but fails none of them.
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
// # Outages
//
// The first connection must succeed (a wrong URL or credentials fail the
// run at once); after it the client reconnects for ever, and each step
// keeps a link (link.go) that logs disconnects and reconnects with the
// server's URL and retries what failed with backoff: the source's
// fetches, consumer updates and acknowledgements, the sink's publishes.
// Each try of a request waits at most request_timeout, never the caller's
// context: an acknowledgement on the run's context once waited for the
// whole of it when the consumer's leader died. The step fails, wrapping
// [ErrOutage], only once the outage (from the disconnect, or the first of
// an unbroken run of failed requests) has lasted longer than max_outage.
// A retried acknowledgement sends every ack of its batches again, since
// those that went out on the old connection may be lost, and only an
// answer on the same connection as all of them counts. A server killed
// before it saved its consumer's state (or a recreated consumer) has no
// record of delivering the messages and drops their acks unanswered; Ack
// checks the consumer's delivered sequence when its request times out and
// then goes on, and the server delivers those messages again. While
// disconnected the source sends no pull requests (they would only be
// buffered).
//
// # Authentication and TLS
//
// Every step takes one way to authenticate (auth.go): a .creds file
// (JWT and NKey seed), an NKey seed file, a token, or user and password;
// and the shared client `tls` object (connectors/internal/tlsconf), with
// a client certificate for servers that verify one. Files are read at
// each Open. The token, the password and credentials written into a URL
// are spec secrets, redacted from everything weave prints; a refused
// connection names the servers (without URL credentials) and the kind of
// authentication ("with user "alice" and password over TLS"), never a
// secret.
//
// # Positions
//
// A batch's checkpoint (stream, last stream sequence, batch number) is
// what the engine saves as the pipeline's position, shown as "stream
// ORDERS seq 1,234". Resume only records it for the log: the durable
// consumer is authoritative for where reading resumes, and a consumer
// ahead of the saved position is the normal case (the engine saves a
// position before it acknowledges the batches up to it).
//
// # Sink
//
// The sink publishes to JetStream asynchronously and collects publish
// acknowledgements in Flush (messages the server refused are kept and
// published again on the next Flush, which the engine retries), or
// publishes to core NATS, where Flush is a round trip to the server.
// Through an outage, Flush publishes again what was not acknowledged;
// with msg_id_column or dedupe_retries the stream drops the copies of
// messages it had stored before their acknowledgement was lost.
//
// # Not yet
//
// A core NATS source (no persistence: it cannot be at-least-once), subjects
// taken from a column, headers from and to columns, and JetStream
// key-value and object stores.
//
// # From Go
//
// [SourceConfig] (nats_jetstream) and [SinkConfig] (nats) hold the settings of
// a pipeline file's step, one field per key; their Build methods make the
// step through the same spec. The package Example publishes rows to a stream
// and reads them back, against an in-process nats-server.
package nats
