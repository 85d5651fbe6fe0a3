package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/connectors/internal/blob"
	"github.com/dataweaver/dataweaver/engine"
)

// Sink writes one file (or stdout): replaced atomically at the end of
// each run, written in place, or appended to. The engine calls its
// methods from one goroutine.
type Sink struct {
	sinkConfig

	runCtx context.Context
	stream *blob.Stream // nil before Open
	file   *os.File     // nil for stdout
	tmp    string       // temporary name when atomic
	state  atomic.Int32
}

const (
	sinkNew int32 = iota
	sinkOpen
	sinkClosed
)

// ReplacesOutput tells the engine not to resume a pipeline writing here:
// each run replaces the file as a whole, so continuing where the last run
// stopped would replace a complete file with the rest of the input.
// Appending and stdout (a stream, consumed as it goes) continue instead.
func (s *Sink) ReplacesOutput() bool { return !s.append && s.path != "-" }

// CheckWorkers refuses one file appended to by the N workers of a
// coordinated run (split.Checker): each process appends its own buffers,
// which interleave mid-row on a shared file system, and a split redone
// after its worker died is appended again. Stdout is each worker's own.
func (s *Sink) CheckWorkers() error {
	if s.append && s.path != "-" {
		return fmt.Errorf("appends to one file (%s), which N workers would write into at once, mixing their rows mid-line: "+
			"write parts to a directory (a path ending in /) instead", s.path)
	}
	return nil
}

// CheckSchema reports whether the format can write schema (Avro and
// Parquet cannot hold every Arrow type), for weave validate.
func (c *sinkConfig) CheckSchema(schema *arrow.Schema) error {
	if err := blob.Probe(c.format, c.wopts, schema); err != nil {
		return fmt.Errorf("%w: file sink %s: %s cannot write this schema: %w", engine.ErrSchema, c.path, c.format.Name, err)
	}
	return nil
}

// Open creates the output (under a temporary name when atomic, at the end
// of the existing file in append mode) and starts the format's stream.
func (s *Sink) Open(ctx context.Context, schema *arrow.Schema) (err error) {
	if !s.state.CompareAndSwap(sinkNew, sinkOpen) {
		return errors.New("file sink: Open called twice")
	}
	s.runCtx = ctx
	var file *os.File
	wopts := s.wopts
	if s.path != "-" {
		if s.append {
			file, wopts, err = s.openAppend(schema)
		} else {
			file, err = s.create()
		}
		if err != nil {
			s.state.Store(sinkClosed)
			return fmt.Errorf("file sink: %w", err)
		}
	}
	s.file = file
	s.stream, err = newStream(s.path, file, &s.sinkConfig, schema, wopts, s.append, s.sync || s.append)
	if err != nil {
		if file != nil {
			file.Close()
			if s.tmp != "" {
				os.Remove(s.tmp)
			}
		}
		s.state.Store(sinkClosed)
		return fmt.Errorf("file sink: %w", err)
	}
	return nil
}

func (s *Sink) create() (*os.File, error) {
	if s.mkdir {
		if err := os.MkdirAll(filepath.Dir(s.path), 0o777); err != nil {
			return nil, err
		}
	}
	if !s.overwrite {
		if _, err := os.Lstat(s.path); err == nil {
			return nil, fmt.Errorf("%s: %w and overwrite is false", s.path, fs.ErrExist)
		}
	}
	if !s.atomic {
		flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if !s.overwrite {
			flags |= os.O_EXCL
		}
		return os.OpenFile(s.path, flags, 0o666)
	}
	// OpenFile with 0666 rather than os.CreateTemp (0600), so the file
	// ends up with the permissions a plain create would give it.
	dir, base := filepath.Split(s.path)
	for i := 0; ; i++ {
		s.tmp = filepath.Join(dir, "."+base+".weave-tmp-"+strconv.FormatInt(time.Now().UnixNano()+int64(i), 36))
		f, err := os.OpenFile(s.tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) && i < 100 {
			continue
		}
		return f, err
	}
}

