package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dataweaver/dataweaver/connectors/coordinator/split"
	"github.com/dataweaver/dataweaver/engine"
)

// planRecord is the pipeline's plan, kept in the positions bucket beside
// the positions. Epoch goes into every split's message ID: a planner that
// takes over from one that died mid-way keeps its epoch, so the splits
// already published are dropped as duplicates; a new run of the job (the
// stream holds none of its splits any more) takes a new one, so splits
// whose positions were reset are published again rather than dropped.
type planRecord struct {
	Epoch  uint64    `json:"epoch"`
	Done   bool      `json:"done"`
	Worker string    `json:"worker"`
	Splits int       `json:"splits"`
	Saved  time.Time `json:"saved"`
}

// plan takes part in planning. Workers race for the pipeline's lock key
// (it expires after lock_ttl if its holder dies); the holder plans unless
// a complete plan's splits are still in the stream (a worker joining a job
// under way), then lets the lock go. The others do not wait for it: they
// read splits as the planner publishes them (see done).
func (w *worker) plan(ctx context.Context, cons jetstream.Consumer) error {
	key := "plan." + enc(w.job.Pipeline)
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
	if err != nil || !won {
		return err
	}
	err = w.planHolding(ctx, cons, key, rev)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	_ = w.locks.Delete(rctx, key)
	cancel()
	return err
}

// done reports whether the job is over for this worker, called when the
// stream holds none of its splits: no planner holds the lock and the plan
// is complete. While a planner works it is not over (more splits may
// come); when the lock is free but the plan incomplete, its planner died,
// and this worker plans in its place.
func (w *worker) done(ctx context.Context, cons jetstream.Consumer) (bool, error) {
	held := false
	var plan planRecord
	err := retry(ctx, w.c.MaxOutage, w.log, "read the plan", func(ctx context.Context) error {
		_, err := w.locks.Get(ctx, "plan."+enc(w.job.Pipeline))
		switch {
		case err == nil:
			held = true
			return nil
		case !errors.Is(err, jetstream.ErrKeyNotFound):
			return err
		}
		held = false
		e, err := w.plans.Get(ctx, "plan."+enc(w.job.Pipeline))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			plan = planRecord{}
			return nil
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(e.Value(), &plan); err != nil {
			return permanent(fmt.Errorf("plan of %s: %w", w.job.Pipeline, err))
		}
		return nil
	})
	switch {
	case err != nil:
		return false, err
	case held:
		return false, nil
	case plan.Done:
		return true, nil
	}
	return false, w.plan(ctx, cons)
}

// planHolding runs with the lock held: it plans, or finds a plan under way.
func (w *worker) planHolding(ctx context.Context, cons jetstream.Consumer, key string, rev uint64) error {
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
				rctx, cancel := context.WithTimeout(keep, 5*time.Second)
				if r, err := w.locks.Update(rctx, key, []byte(w.c.Worker), rev); err == nil {
					rev = r
				}
				cancel()
			}
		}
	}()
	planKey := "plan." + enc(w.job.Pipeline)
	var prev planRecord
	var prevRev uint64
	err := retry(ctx, w.c.MaxOutage, w.log, "read the plan", func(ctx context.Context) error {
		e, err := w.plans.Get(ctx, planKey)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			prev, prevRev = planRecord{}, 0
			return nil
		}
		if err != nil {
			return err
		}
		prevRev = e.Revision()
		if err := json.Unmarshal(e.Value(), &prev); err != nil {
			return permanent(fmt.Errorf("plan of %s: %w", w.job.Pipeline, err))
		}
		return nil
	})
	if err != nil {
		return err
	}
	epoch := rev
	switch {
	case prevRev != 0 && !prev.Done:
		epoch = prev.Epoch // a planner died mid-way: the same message IDs
	case prevRev != 0:
		left, err := w.left(ctx, cons)
		if err != nil {
			return err
		}
		if left > 0 {
			return nil // a job under way: join it
		}
	}
	save := func(r planRecord) error {
		r.Worker, r.Saved = w.c.Worker, time.Now().UTC()
		val, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("coordinator: %w", err)
		}
		return retry(ctx, w.c.MaxOutage, w.log, "save the plan", func(ctx context.Context) error {
			_, err := w.plans.Put(ctx, planKey, val)
			return err
		})
	}
	if err := save(planRecord{Epoch: epoch}); err != nil {
		return err
	}
	n, err := w.publish(ctx, epoch)
	if err != nil {
		return err
	}
	return save(planRecord{Epoch: epoch, Done: true, Splits: n})
}

// publish lists the splits and publishes each one not finished yet, with
// the message ID pipeline/split@epoch, and returns how many it listed.
func (w *worker) publish(ctx context.Context, epoch uint64) (int, error) {
	p, err := w.job.Build(ctx)
	if err != nil {
		return 0, err
	}
	defer p.Close()
	src, ok := p.Source.Source.(split.Source)
	if !ok {
		return 0, fmt.Errorf("%w: coordinator: source %s cannot be read in splits (file, s3 and postgres sources can)", engine.ErrInvalidConfig, p.Source.Name)
	}
	finished := map[string]bool{}
	entries, err := w.store.List(ctx, w.job.Pipeline)
	if err != nil {
		return 0, err
	}
	var done []split.Split
	for _, e := range entries {
		if e.Key.Step == p.Source.Name && e.Record.Finished {
			finished[e.Key.Split] = true
			done = append(done, split.Split{ID: e.Key.Split, Data: e.Record.Source})
		}
	}
	var splits []split.Split
	if c, ok := src.(split.Continuer); ok {
		splits, err = c.SplitsAfter(ctx, done)
	} else {
		splits, err = src.Splits(ctx)
	}
	if err != nil {
		return 0, fmt.Errorf("coordinator: plan: %w", err)
	}
	for _, s := range splits {
		if finished[s.ID] {
			continue
		}
		data, err := json.Marshal(message{Pipeline: w.job.Pipeline, Step: p.Source.Name, Split: s})
		if err != nil {
			return 0, fmt.Errorf("coordinator: %w", err)
		}
		id := fmt.Sprintf("%s/%s@%d", w.job.Pipeline, s.ID, epoch)
		err = retry(ctx, w.c.MaxOutage, w.log, "publish a split", func(ctx context.Context) error {
			_, err := w.js.Publish(ctx, w.subject, data, jetstream.WithMsgID(id))
			return err
		})
		if err != nil {
			return 0, err
		}
		w.res.Planned++
		w.prog.Planned.Add(1)
	}
	w.log.Info("coordinator: planned", "splits", len(splits), "published", w.res.Planned, "finished_before", len(finished), "epoch", epoch)
	return len(splits), nil
}
