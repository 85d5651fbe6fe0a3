// Package progress draws the live status line `weave run` shows on a
// terminal: rows, rows per second, bytes, elapsed time and, when the source
// knows its size, a bar with percent and time left.
//
// # Testing
//
// [Line] is a pure function of a [Stats] reading and a width, so its
// output is tested exactly; [Meter] only adds the ticker and the terminal
// control codes around it.
//
// # Logs
//
// Log records written while the line is shown would land in the middle of
// it. [Meter.Writer] wraps the log destination so each record first clears
// the line and redraws it after.
package progress
