// Package cli is the `weave` command: its commands, flags, exit codes,
// signal handling and progress line. cmd/weave only wires it to the
// process, so tests run the whole command in-process through [Main].
//
// # Exit codes
//
//	0  success (also after a graceful drain on the first Ctrl-C)
//	1  the pipeline failed while running
//	2  usage error (unknown flag or command, missing argument) or a
//	   configuration error: anything wrapping engine.ErrInvalidConfig or
//	   engine.ErrSchema before the run starts, which re-running will not
//	   fix (once every step is open, a failure is engine.ErrRuntime: 1)
//	130, 143  aborted by a second SIGINT (Ctrl-C) or SIGTERM: 128 plus the
//	   signal's number, as a shell reports a process the signal killed
//
// Errors are printed to stderr as "weave: <message>", one line per
// problem, so a pipeline file with four mistakes shows four lines each
// starting with file:line:col. Under --log-format json the error is one
// JSON log record (level ERROR, with exit_code) instead.
//
// # Progress and summary
//
// On a terminal, run draws a status line (internal/progress.Meter);
// otherwise it logs a "progress" record every --progress-every
// (progress.Ticker). The summary goes to stderr, never stdout (a sink may
// write there): the text table of engine.Metrics.WriteSummary, or with
// --log-format json one "run summary" record holding engine.Summary; a
// WARN record follows when any step skipped or dead-lettered rows.
//
// # Signals
//
// The first SIGINT or SIGTERM closes the pipeline's Drain channel: the
// source stops, batches in flight finish and sinks flush. The second
// cancels the run's context and aborts: sinks discard what they wrote (the
// file sink removes its temporary file) and weave exits with 128 plus the
// signal's number. A third signal gets Go's default: the process dies at
// once, without cleaning up.
//
// A Wasm stage with timeout: 0 and interruptible: false is compiled without
// wazero's interruption checks, and a guest looping in it never reaches a point where Go can
// preempt it: once Go's garbage collector needs to stop the world (or when
// every processor runs such a loop) no goroutine runs, signals are queued
// but never handled, and only SIGKILL ends the process.
package cli
