package nats

import (
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Keeping held messages' leases (ack_wait) alive.
//
// A message is acknowledged once every sink has flushed its batch, which
// for a sink that commits at checkpoints or on Close (a directory of
// parts, Parquet) can be long after ack_wait: the server would then hand
// the message to another worker on the same durable consumer while this
// one still holds it, and both write it. So while the source holds
// messages it tells the server every third of ack_wait that they are in
// progress ("+WPI", nats.go's Msg.InProgress), which restarts their
// ack_wait. A process that dies stops sending, and its messages go to the
// others ack_wait after the last extension: ack_wait stays the lease of a
// dead worker, however long a live one holds a batch.

// progressBody is JetStream's in-progress acknowledgement.
var progressBody = []byte("+WPI")

// extender sends progressBody for the source's held messages until stop.
type extender struct {
	stop chan struct{}
	done sync.WaitGroup
}

// startExtender starts extending s's held messages over nc every
// ack_wait/3.
func (s *Source) startExtender(nc *nats.Conn) *extender {
	e := &extender{stop: make(chan struct{})}
	every := s.consCfg.AckWait / 3
	e.done.Add(1)
	go func() {
		defer e.done.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-e.stop:
				return
			case <-tick.C:
				s.extend(nc)
			}
		}
	}()
	return e
}

// halt stops the extender and waits for it: after halt no progress
// message goes out, so a Close's naks or a crash's silence are the last
// word on the held messages.
func (e *extender) halt() {
	if e == nil {
		return
	}
	close(e.stop)
	e.done.Wait()
}

// extend sends progressBody to the reply subject of every message of
// every batch held at this moment, oldest first, without waiting for
// answers (a lost one is made up by the next tick, two before ack_wait).
// A message acknowledged meanwhile ignores it. Through an outage it sends
// nothing: nats.go would only buffer the messages, and the server
// redelivers during an outage of more than ack_wait in any case.
func (s *Source) extend(nc *nats.Conn) {
	if s.link.isDown() {
		return
	}
	s.mu.Lock()
	batches := make([][]string, len(s.pending))
	for i, h := range s.pending {
		batches[i] = h.replies // never modified once held
	}
	s.mu.Unlock()
	for _, rs := range batches {
		for _, r := range rs {
			if err := nc.Publish(r, progressBody); err != nil {
				return // closed or reconnecting: nothing to gain from the rest
			}
		}
	}
}
