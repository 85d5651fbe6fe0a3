package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// noteLag keeps, for each partition a poll returned records of, how far
// its high watermark is past the last of them: records the broker holds
// that this member has not handed on yet (those kgo buffered included).
// One pass over the poll's partitions, per poll.
func (s *Source) noteLag(fs kgo.Fetches) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fs.EachPartition(func(p kgo.FetchTopicPartition) {
		if n := len(p.Records); n > 0 && s.lag != nil {
			s.lag[tp{p.Topic, p.Partition}] = max(p.HighWatermark-p.Records[n-1].Offset-1, 0)
		}
	})
}

// unpolled returns the owned partitions with no lag known yet that no
// lookup was made for since they were assigned; nil (after one length
// comparison) when every owned partition has its lag.
func (s *Source) unpolled() map[string][]int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lag)+len(s.lagAsked) >= len(s.owned) {
		return nil
	}
	var out map[string][]int32
	for k := range s.owned {
		if _, ok := s.lag[k]; ok || s.lagAsked[k] {
			continue
		}
		if out == nil {
			out = map[string][]int32{}
		}
		out[k.topic] = append(out[k.topic], k.partition)
		s.lagAsked[k] = true
	}
	return out
}

// fillLag gives the owned partitions no poll has returned records of their
// lag from the broker: end offset minus where the group stands there (its
// committed offset, else where start_offset puts it). A partition whose
// records keep coming is then updated by noteLag; an idle one keeps this
// figure, which stays right while nothing is produced to it. One lookup
// per assignment: a failed one is logged and the partitions stay unknown
// until their first records.
func (s *Source) fillLag(ctx context.Context) {
	parts := s.unpolled()
	if parts == nil {
		return
	}
	lags, err := s.brokerLag(ctx, parts)
	if err != nil {
		s.log.Warn("kafka: looking up the lag of partitions not read yet failed; it is reported once records come from them",
			"step", s.name, "group", s.group, "partitions", parts, "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, n := range lags {
		// A revoke may have come meanwhile: keep only partitions still
		// owned and still without a polled figure.
		if _, ok := s.lag[k]; !ok && s.owned[k] {
			s.lag[k] = n
		}
	}
}

// brokerLag asks the broker for the lag of parts.
func (s *Source) brokerLag(ctx context.Context, parts map[string][]int32) (map[tp]int64, error) {
	topics := make([]string, 0, len(parts))
	for t := range parts {
		topics = append(topics, t)
	}
	ends, err := s.adm.ListEndOffsets(ctx, topics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("end offsets: %w", err)
	}
	starts, err := s.adm.ListStartOffsets(ctx, topics...)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("start offsets: %w", err)
	}
	committed, err := s.adm.FetchOffsetsForTopics(ctx, s.group, topics...)
	if errors.Is(err, kerr.GroupIDNotFound) {
		// The group has not joined yet: it has committed nothing.
		committed, err = kadm.OffsetResponses{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("committed offsets of group %q: %w", s.group, err)
	}
	out := map[tp]int64{}
	for t, ps := range parts {
		for _, p := range ps {
			end, ok := ends.Lookup(t, p)
			if !ok {
				continue
			}
			if pos := s.groupPosition(t, p, end, starts, committed); pos >= 0 {
				out[tp{t, p}] = max(end.Offset-pos, 0)
			}
		}
	}
	return out, nil
}

// groupPosition is where the group reads partition t/p from when nothing
// was polled there: its committed offset, else where start_offset puts it;
// -1 when the broker gave neither.
func (s *Source) groupPosition(t string, p int32, end kadm.ListedOffset, starts kadm.ListedOffsets, committed kadm.OffsetResponses) int64 {
	if c, ok := committed.Lookup(t, p); ok && c.Err == nil && c.At >= 0 {
		return c.At
	}
	if s.latest {
		return end.Offset
	}
	if st, ok := starts.Lookup(t, p); ok {
		return st.Offset
	}
	return -1
}

// LagMessages is the group's lag on the partitions this member owns
// (engine.Lagger): for a partition polled, as of its last records polled;
// for one not polled yet, as the broker gave it after the assignment.
// Unknown before the first figure.
func (s *Source) LagMessages() (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, l := range s.lag {
		n += l
	}
	return n, len(s.lag) > 0
}
