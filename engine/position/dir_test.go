package position_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/dataweaver/dataweaver/engine/position"
)

func TestDirStoreSaveLoadRevision(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := position.OpenDir(dir)
	t.Cleanup(func() { s.Close() })
	key := position.Key{Pipeline: "orders/daily", Step: "source"}

	rec, err := s.Load(ctx, key)
	if err != nil || rec.Revision != 0 || rec.Source != nil {
		t.Fatalf("Load before any Save = %+v, %v; want the zero record", rec, err)
	}
	rec.Source, rec.Text, rec.Rows = json.RawMessage(`{"row":10}`), "row 10", 10
	rev, err := s.Save(ctx, key, rec)
	if err != nil || rev != 1 {
		t.Fatalf("first Save = %d, %v; want revision 1", rev, err)
	}
	// A writer that loaded before the first save holds revision 0: refused.
	if _, err := s.Save(ctx, key, rec); !errors.Is(err, position.ErrStale) {
		t.Fatalf("Save with an old revision = %v, want ErrStale", err)
	}
	rec.Revision, rec.Rows = rev, 20
	if rev, err = s.Save(ctx, key, rec); err != nil || rev != 2 {
		t.Fatalf("second Save = %d, %v; want revision 2", rev, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A fresh store over the same directory sees what was saved.
	s2 := position.OpenDir(dir)
	t.Cleanup(func() { s2.Close() })
	got, err := s2.Load(ctx, key)
	if err != nil || got.Revision != 2 || got.Rows != 20 || string(got.Source) != `{"row":10}` || got.Text != "row 10" {
		t.Fatalf("Load after reopen = %+v, %v", got, err)
	}
	list, err := s2.List(ctx, key.Pipeline)
	if err != nil || len(list) != 1 || list[0].Key != key {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if err := s2.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if got, _ := s2.Load(ctx, key); got.Revision != 0 {
		t.Fatalf("Load after Delete = %+v, want the zero record", got)
	}
}

func TestDirStoreLockedByAnotherProcess(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	key := position.Key{Pipeline: "p", Step: "source"}
	a := position.OpenDir(dir)
	t.Cleanup(func() { a.Close() })
	if _, err := a.Save(ctx, key, position.Record{}); err != nil {
		t.Fatal(err)
	}
	// bbolt's flock is per open file description, so a second store in
	// this process stands in for a second weave process.
	b := position.OpenDir(dir)
	t.Cleanup(func() { b.Close() })
	if _, err := b.Load(ctx, key); !errors.Is(err, position.ErrLocked) {
		t.Fatalf("Load while another store holds the pipeline = %v, want ErrLocked", err)
	}
	// Other pipelines in the same directory are independent.
	if _, err := b.Save(ctx, position.Key{Pipeline: "q", Step: "source"}, position.Record{}); err != nil {
		t.Fatalf("another pipeline's state: %v", err)
	}
}

func TestDirStoreFileNames(t *testing.T) {
	s := position.OpenDir("/state")
	for name, want := range map[string]string{
		"orders":       "/state/orders.positions",
		"a/b":          "/state/a%2fb.positions",
		"..":           "/state/pipeline...positions",
		"ümlaut job":   "/state/%fcmlaut%20job.positions",
		"daily-2024.1": "/state/daily-2024.1.positions",
	} {
		if got := s.File(name); got != want {
			t.Errorf("File(%q) = %q, want %q", name, got, want)
		}
	}
}