// Write encodes rec. Errors are permanent: after a partial write the
// stream (above all a compressed one) is in an unknown state, and writing
// the batch again would corrupt the file rather than repair it.
func (s *Sink) Write(_ context.Context, rec arrow.RecordBatch) error {
	if s.state.Load() != sinkOpen || s.stream == nil {
		return engine.Permanent(errors.New("file sink: Write outside Open and Close"))
	}
	if err := s.stream.Write(rec); err != nil {
		return engine.Permanent(fmt.Errorf("file sink: %w", err))
	}
	return nil
}

// Flush pushes everything written through the format, the compressor and
// the buffer to the OS (and to the disk with sync or append).
func (s *Sink) Flush(context.Context) error {
	if s.state.Load() != sinkOpen || s.stream == nil {
		return nil
	}
	if err := s.stream.Flush(); err != nil {
		return engine.Permanent(fmt.Errorf("file sink: %w", err))
	}
	return nil
}

// CommitsOnClose tells the engine to acknowledge batches only after Close
// succeeded when nothing before Close is durable at the target: an atomic
// write appears only when renamed into place, and a Parquet file is
// unreadable until its footer is written. Plain appending text written in
// place (or to stdout) is durable at each Flush.
func (s *Sink) CommitsOnClose() bool {
	return (s.atomic && !s.append && s.path != "-") || s.format.Name == "parquet"
}

// Abort discards the output: the temporary file is removed (an in-place
// or appended file is left as far as it got). Close after Abort does
// nothing.
func (s *Sink) Abort() {
	if s.state.CompareAndSwap(sinkOpen, sinkClosed) {
		s.stream.Discard()
		if s.file != nil {
			s.file.Close()
		}
		if s.tmp != "" {
			os.Remove(s.tmp)
		}
	}
}

// Close finishes the stream (footer, end marker), flushes and, when the
// run succeeded, moves the file into place. A sink whose writes failed, or
// whose run was cancelled or failed (the engine cancels the context given
// to Open before closing sinks), discards its temporary file instead.
func (s *Sink) Close() error {
	if !s.state.CompareAndSwap(sinkOpen, sinkClosed) {
		return nil
	}
	if s.append && s.runCtx.Err() != nil {
		// The run failed: rows since the last flush were never
		// acknowledged and will be read again; keep those still held
		// (up to blob.HoldLimit bytes of them) out of the file.
		s.stream.Discard()
		if s.file != nil {
			s.file.Close()
		}
		return nil
	}
	err := s.stream.Finish()
	if s.file == nil {
		return err
	}
	if s.tmp == "" {
		return errors.Join(err, s.file.Close())
	}
	if cerr := s.file.Close(); err == nil {
		err = cerr
	}
	if err != nil || s.stream.Failed() != nil || s.runCtx.Err() != nil {
		os.Remove(s.tmp)
		if err != nil {
			return fmt.Errorf("file sink: %s: %w; nothing was written", s.path, err)
		}
		return nil
	}
	if err := s.commit(); err != nil {
		os.Remove(s.tmp)
		return fmt.Errorf("file sink: %w", err)
	}
	return nil
}

// commit renames the temporary file into place. Without overwrite it
// links instead, which fails if the target appeared during the run,
// rather than silently replacing it.
func (s *Sink) commit() error {
	if !s.overwrite {
		err := os.Link(s.tmp, s.path)
		switch {
		case err == nil:
			return os.Remove(s.tmp)
		case errors.Is(err, fs.ErrExist):
			return fmt.Errorf("%s appeared during the run and overwrite is false: %w", s.path, err)
		}
		// No hard links here (some network and FUSE filesystems): fall
		// back to a check then rename, with a small race.
		if _, err := os.Lstat(s.path); err == nil {
			return fmt.Errorf("%s appeared during the run and overwrite is false: %w", s.path, fs.ErrExist)
		}
	}
	if err := os.Rename(s.tmp, s.path); err != nil {
		return err
	}
	if s.sync {
		// The rename is durable only once its directory is synced.
		return syncDir(filepath.Dir(s.path))
	}
	return nil
}
