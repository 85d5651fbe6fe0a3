package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/progress"
)

// writeSummary ends a run's output on stderr: the table (or, under
// --log-format json, one JSON object in the shape of the log records
// around it), then a warning when rows were skipped or dead-lettered.
// Stdout stays the sinks' (a file sink may write to -).
func (w *weave) writeSummary(pipeline string, m *engine.Metrics, err error) {
	s := m.Summary()
	s.Pipeline = pipeline
	s.ExitCode = ExitCode(err)
	if err != nil {
		s.Exit = exitReason(err)
	}
	if w.jsonLogs {
		w.writeSummaryJSON(s)
	} else {
		m.WriteSummary(w.opts.Stderr)
	}
	w.warnRejected(w.logger, s)
}

// writeRunSummary is weave serve's account of one run of one pipeline,
// written when the run ends: the figures weave run's table holds, as one
// log record (with --log-format json the same object weave run writes),
// so the runs of many pipelines interleave line by line in one log. Like
// weave run's table it is written whatever --log-level says. halted says
// why serve drained the run ("" when it did not).
func (w *weave) writeRunSummary(pipeline string, m *engine.Metrics, err error, halted string) {
	s := m.Summary()
	s.Pipeline = pipeline
	s.ExitCode = ExitCode(err)
	switch {
	case err != nil:
		s.Exit = "failed: " + firstLine(err)
	case s.Interrupted && halted != "":
		s.Exit = "drained: " + halted
	}
	if w.jsonLogs {
		w.writeSummaryJSON(s)
		// Under serve many pipelines share the log: say whose rows.
		w.warnRejected(w.logger.With("pipeline", s.Pipeline), s)
		return
	}
	attrs := []slog.Attr{slog.String("pipeline", s.Pipeline), slog.String("exit", s.Exit),
		slog.Float64("wall_time_s", s.WallTime), slog.Float64("rows_per_s", s.RowsPerSecond),
		slog.Int64("skipped", s.Skipped), slog.Int64("dead_lettered", s.DeadLettered)}
	for _, st := range s.Steps {
		step := []any{slog.String("kind", st.Kind), slog.Int64("rows_in", st.RowsIn), slog.Int64("rows_out", st.RowsOut),
			slog.Int64("skipped", st.Skipped), slog.Int64("dead_lettered", st.DeadLettered), slog.Int64("batches", st.Batches)}
		if st.Kind == engine.KindSource {
			step = append(step, slog.Int64("bytes", st.Bytes))
		}
		attrs = append(attrs, slog.Group(st.Name, step...))
	}
	if s.EndPosition != "" {
		attrs = append(attrs, slog.String("end_position", s.EndPosition))
	}
	// A handler of its own, without the level filter: the summary is the
	// run's result, not a diagnostic --log-level warn may hide.
	slog.New(slog.NewTextHandler(w.stderr, nil)).LogAttrs(context.Background(), slog.LevelInfo, summaryMessage, attrs...)
	w.warnRejected(w.logger.With("pipeline", s.Pipeline), s)
}

// exitReason says in a few words why a run that returned err ended.
func exitReason(err error) string {
	var ae *abortError
	if errors.As(err, &ae) {
		sig := "a signal"
		switch ae.sig {
		case nil:
		case os.Interrupt:
			sig = "SIGINT"
		case syscall.SIGTERM:
			sig = "SIGTERM"
		default:
			sig = ae.sig.String()
		}
		if ae.drained {
			return "interrupted by " + sig
		}
		return "aborted by " + sig
	}
	return "failed: " + firstLine(err)
}

// summaryMessage is the msg of the JSON summary record.
const summaryMessage = "run summary"

// writeSummaryJSON writes s as one line: a log record (time, level, msg)
// whose other keys are the Summary's own, so `jq 'select(.msg == "run
// summary")'` finds it among the progress records. It is written whatever
// --log-level says, as the text table is.
func (w *weave) writeSummaryJSON(s any) {
	body, err := json.Marshal(s)
	if err != nil {
		// A Summary holds strings and numbers only; this would be a bug.
		w.logger.Error("cannot encode the run summary", "error", err)
		return
	}
	head, err := json.Marshal(struct {
		Time  string `json:"time"`
		Level string `json:"level"`
		Msg   string `json:"msg"`
	}{time.Now().Format(time.RFC3339Nano), slog.LevelInfo.String(), summaryMessage})
	if err != nil {
		return
	}
	// {"time":…,"msg":"run summary"} + {"pipeline":…} → one object.
	line := append(head[:len(head)-1:len(head)-1], ',')
	line = append(line, body[1:]...)
	line = append(line, '\n')
	_, _ = w.opts.Stderr.Write(line)
}

// warnRejected makes rows a run dropped impossible to miss: under
// on_error: skip the run still exits 0, and a count in a table is easy to
// read past. The steps are named so the user knows where to look.
func (w *weave) warnRejected(log *slog.Logger, s engine.Summary) {
	skipped, dead := s.Rejected()
	if skipped == "" && dead == "" {
		return
	}
	var msg []string
	attrs := []slog.Attr{}
	if skipped != "" {
		msg = append(msg, fmt.Sprintf("%s rows skipped (%s)", progress.Grouped(s.Skipped), skipped))
		attrs = append(attrs, slog.Int64("skipped", s.Skipped), slog.String("skipped_by", skipped))
	}
	if dead != "" {
		msg = append(msg, fmt.Sprintf("%s rows dead-lettered (%s)", progress.Grouped(s.DeadLettered), dead))
		attrs = append(attrs, slog.Int64("dead_lettered", s.DeadLettered), slog.String("dead_lettered_by", dead))
	}
	log.LogAttrs(context.Background(), slog.LevelWarn, strings.Join(msg, "; "), attrs...)
}
