package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dataweaver/dataweaver/connectors/postgres"
	"github.com/dataweaver/dataweaver/engine/position"
)

// openPositions opens the workers' shared positions: the bucket kv, or
// the PostgreSQL table of c.PositionsDSN. Closing the bucket's store
// leaves the worker's connection open.
func openPositions(ctx context.Context, c Config, kv jetstream.KeyValue, log *slog.Logger) (position.Store, error) {
	if c.PositionsDSN == "" {
		return &Store{kv: kv, outage: c.MaxOutage, log: log}, nil
	}
	var st position.Store
	err := retry(ctx, c.MaxOutage, log, "open positions table "+c.PositionsTable, func(ctx context.Context) error {
		var err error
		st, err = postgres.PositionStore(ctx, c.PositionsDSN, c.PositionsTable)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &retryStore{st: st, outage: c.MaxOutage, log: log}, nil
}

// retryStore rides out a database restart within max_outage, as the
// bucket's store rides out a JetStream election. A Save retried after a
// commit whose answer was lost finds the revision moved and fails with
// ErrStale, which a worker saving a finished split takes as done.
type retryStore struct {
	st     position.Store
	outage time.Duration
	log    *slog.Logger
}

// once marks ErrStale as not worth retrying.
func once(err error) error {
	if errors.Is(err, position.ErrStale) {
		return permanent(err)
	}
	return err
}

func (r *retryStore) Load(ctx context.Context, key position.Key) (position.Record, error) {
	var rec position.Record
	err := retry(ctx, r.outage, r.log, "load position", func(ctx context.Context) error {
		var err error
		rec, err = r.st.Load(ctx, key)
		return err
	})
	return rec, err
}

func (r *retryStore) Save(ctx context.Context, key position.Key, rec position.Record) (uint64, error) {
	var rev uint64
	err := retry(ctx, r.outage, r.log, "save position", func(ctx context.Context) error {
		var err error
		rev, err = r.st.Save(ctx, key, rec)
		return once(err)
	})
	return rev, err
}

func (r *retryStore) Delete(ctx context.Context, key position.Key) error {
	return retry(ctx, r.outage, r.log, "delete position", func(ctx context.Context) error { return r.st.Delete(ctx, key) })
}

func (r *retryStore) List(ctx context.Context, pipeline string) ([]position.Entry, error) {
	var out []position.Entry
	err := retry(ctx, r.outage, r.log, "list positions", func(ctx context.Context) error {
		var err error
		out, err = r.st.List(ctx, pipeline)
		return err
	})
	return out, err
}

func (r *retryStore) Close() error {
	if err := r.st.Close(); err != nil {
		return fmt.Errorf("coordinator: %w", err)
	}
	return nil
}
