package nats

import (
	"context"
	"errors"
	"fmt"

	"github.com/dataweaver/dataweaver/engine"
)

// The bodies of JetStream's acknowledgements, sent straight to a message's
// reply subject: jetstream.Msg's own Ack refuses a second ack of a message,
// and a retried Ack must send them all again.
var (
	ackBody  = []byte("+ACK")
	nakBody  = []byte("-NAK")
	termBody = []byte("+TERM " + termReason)
)

// termReason is what the server's MSG_TERMINATED advisory gives as the
// reason a poison message was terminated.
const termReason = "dataweaver: delivered more than max_deliver times"

// Ack acknowledges the messages of every batch up to and including cp's,
// and terminates those rejected for max_deliver. Through a lost connection
// it tries again, each try bounded by request_timeout, until max_outage.
func (s *Source) Ack(ctx context.Context, cp engine.Checkpoint) error {
	c, ok := cp.(checkpoint)
	if !ok {
		return fmt.Errorf("nats: Ack with a checkpoint of type %T", cp)
	}
	s.mu.Lock()
	var done []held
	for len(s.pending) > 0 && s.pending[0].seq <= c.Batch {
		done = append(done, s.pending[0])
		s.held -= len(s.pending[0].replies)
		s.pending = s.pending[1:]
	}
	s.mu.Unlock()
	var (
		settles []settlement
		last    uint64
	)
	for _, h := range done {
		for i, r := range h.replies {
			body := ackBody
			if h.poison != nil && h.poison[i] {
				body = termBody
			}
			settles = append(settles, settlement{r, body})
		}
		last = max(last, h.last)
	}
	if len(settles) == 0 {
		return nil
	}
	return s.link.do(ctx, fmt.Sprintf("nats: ack up to stream sequence %d", c.StreamSeq), func(tctx context.Context) error {
		err := s.settle(tctx, settles)
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil && s.forgotten(ctx, last) {
			return nil
		}
		return err
	})
}

// forgotten reports whether the consumer no longer knows it delivered the
// message at stream sequence last, the highest being acknowledged: its
// record of deliveries ends before it. The server
// then drops that message's ack without an answer, so waiting for one
// would hang the run until max_outage. That happens when a server was
// killed before it saved its latest consumer state, or the consumer was
// recreated. The server delivers such messages again (at-least-once); the
// acks of those it still knows went out before the request, and a flush
// makes sure it has them.
func (s *Source) forgotten(ctx context.Context, last uint64) bool {
	ctx, cancel := context.WithTimeout(ctx, s.link.timeout)
	defer cancel()
	info, err := s.cons.Info(ctx)
	if err != nil || info.Delivered.Stream >= last {
		return false
	}
	if err := s.nc.FlushWithContext(ctx); err != nil {
		return false
	}
	s.link.log.Warn("nats: the consumer has no record of delivering these messages (a server killed before it saved "+
		"its state, or a recreated consumer); it delivers them again", "durable", s.consCfg.Durable,
		"up_to", checkpoint{Stream: s.stream, StreamSeq: last}.String(),
		"consumer_delivered", checkpoint{Stream: s.stream, StreamSeq: info.Delivered.Stream}.String())
	return true
}

// settlement is one message's ack or term, sent to its reply subject.
type settlement struct {
	reply string
	body  []byte
}

// settle sends every settlement but the last without waiting and the last
// as a request; the server handles one connection's messages in order, so
// its answer means every one before it has been applied: once settle
// returns nil, a crash does not bring these messages back. A try that
// spanned a reconnect proves nothing about what went out on the old
// connection, so it fails and the next try sends them all again (a second
// ack of a message is harmless).
func (s *Source) settle(ctx context.Context, settles []settlement) error {
	nc := s.nc
	if nc == nil {
		return errClosed
	}
	gen := nc.Stats().Reconnects
	last := len(settles) - 1
	for _, st := range settles[:last] {
		if err := nc.Publish(st.reply, st.body); err != nil {
			return err
		}
	}
	if _, err := nc.RequestWithContext(ctx, settles[last].reply, settles[last].body); err != nil {
		return err
	}
	if nc.Stats().Reconnects != gen {
		return errReconnected
	}
	return nil
}
