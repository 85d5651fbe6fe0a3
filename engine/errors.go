package engine

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel categories; every error the engine returns wraps one of them with
// context (step name, file, line, row).
var (
	// ErrInvalidConfig: a pipeline or connector configuration is wrong.
	ErrInvalidConfig = errors.New("invalid configuration")
	// ErrEndOfInput is returned by Source.Read when the source is exhausted.
	ErrEndOfInput = errors.New("end of input")
	// ErrSchema: a step cannot accept the schema it is given.
	ErrSchema = errors.New("schema mismatch")
	// ErrRejected: rows failed under the fail policy.
	ErrRejected = errors.New("rows rejected")
	// ErrTooManyRejects is a step that rejected more rows than its
	// RejectLimit allows.
	ErrTooManyRejects = errors.New("too many rows rejected")
	// ErrRuntime marks every error Run returns after all steps opened: the
	// run failed while moving data, even when the cause wraps ErrSchema (a
	// later file of a glob with other columns) or ErrInvalidConfig. A
	// caller telling configuration errors from runtime failures (weave's
	// exit codes 2 and 1) checks it first.
	ErrRuntime = errors.New("failed while running")
)

// runtimeError marks err as ErrRuntime without changing its message.
type runtimeError struct{ err error }

func (e runtimeError) Error() string        { return e.err.Error() }
func (e runtimeError) Unwrap() error        { return e.err }
func (e runtimeError) Is(target error) bool { return target == ErrRuntime }

// RowError is one row a step could not handle. The step fills what it
// knows; the engine adds the step name.
type RowError struct {
	Step   string // step (source, stage or sink) name
	File   string // input file, when the row came from one
	Line   int64  // 1-based line or record number in File
	Row    int    // row index in the batch the step received (stages, sinks)
	Column string // offending column, if known
	Raw    []byte // the row as read (sources) — kept for the dead-letter record
	Err    error
}

func (e *RowError) Error() string {
	var b strings.Builder
	if e.Step != "" {
		fmt.Fprintf(&b, "%s: ", e.Step)
	}
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		fmt.Fprintf(&b, "%s: ", e.File)
	default:
		fmt.Fprintf(&b, "row %d: ", e.Row)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, "column %q: ", e.Column)
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *RowError) Unwrap() error { return e.Err }

// permanent marks a sink error that retrying cannot fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err so the engine does not retry the write that returned it.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err (or an error it wraps) was marked
// Permanent or Fatal.
func IsPermanent(err error) bool {
	var p permanent
	var f fatal
	return errors.As(err, &p) || errors.As(err, &f)
}

type fatal struct{ err error }

func (f fatal) Error() string { return f.err.Error() }
func (f fatal) Unwrap() error { return f.err }

// Fatal wraps err so that no error policy absorbs it: the write is not
// retried and the run fails even under skip or dead_letter. A sink uses it
// when the failure is not the batch's fault and the batch must not be
// counted as handled (an exactly-once transaction that was lost: the
// restart writes the batch again, and it must not also sit in the
// dead-letter sink).
func Fatal(err error) error {
	if err == nil {
		return nil
	}
	return fatal{err}
}

// IsFatal reports whether err (or an error it wraps) was marked Fatal.
func IsFatal(err error) bool {
	var f fatal
	return errors.As(err, &f)
}
