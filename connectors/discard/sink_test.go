package discard

import (
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

func TestConformance(t *testing.T) {
	var last *Sink
	conformance.RunSink(t, conformance.SinkHarness{
		New: func(t *testing.T, b engine.Build) (engine.Sink, conformance.ReadBack) {
			last = New()
			return last, nil
		},
	})
	// SlicedRecords is the last case: 5*8+3 rows in slices of 1, 3, 5, …
	if last.Rows() != 43 || last.Batches() != 7 {
		t.Errorf("counted %d rows in %d batches, want 43 in 7", last.Rows(), last.Batches())
	}
}

func TestRegistered(t *testing.T) {
	p := engine.DefaultEnvironment().Lookup(engine.KindSink, "discard")
	if p == nil {
		t.Fatal("discard sink not registered")
	}
	conf, errs := p.Spec.Parse(nil, "", "sinks[0].discard")
	if errs != nil {
		t.Fatal(errs)
	}
	if _, err := p.NewSink(conf, engine.Build{}); err != nil {
		t.Fatal(err)
	}
}
