package wait

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFor(t *testing.T) {
	if err := For(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("a 1 ms wait = %v", err)
	}
	if err := For(context.Background(), 0); err != nil {
		t.Fatalf("no wait = %v", err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := For(done, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("no wait on an ended context = %v, want context.Canceled", err)
	}
	// An hour's wait ends with its context: the test would hang otherwise.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(time.Millisecond); cancel() }()
	if err := For(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("an hour's wait cancelled = %v, want context.Canceled", err)
	}
}
