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
