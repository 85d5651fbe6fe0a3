package engine

import (
	"fmt"
	"strings"
	"time"
)

// Summary is a run's end-of-run account as plain values: what
// Metrics.WriteSummary prints as a table, in a form that encodes to JSON
// (weave run --log-format json writes it so). The engine fills in what
// the metrics know; the caller adds how the process ends (Exit, ExitCode).
type Summary struct {
	Pipeline string        `json:"pipeline,omitempty"`
	Steps    []StepSummary `json:"steps"`
	// WallTime is in seconds; RowsPerSecond is the source's rows out over it.
	WallTime      float64 `json:"wall_time_s"`
	RowsPerSecond float64 `json:"rows_per_s"`
	// Skipped and DeadLettered add up every step's.
	Skipped      int64 `json:"skipped"`
	DeadLettered int64 `json:"dead_lettered"`
	// StartPosition is where reading started, EndPosition the last
	// position saved ("" if none), Positions where they are kept.
	StartPosition string `json:"start_position,omitempty"`
	EndPosition   string `json:"end_position,omitempty"`
	Positions     string `json:"positions,omitempty"`
	// Interrupted: a drain (first Ctrl-C) stopped the source before its end.
	Interrupted bool     `json:"interrupted"`
	Abandoned   []string `json:"abandoned,omitempty"`
	// Limit is the run's row limit (0 for none); LimitReached that it
	// stopped the source.
	Limit        int64 `json:"limit,omitempty"`
	LimitReached bool  `json:"limit_reached,omitempty"`
	// Exit says why the run ended ("end of input", "limit", "interrupted",
	// "failed: …"), ExitCode the process's exit code.
	Exit     string `json:"exit,omitempty"`
	ExitCode int    `json:"exit_code"`
}

// StepSummary is one step's counters at the end of a run.
type StepSummary struct {
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	RowsIn       int64  `json:"rows_in"`
	RowsOut      int64  `json:"rows_out"`
	Skipped      int64  `json:"skipped"`
	DeadLettered int64  `json:"dead_lettered"`
	Batches      int64  `json:"batches"`
	// Bytes is what a source read (StepMetrics.Bytes); 0 where a step
	// does not count bytes, which today is every step but the source.
	Bytes int64 `json:"bytes"`
}

// Summary reads the counters once into a Summary. Exit is "end of
// input", "limit" or "interrupted" as the engine saw the run end; a
// caller that knows it failed says so.
func (m *Metrics) Summary() Summary {
	s := Summary{
		StartPosition: m.StartPosition,
		EndPosition:   m.EndPosition(),
		Positions:     m.Positions,
		Interrupted:   m.Interrupted.Load(),
		Abandoned:     m.Abandoned,
		Limit:         m.Limit,
		LimitReached:  m.LimitReached.Load(),
		Exit:          "end of input",
	}
	for _, st := range m.Steps {
		ss := StepSummary{
			Name: st.Name, Kind: st.Kind,
			RowsIn: st.RowsIn.Load(), RowsOut: st.RowsOut.Load(),
			Skipped: st.Skipped.Load(), DeadLettered: st.DeadLettered.Load(),
			Batches: st.Batches.Load(), Bytes: st.Bytes.Load(),
		}
		s.Skipped += ss.Skipped
		s.DeadLettered += ss.DeadLettered
		s.Steps = append(s.Steps, ss)
	}
	el := m.Elapsed()
	s.WallTime = el.Round(time.Millisecond).Seconds()
	if len(s.Steps) > 0 && el > 0 {
		s.RowsPerSecond = float64(int64(float64(s.Steps[0].RowsOut) / el.Seconds()))
	}
	switch {
	case s.Interrupted:
		s.Exit = "interrupted"
	case s.LimitReached:
		s.Exit = "limit"
	}
	return s
}

// Rejected names the steps that skipped or dead-lettered rows, with their
// counts ("source.file 2, mask 1"), for the warning at the end of a run;
// "" when no row was rejected.
func (s Summary) Rejected() (skipped, deadLettered string) {
	var sk, dl []string
	for _, st := range s.Steps {
		if st.Skipped > 0 {
			sk = append(sk, fmt.Sprintf("%s %d", st.Name, st.Skipped))
		}
		if st.DeadLettered > 0 {
			dl = append(dl, fmt.Sprintf("%s %d", st.Name, st.DeadLettered))
		}
	}
	return strings.Join(sk, ", "), strings.Join(dl, ", ")
}
