package coordinator

import (
	"errors"
	"fmt"

	"github.com/dataweaver/dataweaver/connectors/coordinator/split"
	"github.com/dataweaver/dataweaver/engine"
)

// Check says whether p, a pipeline of a coordinated file, can run as one
// of N workers, before any worker connects: its source must read splits
// (split.Source), and each sink must take the rows of one split at a time
// from N processes. It refuses a sink that replaces one whole file (every
// split would replace it), one that keeps the pipeline's positions itself
// (one position per pipeline, where the workers keep one per split) and
// one that refuses N writers (split.Checker), naming each. Sinks that
// write parts per split (split.Sink) or by key (split.Idempotent) keep
// one copy of a redone split's rows; for every other sink it returns a
// note saying that a split redone after its worker died reaches it again,
// whole.
func Check(p *engine.Pipeline) (notes []string, err error) {
	var errs []error
	if _, ok := p.Source.Source.(split.Source); !ok {
		errs = append(errs, fmt.Errorf("%w: source %s cannot be read in splits, so N workers cannot share it: "+
			"remove the coordinator section (a Kafka or JetStream source scales with its group or durable consumer instead)",
			engine.ErrInvalidConfig, p.Source.Name))
	}
	sinks := p.Sinks
	if p.DeadLetter != nil {
		// The dead letters of every split go to the one dead-letter sink:
		// one file would be replaced by each split as well.
		sinks = append(sinks[:len(sinks):len(sinks)], engine.SinkStep{Name: "dead_letter", Sink: p.DeadLetter})
	}
	for _, sk := range sinks {
		why, note := checkSink(sk.Sink)
		switch {
		case why != "":
			errs = append(errs, fmt.Errorf("%w: sink %s %s", engine.ErrInvalidConfig, sk.Name, why))
		case note:
			notes = append(notes, fmt.Sprintf("sink %s gets the rows of a split again when the split is redone after its worker died "+
				"(at least once, a whole split at a time); for one copy write parts to a directory or bucket prefix (a path ending in /) "+
				"or use a sink that writes by key (postgres mode: upsert)", sk.Name))
		}
	}
	return notes, errors.Join(errs...)
}

// checkSink says why s cannot be a coordinated run's sink ("" when it
// can), and whether a redone split's rows reach it twice.
func checkSink(s engine.Sink) (why string, twice bool) {
	if _, ok := s.(engine.PositionKeeper); ok {
		return "keeps the pipeline's positions itself (exactly_once), one for the whole pipeline, while the workers keep one per split " +
			"in the coordinator's bucket: use mode: upsert with key columns instead, which rewrites a redone split's rows in place", false
	}
	if r, ok := s.(engine.OutputReplacer); ok && r.ReplacesOutput() {
		return "replaces one output file, which every split would replace again: write parts to a directory (a path ending in /) instead", false
	}
	if c, ok := s.(split.Checker); ok {
		if err := c.CheckWorkers(); err != nil {
			return err.Error(), false
		}
	}
	if _, ok := s.(split.Sink); ok {
		return "", false
	}
	if i, ok := s.(split.Idempotent); ok && i.IdempotentWrites() {
		return "", false
	}
	return "", true
}
