package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dataweaver/dataweaver/connectors/coordinator/split"
)

// plan takes part in planning: the worker that creates the pipeline's
// lock key lists the splits and publishes the unfinished ones; the others
// wait until the lock is gone (deleted by the planner, or expired after
// lock_ttl when the planner died) and then, if a planner died, try again.
// Planning twice is harmless: a split's message ID makes the stream drop
// a second copy, and a split finished meanwhile is skipped by its
// position.
func (w *worker) plan(ctx context.Context) error {
	key := "plan." + enc(w.job.Pipeline)
	for {
		var rev uint64
		won := false
		err := retry(ctx, w.c.MaxOutage, w.log, "take the planning lock", func(ctx context.Context) error {
			var err error
			rev, err = w.locks.Create(ctx, key, []byte(w.c.Worker))
			switch {
			case err == nil:
				won = true
				return nil
			case errors.Is(err, jetstream.ErrKeyExists) || isWrongSequence(err):
				return nil
			}
			return err
		})
		if err != nil {
			return err
		}
		if won {
			return w.planAsLeader(ctx, key, rev)
		}
		if err := w.waitForPlan(ctx, key); err != nil {
			return err
		}
		if w.planned(ctx) {
			return nil
		}
	}
}

// planned reports whether the pipeline's plan is complete: its marker key
// exists (the planner writes it last). A planner that died before it
// leaves none, and the next worker plans again.
func (w *worker) planned(ctx context.Context) bool {
	var ok bool
	_ = retry(ctx, w.c.MaxOutage, w.log, "read the plan marker", func(ctx context.Context) error {
		_, err := w.locks.Get(ctx, "done."+enc(w.job.Pipeline))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil
		}
		ok = err == nil
		return err
	})
	return ok
}

// waitForPlan polls until the lock key is gone.
func (w *worker) waitForPlan(ctx context.Context, key string) error {
	for {
		gone := false
		err := retry(ctx, w.c.MaxOutage, w.log, "wait for the planner", func(ctx context.Context) error {
			_, err := w.locks.Get(ctx, key)
			if errors.Is(err, jetstream.ErrKeyNotFound) {
				gone = true
				return nil
			}
			return err
		})
		if err != nil || gone {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// planAsLeader lists the splits and publishes each one not finished yet,
// keeping the lock alive meanwhile, then writes the plan marker (which
// expires with the lock bucket's TTL) and lets the lock go.
func (w *worker) planAsLeader(ctx context.Context, key string, rev uint64) error {
	keep, stopKeeping := context.WithCancel(ctx)
	defer stopKeeping()
	go func() {
		t := time.NewTicker(w.c.LockTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-keep.Done():
				return
			case <-t.C:
				rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				if r, err := w.locks.Update(rctx, key, []byte(w.c.Worker), rev); err == nil {
					rev = r
				}
				cancel()
			}
		}
	}()
	p, err := w.job.Build(ctx)
	if err != nil {
		return err
	}
	defer p.Close()
	src, ok := p.Source.Source.(split.Source)
	if !ok {
		return fmt.Errorf("coordinator: source %s cannot be read in splits (file and s3 sources can)", p.Source.Name)
	}
	splits, err := src.Splits(ctx)
	if err != nil {
		return fmt.Errorf("coordinator: plan: %w", err)
	}
	finished := map[string]bool{}
	entries, err := w.store.List(ctx, w.job.Pipeline)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Key.Step == p.Source.Name && e.Record.Finished {
			finished[e.Key.Split] = true
		}
	}
	for _, s := range splits {
		if finished[s.ID] {
			continue
		}
		data, err := json.Marshal(message{Pipeline: w.job.Pipeline, Step: p.Source.Name, Split: s})
		if err != nil {
			return fmt.Errorf("coordinator: %w", err)
		}
		err = retry(ctx, w.c.MaxOutage, w.log, "publish a split", func(ctx context.Context) error {
			_, err := w.js.Publish(ctx, w.subject, data, jetstream.WithMsgID(w.job.Pipeline+"/"+s.ID))
			return err
		})
		if err != nil {
			return err
		}
		w.res.Planned++
	}
	w.log.Info("coordinator: planned", "splits", len(splits), "published", w.res.Planned, "finished_before", len(finished))
	err = retry(ctx, w.c.MaxOutage, w.log, "mark the plan done", func(ctx context.Context) error {
		_, err := w.locks.Put(ctx, "done."+enc(w.job.Pipeline), []byte(w.c.Worker))
		return err
	})
	if err != nil {
		return err
	}
	stopKeeping()
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_ = w.locks.Delete(rctx, key)
	return nil
}
