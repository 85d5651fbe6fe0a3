package engine

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/dataweaver/dataweaver/internal/progress"
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
	// Retries counts a sink's writes and flushes tried again.
	Retries atomic.Int64
	// Latency times each batch: a source's Read, a stage's Process, a
	// sink's Write (with its retries).
	Latency Histogram
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
	// Limit is the pipeline's row limit (Pipeline.Limit) and LimitReached
	// is set when it stopped the source.
	Limit        int64
	LimitReached atomic.Bool

	mu  sync.Mutex
	end string // last position saved

	live live // for monitoring: see observe.go
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

// WriteSummary prints the per-step table (counts with thousands
// separators, input bytes in binary units), the wall time and rate, a
// line naming the steps that skipped or dead-lettered rows, and where the
// run started and stopped.
func (m *Metrics) WriteSummary(w io.Writer) {
	s := m.Summary()
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\tkind\trows in\trows out\tskipped\tdead-lettered\tbatches\tbytes\t")
	for _, st := range s.Steps {
		// Only sources count bytes (what they read); a blank says "not
		// counted" where 0 B would claim nothing was written.
		b := ""
		if st.Bytes > 0 {
			b = progress.Bytes(st.Bytes)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", st.Name, st.Kind, progress.Grouped(st.RowsIn),
			progress.Grouped(st.RowsOut), progress.Grouped(st.Skipped), progress.Grouped(st.DeadLettered),
			progress.Grouped(st.Batches), b)
	}
	tw.Flush()
	for _, line := range strings.SplitAfter(table.String(), "\n") {
		io.WriteString(w, strings.TrimRight(line, " \n"))
		if strings.HasSuffix(line, "\n") {
			io.WriteString(w, "\n")
		}
	}
	fmt.Fprintf(w, "wall time %s, %s rows/s\n", time.Duration(s.WallTime*float64(time.Second)).Round(time.Millisecond),
		progress.Grouped(int64(s.RowsPerSecond)))
	if skipped, dead := s.Rejected(); skipped != "" || dead != "" {
		// A run that dropped rows exits 0 under on_error: skip; this line
		// is what tells the user, right under the table.
		var parts []string
		if skipped != "" {
			parts = append(parts, fmt.Sprintf("%s %s skipped (%s)", progress.Grouped(s.Skipped), progress.Plural(s.Skipped, "row", "rows"), skipped))
		}
		if dead != "" {
			parts = append(parts, fmt.Sprintf("%s %s dead-lettered (%s)", progress.Grouped(s.DeadLettered), progress.Plural(s.DeadLettered, "row", "rows"), dead))
		}
		fmt.Fprintf(w, "%s\n", strings.Join(parts, "; "))
	}
	if s.StartPosition != "" {
		fmt.Fprintf(w, "started at %s\n", s.StartPosition)
	}
	if s.LimitReached {
		fmt.Fprintf(w, "stopped after the limit of %s rows\n", progress.Grouped(s.Limit))
	}
	if s.EndPosition != "" {
		fmt.Fprintf(w, "position saved: %s\n", s.EndPosition)
	}
}
