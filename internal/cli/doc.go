// Package cli is the `weave` command: its commands, flags, exit codes,
// signal handling and progress line. cmd/weave only wires it to the
// process, so tests run the whole command in-process through [Main].
//
// # Exit codes
//
//	0  success (also after a graceful drain on the first Ctrl-C)
//	1  the pipeline failed while running, or was aborted by a second Ctrl-C
//	2  usage error (unknown flag or command, missing argument) or a
//	   configuration error: anything wrapping engine.ErrInvalidConfig or
//	   engine.ErrSchema, which re-running will not fix
//
// Errors are printed to stderr as "weave: <message>", one line per
// problem, so a pipeline file with four mistakes shows four lines each
// starting with file:line:col.
//
// # Signals
//
// The first SIGINT or SIGTERM closes the pipeline's Drain channel: the
// source stops, batches in flight finish and sinks flush. The second
// cancels the run's context and aborts.
package cli
