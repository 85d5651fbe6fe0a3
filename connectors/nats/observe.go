package nats

import "github.com/nats-io/nats.go/jetstream"

// notePending keeps the consumer's pending count the last fetched message
// carries in its metadata: the source's lag, for weave_source_lag_messages,
// at the cost of parsing one reply subject per batch.
func (s *Source) notePending(last jetstream.Msg) {
	if md, err := last.Metadata(); err == nil {
		s.undelivered.Store(int64(md.NumPending))
	}
}

// LagMessages reports the messages the stream holds for this consumer
// beyond those fetched (engine.Lagger); unknown before the first fetch.
func (s *Source) LagMessages() (int64, bool) {
	n := s.undelivered.Load()
	return n, n >= 0
}

// Retries counts the publishes, flushes and requests the sink tried again
// on its own through an outage (engine.RetryCounter); the engine's own
// retries of Write and Flush are counted apart.
func (s *Sink) Retries() int64 { return s.link.retries.Load() }
