package engine

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// StepMetrics counts what went through one step. Fields are updated
// atomically while the pipeline runs.
type StepMetrics struct {
	Name         string
	Kind         string // source, stage or sink
	RowsIn       atomic.Int64
	RowsOut      atomic.Int64
	Skipped      atomic.Int64
	DeadLettered atomic.Int64
	Batches      atomic.Int64
	Bytes        atomic.Int64 // input bytes (sources)
}

// Metrics is the live account of a pipeline run.
type Metrics struct {
	Start time.Time
	End   atomic.Int64 // unix nanos when the run ended, 0 while running
	Steps []*StepMetrics
	// Source is set when the source reports its size (for a progress bar).
	Source Sized

	// StartPosition says where the run started reading: "the start (…)"
	// or the saved position it resumed from (set before the source opens).
	StartPosition string
	// Resumed is set when the source continued from a saved position.
	Resumed bool
	// Positions says where positions are kept, or why they are not used.
	Positions string
	// Interrupted is set when Drain stopped the source before its end.
	Interrupted atomic.Bool
	// Abandoned lists the sinks whose output an interrupted run threw away
	// (their earlier output, if any, is untouched).
	Abandoned []string

	mu  sync.Mutex
	end string // last position saved
}

// EndPosition is the last position this run saved, "" if none.
func (m *Metrics) EndPosition() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.end
}

func (m *Metrics) setEnd(s string) {
	m.mu.Lock()
	m.end = s
	m.mu.Unlock()
}

// Step returns the metrics of the step called name, or nil.
func (m *Metrics) Step(name string) *StepMetrics {
	for _, s := range m.Steps {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Elapsed is the wall time so far, or of the whole run once it ended.
func (m *Metrics) Elapsed() time.Duration {
	if e := m.End.Load(); e != 0 {
		return time.Unix(0, e).Sub(m.Start)
	}
	return time.Since(m.Start)
}

// WriteSummary prints the per-step table and wall time.
func (m *Metrics) WriteSummary(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\tkind\trows in\trows out\tskipped\tdead-lettered\tbatches\t")
	for _, s := range m.Steps {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t\n", s.Name, s.Kind, s.RowsIn.Load(), s.RowsOut.Load(),
			s.Skipped.Load(), s.DeadLettered.Load(), s.Batches.Load())
	}
	tw.Flush()
	el := m.Elapsed()
	var rows int64
	if len(m.Steps) > 0 {
		rows = m.Steps[0].RowsOut.Load()
	}
	rate := 0.0
	if el > 0 {
		rate = float64(rows) / el.Seconds()
	}
	fmt.Fprintf(w, "wall time %s, %.0f rows/s\n", el.Round(time.Millisecond), rate)
	if m.StartPosition != "" {
		fmt.Fprintf(w, "started at %s\n", m.StartPosition)
	}
	if end := m.EndPosition(); end != "" {
		fmt.Fprintf(w, "position saved: %s\n", end)
	}
}
