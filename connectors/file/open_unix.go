//go:build unix

package file

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// openFile opens a named input for reading; pipe is what the source's
// listing stat found (no second stat here). A regular file gets a plain
// os.Open. A named pipe's open(2) sleeps in the kernel until a process
// opens the write end, and neither a signal nor a context wakes it, so
// weave would ignore a Ctrl-C during start-up for as long as no writer
// comes: the open runs in a goroutine and a cancelled ctx releases it.
func openFile(ctx context.Context, name string, pipe bool) (*os.File, error) {
	if !pipe {
		return os.Open(name)
	}
	return openFIFO(ctx, name)
}

// releaseEvery is how often a cancelled openFIFO tries again to release
// its goroutine's open when the goroutine has not entered open(2) yet.
const releaseEvery = 5 * time.Millisecond

func openFIFO(ctx context.Context, name string) (*os.File, error) {
	if ctx.Err() != nil {
		return nil, fifoCancelled(ctx, name)
	}
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.Open(name)
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		return o.f, o.err
	case <-ctx.Done():
	}
	// Opening the write end without blocking succeeds while a reader
	// waits (ENXIO while none does) and wakes every waiting reader; closing
	// it at once leaves our reader at end of input, which it closes.
	for {
		w, err := os.OpenFile(name, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			w.Close()
		} else if !errors.Is(err, syscall.ENXIO) {
			// No write access, or the pipe is gone: nothing can wake
			// the open. Whatever it returns one day is closed then.
			go func() {
				if o := <-done; o.f != nil {
					o.f.Close()
				}
			}()
			return nil, fifoCancelled(ctx, name)
		}
		select {
		case o := <-done:
			if o.f != nil {
				o.f.Close()
			}
			return nil, fifoCancelled(ctx, name)
		case <-time.After(releaseEvery):
			// ENXIO: the goroutine has not reached open(2) yet; or
			// another process's reader took the wake-up.
		}
	}
}

func fifoCancelled(ctx context.Context, name string) error {
	return fmt.Errorf("%s: stopped waiting for a process to open the named pipe for writing: %w", name, context.Cause(ctx))
}
