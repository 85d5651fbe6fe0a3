package engine

import (
	"context"
	"sync"
)

// A pipeline whose stages still prepare when Run starts (Pipeline.Warm:
// Wasm modules compiling in the background, which config.Build leaves
// running when asked to) has the source open and read its first batches
// while they do, instead of leaving the cores to a compile alone for
// ~0.1 CPU-s: a Parquet source decodes its first row groups meanwhile.
// What is read ahead waits, as at most Buffer batches, until every stage
// is ready and bound and every sink is open; then the source's goroutine
// sends those batches first, taking an in-flight slot for each as for a
// batch it reads itself. Nothing read ahead is acknowledged, counted or
// checkpointed before it is sent, so a start-up that fails (a module that
// does not load, a sink that does not open) or is drained leaves no
// output and no position: the batches are released and the next run reads
// them again.

// readAhead holds the batches read while the stages warm. Its goroutine
// reads up to n batches (fewer at the end of the input or an error) into
// out, whose capacity is n, and closes it.
type readAhead struct {
	out    chan aheadRead
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

type aheadRead struct {
	b   *Batch
	err error
}

// startReadAhead starts reading ahead when the pipeline has stages to wait
// for and nothing that reading ahead would disturb: a row limit caps each
// read by what is left of it, and idle advance watches the source's reads.
// It returns nil otherwise.
func (r *runner) startReadAhead(ctx context.Context) *readAhead {
	p := r.p
	if p.Warm == nil || p.Limit > 0 || r.buffer <= 0 {
		return nil
	}
	for _, s := range p.Stages {
		if id, ok := s.Stage.(Idler); ok && id.IdleAfter() > 0 {
			return nil
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	a := &readAhead{out: make(chan aheadRead, r.buffer), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(a.done)
		defer close(a.out)
		for range r.buffer {
			b, err := p.Source.Source.Read(ctx)
			a.out <- aheadRead{b, err}
			if err != nil || ctx.Err() != nil {
				return
			}
		}
	}()
	return a
}

// next returns the next read ahead, or ok false once there is none left
// (the source's goroutine then reads itself). ctx is the source
// goroutine's reading context: when it ends (Drain, abort) a read still
// under way is cancelled, and next reports ctx's error as a read would.
func (a *readAhead) next(ctx context.Context) (res aheadRead, ok bool) {
	select {
	case res, more := <-a.out:
		return res, more
	case <-ctx.Done():
		a.stop()
		return aheadRead{err: ctx.Err()}, true
	}
}

// stop cancels a read still under way, waits for the goroutine and
// releases what it read and nobody took. Safe to call more than once, and
// on nil.
func (a *readAhead) stop() {
	if a == nil {
		return
	}
	a.once.Do(func() {
		a.cancel()
		<-a.done
		for res := range a.out {
			if res.b != nil && res.b.Record != nil {
				res.b.Record.Release()
			}
		}
	})
}

// warm waits for the steps still preparing (Pipeline.Warm). A Drain that
// comes meanwhile ends the start-up at once, as it does while a step
// opens: the wait goes on in the background until closing the steps ends
// it (a stage's Close waits for its compile), and run waits for that
// before it returns (r.warming).
func (r *runner) warm(startCtx context.Context) error {
	if r.p.Warm == nil {
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- r.p.Warm() }()
	select {
	case err := <-done:
		if err != nil {
			return err
		}
		return context.Cause(startCtx)
	case <-startCtx.Done():
		r.warming = done
		return context.Cause(startCtx)
	}
}

// read is the source's next batch: one read ahead while the stages
// warmed, then the source's own.
func (r *runner) read(ctx context.Context) (*Batch, error) {
	if r.ahead != nil {
		if res, ok := r.ahead.next(ctx); ok {
			return res.b, res.err
		}
		r.ahead = nil
	}
	return r.readIdle(ctx)
}
