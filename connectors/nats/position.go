package nats

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// checkpoint is what a batch hands back through Ack, and what the engine
// saves as the pipeline's position: the batch's number in this run (the
// source holds its messages and acknowledges them by it) and, for the run
// summary and weave positions, the stream and the last stream sequence in
// the batch.
type checkpoint struct {
	Stream    string `json:"stream"`
	StreamSeq uint64 `json:"stream_seq"`
	// Batch means nothing to a later run: its batches count from 0 again.
	Batch int64 `json:"batch"`
}

// String is how the position reads in the run summary.
func (c checkpoint) String() string {
	return fmt.Sprintf("stream %s seq %s", c.Stream, groupDigits(c.StreamSeq))
}

// groupDigits writes n with a comma every three digits: 1,234,567.
func groupDigits(n uint64) string {
	s := strconv.FormatUint(n, 10)
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// Resume records the position an earlier run saved, for the log. It does
// not move the consumer: the durable consumer in the server is what
// decides where reading resumes, and it is the more recent of the two (the
// engine saves a position before it acknowledges the batches up to it, so
// the consumer is normally at or ahead of the saved position; a run that
// died in between left it behind, and those messages come again, which
// at-least-once allows). Open logs both. A saved position that is not a
// nats_jetstream one is refused: the state directory then belongs to
// another source.
func (s *Source) Resume(pos []byte) error {
	if len(pos) == 0 {
		return nil
	}
	var c checkpoint
	dec := json.NewDecoder(bytes.NewReader(pos))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || c.Stream == "" {
		if err == nil {
			err = fmt.Errorf("no stream in it")
		}
		return fmt.Errorf("nats_jetstream %s: saved position %.200q is not a nats_jetstream position (was the pipeline's source changed?): %w",
			s.name, pos, err)
	}
	s.resumed = &c
	return nil
}

// logResume tells where the saved position and the durable consumer are,
// once Open has the consumer. ackFloor is the consumer's highest stream
// sequence below which every message is acknowledged.
func (s *Source) logResume(ackFloor uint64) {
	c := s.resumed
	if c == nil {
		return
	}
	args := []any{"step", s.name, "saved", c.String(), "durable", s.consCfg.Durable,
		"durable_ack_floor", checkpoint{Stream: s.stream, StreamSeq: ackFloor}.String()}
	switch {
	case c.Stream != s.stream:
		s.link.log.Warn("nats: the saved position is of another stream; the durable consumer decides where reading resumes", args...)
	case ackFloor < c.StreamSeq:
		s.link.log.Warn("nats: the durable consumer is behind the saved position; messages between are read again", args...)
	default:
		s.link.log.Info("nats: resuming where the durable consumer stands", args...)
	}
}
