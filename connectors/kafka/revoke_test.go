package kafka

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

// TestRevokeWaitsForAck: an Ack has gathered the offsets to commit when a
// rebalance starts taking partitions away. The revoke waits for that
// commit (commitMu): the partitions move only once it is stored. Without
// the wait they move first, the new owner reads and commits further, and
// the late commit, made under the new generation, is accepted for
// partitions this member no longer owns: it rewinds the new owner's.
//
// The window is held open until the new owner has acknowledged a batch,
// or two seconds pass: with the wait in place it cannot read before the
// Ack goes on. Every commit the broker is sent is recorded; per partition
// the offsets must never go back.
func TestRevokeWaitsForAck(t *testing.T) {
	mem := conformance.Checked(t)
	c, brokers := emptyGroupCluster(t)
	var (
		commitsMu sync.Mutex
		commits   = map[int32][]int64{} // offsets sent per partition, in order
	)
	c.ControlKey(kmsg.OffsetCommit.Int16(), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		commitsMu.Lock()
		defer commitsMu.Unlock()
		for _, rt := range kr.(*kmsg.OffsetCommitRequest).Topics {
			for _, rp := range rt.Partitions {
				commits[rp.Partition] = append(commits[rp.Partition], rp.Offset)
			}
		}
		return nil, nil, false // observe only
	})
	fillGroupTopic(t, brokers, 0, groupRecords/2)
	conf := groupConf(brokers, "g")
	a := openGroupSource(t, mem, conf)
	reads := readRows(t, a, groupRecords/2)
	acked := reads[len(reads)-1].cp
	if len(acked.Offsets["in"]) != groupParts {
		t.Fatalf("a read %v, want part of every partition", acked)
	}
	fillGroupTopic(t, brokers, groupRecords/2, groupRecords)

	b := newReader()
	src := openGroupSource(t, mem, conf) // b joining makes the group take partitions from a
	a.beforeCommit = func() {
		go b.readAll(t, src)
		select {
		case <-b.first:
			t.Log("b read and acknowledged while a's Ack was between gathering and committing")
		case <-time.After(2 * time.Second):
		}
	}
	if err := a.Ack(context.Background(), acked); err != nil {
		t.Fatal(err)
	}
	a.Close() // b takes every partition and reads to the end
	<-b.done
	if len(b.start) != groupParts {
		t.Fatalf("b read partitions %v, want all %d", slices.Sorted(maps.Keys(b.start)), groupParts)
	}
	for _, p := range slices.Sorted(maps.Keys(b.start)) {
		if want := acked.Offsets["in"][p]; b.start[p] != want {
			t.Errorf("b started partition %d at %d, want %d, where a's acknowledged commit put it", p, b.start[p], want)
		}
	}
	commitsMu.Lock()
	defer commitsMu.Unlock()
	for p, offs := range commits {
		if !slices.IsSorted(offs) {
			t.Errorf("partition %d was committed at %v in that order: a commit went back", p, offs)
		}
	}
}

// reader reads a source to its end on a goroutine of its own.
type reader struct {
	mu    sync.Mutex
	start map[int32]int64 // first offset read per partition
	first chan struct{}   // closed once the first batch is acknowledged
	done  chan struct{}   // closed at the end
}

func newReader() *reader {
	return &reader{start: map[int32]int64{}, first: make(chan struct{}), done: make(chan struct{})}
}

// readAll reads src to its end, acknowledging every batch.
func (r *reader) readAll(t *testing.T, src *Source) {
	defer close(r.done)
	for {
		bt, err := src.Read(context.Background())
		if errors.Is(err, engine.ErrEndOfInput) {
			return
		}
		if err != nil {
			t.Errorf("read: %v", err)
			return
		}
		got := toRead(bt)
		r.mu.Lock()
		first := len(r.start) == 0
		for _, x := range got.rows {
			if _, ok := r.start[x.partition]; !ok {
				r.start[x.partition] = x.offset
			}
		}
		r.mu.Unlock()
		if err := src.Ack(context.Background(), got.cp); err != nil {
			t.Errorf("ack: %v", err)
			return
		}
		if first {
			close(r.first)
		}
	}
}
