package codec

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/format"
)

// MaxRecordLimit is the largest max_record_bytes accepted: it keeps a
// record's strings within Arrow's 32-bit offsets with room for the rest of
// its batch (the file source's bound too).
const MaxRecordLimit = 1 << 30

// RawPrefix is how much of a message over the limit its RowError keeps in
// Raw: enough to recognise the message in a dead letter (its first keys,
// an id), while a batch of them costs at most BatchRows × 1 KiB there.
const RawPrefix = 1 << 10

// MaxRecordBytesField declares max_record_bytes with the file source's
// name, default and range, so one setting means one thing in every
// source. A connector whose records are not messages overrides Desc.
func MaxRecordBytesField() *spec.Field {
	return spec.Int("max_record_bytes").Default(format.DefaultMaxRecordBytes).Advance().
		Desc("Longest message decoded, in bytes. A longer one is not decoded: it is rejected with the limit and its " +
			"first 1 KiB, like a message that cannot be decoded, so a dead letter stays small.").
		Validate(checkRecordLimit)
}

func checkRecordLimit(v any) error {
	if n := v.(int); n < 1 || n > MaxRecordLimit {
		return fmt.Errorf("must be between 1 and %d (1 GiB)", MaxRecordLimit)
	}
	return nil
}

// limited rejects the messages over the limit before the format decoder
// sees them: the decoders build a whole batch at once (an Avro container,
// one JSON Lines buffer), so one huge message would be copied and decoded
// in full before it could be refused.
type limited struct {
	Decoder
	limit int
	in    [][]byte // the messages within the limit, reused between batches
	idx   []int    // the index in the batch of each of in
}

func (d *limited) Decode(msgs [][]byte) (arrow.RecordBatch, []engine.RowError, error) {
	over := false
	for _, m := range msgs {
		if len(m) > d.limit {
			over = true
			break
		}
	}
	if !over {
		return d.Decoder.Decode(msgs)
	}
	in, idx := d.in[:0], d.idx[:0]
	var big []engine.RowError
	for i, m := range msgs {
		if len(m) <= d.limit {
			in, idx = append(in, m), append(idx, i)
			continue
		}
		big = append(big, engine.RowError{Row: i, Raw: m[:min(len(m), RawPrefix)], Err: fmt.Errorf(
			"%w: a message of %d bytes is longer than the limit of %d bytes (max_record_bytes); not decoded",
			format.ErrRecordTooLarge, len(m), d.limit)})
	}
	rec, rejects, err := d.Decoder.Decode(in)
	// Drop the references, so the next batch does not keep this one's
	// messages alive.
	clear(in)
	d.in, d.idx = in[:0], idx
	if err != nil {
		return nil, nil, err
	}
	for k := range rejects {
		rejects[k].Row = idx[rejects[k].Row]
	}
	rejects = append(rejects, big...)
	sortRejects(rejects)
	return rec, rejects, nil
}
