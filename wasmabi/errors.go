package wasmabi

import (
	"errors"
	"fmt"

	"github.com/dataweaver/dataweaver/internal/guesttext"
)

// Sentinel categories wrapped by every error this package returns.
var (
	// ErrABIVersion: the module speaks another ABI version.
	ErrABIVersion = errors.New("ABI version mismatch")
	// ErrModule: the module cannot be used (missing export, unknown import, bad binary).
	ErrModule = errors.New("unusable module")
	// ErrGuestTrap: the guest trapped, panicked, exited or ran out of memory.
	ErrGuestTrap = errors.New("guest trapped")
	// ErrGuestTimeout: a guest call ran past its timeout and was stopped.
	ErrGuestTimeout = errors.New("guest call timed out")
	// ErrGuestOutput: the guest returned buffers that failed validation.
	ErrGuestOutput = errors.New("invalid guest output")
	// ErrGuestFailed: the guest reported that it could not process the batch.
	ErrGuestFailed = errors.New("guest failed the batch")
)

// GuestError is a failure inside or at the boundary of a guest call.
type GuestError struct {
	Stage  string // pipeline step name
	Module string // module file name
	Export string // the export being called
	// Batch counts the stage's batches from 1; Rows is the batch's row count,
	// so the failing rows are 0..Rows-1 of that batch.
	Batch int64
	Rows  int
	Err   error // wraps one of the sentinels
}

// Error escapes control characters in the whole message: it carries
// text the guest wrote (its stderr, its failure reason), and a user reads
// it on a terminal or in a JSON log.
func (e *GuestError) Error() string {
	where := fmt.Sprintf("%s: module[%s] function[%s]", e.Stage, e.Module, e.Export)
	if e.Batch > 0 {
		where += fmt.Sprintf(" batch %d (rows 0-%d)", e.Batch, max(e.Rows-1, 0))
	}
	return guesttext.Escape(where + ": " + e.Err.Error())
}

func (e *GuestError) Unwrap() error { return e.Err }
