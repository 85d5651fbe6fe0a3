package kafka

import "github.com/twmb/franz-go/pkg/kgo"

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

// LagMessages is the group's lag on the partitions this member owns, as
// of the last records polled from each (engine.Lagger); unknown before
// the first records. A partition no poll has returned records of yet is
// not counted, so the figure can start low on a many-partition topic.
func (s *Source) LagMessages() (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, l := range s.lag {
		n += l
	}
	return n, len(s.lag) > 0
}
