package kafka

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Checkpoint is what a batch hands back through Ack, and what the engine
// saves as the pipeline's position once every sink made the batch
// durable: the batch's number and, for every partition this member owned
// and had read from when the batch was cut, the offset after the last
// record read there (the next offset to read) — cumulative over the
// batches before, so the saved position names every partition, not only
// those of the last batch.
//
// The position is a record for people (the run summary, weave
// positions), not where the next run starts: that is the group's
// committed offsets, which Ack advances and every member of the group
// shares (see Resume).
type Checkpoint struct {
	Batch   int64                      `json:"batch"`
	Offsets map[string]map[int32]int64 `json:"offsets"`
}

// String is "orders: p0@120, p1@98", topics in name order separated by
// "; ", each partition with its next offset.
func (c Checkpoint) String() string {
	if len(c.Offsets) == 0 {
		return "no record read yet"
	}
	var b strings.Builder
	for i, t := range slices.Sorted(maps.Keys(c.Offsets)) {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(t)
		b.WriteString(":")
		ps := c.Offsets[t]
		for j, p := range slices.Sorted(maps.Keys(ps)) {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " p%d@%d", p, ps[p])
		}
	}
	return b.String()
}

// Resume records the position an earlier run saved and logs it; it does
// not move the group. Where reading starts is the group's committed
// offsets, which are authoritative: they are shared by every member of
// the group (another pipeline may have read on from where this one
// stopped), Ack commits as soon as every sink flushed a batch, often
// before the next checkpoint saves the position (so a group ahead of the
// saved position is normal), and a position saved by this process alone
// would rewind or skip partitions another member committed. So a position behind or ahead of the group is
// not an error; Open only logs, per partition, where the group stands
// against it. Bytes that are not a Kafka position (the state of another
// source kind) are refused, as the engine asks of every Resumer.
func (s *Source) Resume(pos []byte) error {
	var c Checkpoint
	if err := json.Unmarshal(pos, &c); err != nil {
		return fmt.Errorf("kafka: %s: saved position %s is not a Kafka position (%w); "+
			"reset the pipeline's positions (weave positions --reset)", s.name, pos, err)
	}
	if c.Offsets == nil {
		return fmt.Errorf("kafka: %s: saved position %s has no offsets, so it is not a Kafka position; "+
			"reset the pipeline's positions (weave positions --reset)", s.name, pos)
	}
	s.resumed = &c
	s.log.Info("kafka: saved position of the last run (the group's committed offsets decide where reading starts)",
		"step", s.name, "group", s.group, "position", c.String())
	return nil
}

// copyOffsets returns a deep copy of offsets.
func copyOffsets(offsets map[string]map[int32]int64) map[string]map[int32]int64 {
	out := make(map[string]map[int32]int64, len(offsets))
	for t, ps := range offsets {
		out[t] = maps.Clone(ps)
	}
	return out
}

// compareResumed logs where the group's committed offsets stand against
// the position Resume recorded, per partition the position names. Nothing
// here changes where reading starts; it tells an operator when the group
// is behind the saved position (its offsets were reset, or expired under
// the brokers' offsets.retention.minutes: records are read again, or with
// start_offset: latest skipped). A failure to ask is logged, not returned:
// the group decides either way.
func (s *Source) compareResumed(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.sessionTimeout)
	defer cancel()
	committed, err := s.adm.FetchOffsetsForTopics(ctx, s.group, s.topics...)
	if err == nil {
		err = committed.Error()
	}
	if err != nil {
		s.log.Warn("kafka: could not compare the saved position with the group's committed offsets",
			"step", s.name, "group", s.group, "err", err)
		return
	}
	for t, ps := range s.resumed.Offsets {
		for p, saved := range ps {
			c, ok := committed.Lookup(t, p)
			switch {
			case !ok || c.At < 0:
				s.log.Warn("kafka: the group has no committed offset for a partition of the saved position; start_offset applies",
					"step", s.name, "group", s.group, "topic", t, "partition", p, "saved", saved, "start_offset", s.startName())
			case c.At < saved:
				s.log.Warn("kafka: the group is behind the saved position; records between are read again",
					"step", s.name, "group", s.group, "topic", t, "partition", p, "committed", c.At, "saved", saved)
			}
		}
	}
}

func (s *Source) startName() string {
	if s.latest {
		return startLatest
	}
	return startEarliest
}
