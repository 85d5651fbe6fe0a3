package engine

import (
	"fmt"
	"time"
)

// Policy says what happens to rows a step cannot handle.
type Policy int

const (
	// Fail stops the pipeline with an error naming the step and row (default).
	Fail Policy = iota
	// Skip drops the rows, counts them and logs each one.
	Skip
	// DeadLetter writes the rows, with the error and the step name, to the
	// pipeline's dead-letter sink.
	DeadLetter
)

// Policies are the names pipeline files use.
var Policies = []string{"fail", "skip", "dead_letter"}

func (p Policy) String() string {
	if int(p) >= 0 && int(p) < len(Policies) {
		return Policies[p]
	}
	return fmt.Sprintf("policy(%d)", int(p))
}

// ParsePolicy reads "fail", "skip" or "dead_letter".
func ParsePolicy(s string) (Policy, error) {
	for i, n := range Policies {
		if n == s {
			return Policy(i), nil
		}
	}
	return Fail, fmt.Errorf("%w: unknown error policy %q (want fail, skip or dead_letter)", ErrInvalidConfig, s)
}

// Retry is the backoff for failed sink writes: Attempts tries in all, the
// delay doubling from Initial up to Max, each with full jitter.
type Retry struct {
	Attempts int
	Initial  time.Duration
	Max      time.Duration
}

// DefaultRetry is used when a SinkStep's Retry is the zero value.
var DefaultRetry = Retry{Attempts: 5, Initial: 100 * time.Millisecond, Max: 10 * time.Second}

// RejectLimit fails a step whose skip or dead_letter policy absorbs too
// many rows: a job that rejects half its input is broken, whatever the
// policy says. The zero value sets no limit (on_error: fail allows none).
type RejectLimit struct {
	// Rows fails the run when the step has rejected more than this many rows.
	Rows int64
	// Ratio fails the run when rejected rows exceed this fraction of the
	// rows the step received: checked once it has received
	// RatioMinRows rows, and again when the input ends.
	Ratio float64
}

// RatioMinRows is how many rows a step must have received before a
// RejectLimit ratio is checked during the run, so that one bad row among
// the first ten does not read as 10%.
const RatioMinRows = 1000

func (l RejectLimit) String() string {
	switch {
	case l.Rows > 0 && l.Ratio > 0:
		return fmt.Sprintf("%d rows or %g%%", l.Rows, l.Ratio*100)
	case l.Rows > 0:
		return fmt.Sprintf("%d rows", l.Rows)
	case l.Ratio > 0:
		return fmt.Sprintf("%g%%", l.Ratio*100)
	}
	return "no limit"
}

// exceeded reports, as an error, a step past its limit; final is set for
// the check at the end of the input, when the ratio applies to any count.
func (l RejectLimit) exceeded(step string, m *StepMetrics, final bool) error {
	rejected := m.Skipped.Load() + m.DeadLettered.Load()
	in := m.RowsIn.Load()
	if l.Rows > 0 && rejected > l.Rows {
		return fmt.Errorf("%w: step %s rejected %d rows, more than max_rejects %d", ErrTooManyRejects, step, rejected, l.Rows)
	}
	if l.Ratio > 0 && in > 0 && (final || in >= RatioMinRows) && float64(rejected) > l.Ratio*float64(in) {
		return fmt.Errorf("%w: step %s rejected %d of %d rows (%.2f%%), more than max_rejects %g%%", ErrTooManyRejects, step, rejected, in, 100*float64(rejected)/float64(in), l.Ratio*100)
	}
	return nil
}
