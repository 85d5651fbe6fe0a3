package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/dataweaver/dataweaver/engine/position"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

// TestPositionStoreFencing: two processes' stores on one positions
// table (PositionStore, as coordinated workers share it): a save naming
// a revision the other replaced is refused with ErrStale, so is a second
// first save, and of several racing saves at one revision exactly one
// wins.
func TestPositionStoreFencing(t *testing.T) {
	dsn := pgtest.DB(t)
	ctx := context.Background()
	open := func() position.Store {
		st, err := PositionStore(ctx, dsn, "public.shared_positions")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	a, b := open(), open()
	key := position.Key{Pipeline: "p", Step: "source", Split: "id (start, 400]"}
	r1, err := a.Save(ctx, key, position.Record{Rows: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Save(ctx, key, position.Record{Rows: 2}); !errors.Is(err, position.ErrStale) {
		t.Fatalf("second first save: %v, want ErrStale", err)
	}
	seen, err := b.Load(ctx, key)
	if err != nil || seen.Revision != r1 {
		t.Fatalf("Load = %+v, %v; want revision %d", seen, err, r1)
	}
	r2, err := b.Save(ctx, key, position.Record{Revision: seen.Revision, Rows: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Save(ctx, key, position.Record{Revision: r1, Rows: 4}); !errors.Is(err, position.ErrStale) {
		t.Fatalf("a stale writer's save: %v, want ErrStale", err)
	}
	if got, err := a.Load(ctx, key); err != nil || got.Rows != 3 || got.Revision != r2 {
		t.Fatalf("Load = %+v, %v; want rows 3 at revision %d (the stale save refused)", got, err, r2)
	}

	// Racing saves at one revision: one wins, the others are stale.
	stores := []position.Store{a, b, open(), open()}
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i, st := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = st.Save(ctx, key, position.Record{Revision: r2, Rows: int64(10 + i)})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, position.ErrStale):
			t.Fatal(err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d racing saves at one revision won, want 1 (%v)", won, len(stores), errs)
	}
	list, err := b.List(ctx, "p")
	if err != nil || len(list) != 1 || list[0].Record.Revision != r2+1 {
		t.Fatalf("List = %+v, %v; want the key at revision %d", list, err, r2+1)
	}
	if err := a.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Load(ctx, key); err != nil || got.Revision != 0 {
		t.Fatalf("after Delete: %+v, %v", got, err)
	}
}
