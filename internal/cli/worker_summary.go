package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/dataweaver/dataweaver/connectors/coordinator"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/progress"
)

// workerSummary is a coordinated worker's run summary under
// --log-format json: weave run's fields (the steps' counters added up
// over the splits it read) and the splits themselves.
type workerSummary struct {
	engine.Summary
	Worker        string         `json:"worker"`
	SplitsPlanned int            `json:"splits_planned"`
	SplitsRead    int            `json:"splits_read"`
	SplitsRedone  int            `json:"splits_redone"`
	SplitsSkipped int            `json:"splits_skipped"`
	Splits        []splitSummary `json:"splits"`
}

// splitSummary is one split a worker read to its end.
type splitSummary struct {
	ID      string  `json:"id"`
	Text    string  `json:"text,omitempty"`
	Rows    int64   `json:"rows"`
	Redone  bool    `json:"redone"`
	Seconds float64 `json:"seconds"`
}

// maxSplitLines bounds the splits the text summary lists: a worker of a
// job of many thousand splits does not fill a terminal with them (the
// JSON summary lists them all).
const maxSplitLines = 20

// writeWorkerSummary ends a worker's output on stderr: what it did with
// the job's splits, the splits it read, and weave run's step table added
// up over them (total is nil when it read none).
func (w *weave) writeWorkerSummary(pipeline string, res coordinator.Result, total *engine.Metrics, wall time.Duration, err error) {
	s := engine.Summary{Exit: "no split left"}
	if total != nil {
		s = total.Summary()
		s.Exit = "no split left"
		s.Interrupted = false
	}
	s.Pipeline = pipeline
	s.WallTime = wall.Round(time.Millisecond).Seconds()
	s.ExitCode = ExitCode(err)
	if err != nil {
		s.Exit = exitReason(err)
	}
	ws := workerSummary{Summary: s, Worker: res.Worker, SplitsPlanned: res.Planned, SplitsRead: res.Splits,
		SplitsRedone: res.Redone, SplitsSkipped: res.Skipped, Splits: []splitSummary{}}
	for _, r := range res.Read {
		ws.Splits = append(ws.Splits, splitSummary{ID: r.ID, Text: r.Text, Rows: r.Rows, Redone: r.Redone,
			Seconds: r.Duration.Round(time.Millisecond).Seconds()})
	}
	if w.jsonLogs {
		w.writeSummaryJSON(ws)
	} else {
		writeWorkerText(w.opts.Stderr, ws, res, total)
	}
	w.warnRejected(w.logger, s)
}

// writeWorkerText is the text summary: a line on the job's splits, one
// per split read, then the step table.
func writeWorkerText(out io.Writer, ws workerSummary, res coordinator.Result, total *engine.Metrics) {
	fmt.Fprintf(out, "worker %s of %s: read %d %s (%d redone), skipped %d finished before, planned %d; %s %s in %s; %s\n",
		ws.Worker, ws.Pipeline, ws.SplitsRead, progress.Plural(int64(ws.SplitsRead), "split", "splits"), ws.SplitsRedone,
		ws.SplitsSkipped, ws.SplitsPlanned, progress.Grouped(res.Rows), progress.Plural(res.Rows, "row", "rows"),
		time.Duration(ws.WallTime*float64(time.Second)), ws.Exit)
	for i, r := range res.Read {
		if i == maxSplitLines {
			fmt.Fprintf(out, "  … and %d more splits (--log-format json lists them all)\n", len(res.Read)-i)
			break
		}
		redo := ""
		if r.Redone {
			redo = ", redone"
		}
		fmt.Fprintf(out, "  split %s: %s %s in %s%s\n", r.ID, progress.Grouped(r.Rows), progress.Plural(r.Rows, "row", "rows"),
			r.Duration.Round(time.Millisecond), redo)
	}
	if total != nil {
		total.WriteSummary(out)
	}
}
