package s3

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/s3test"
	"github.com/dataweaver/dataweaver/engine"
)

// ackingSource serves batches and, at each Ack, asks onAck what the sink
// has made visible: a message bus would delete the acknowledged messages.
type ackingSource struct {
	batches []arrow.RecordBatch
	next    int
	onAck   func(upto int)
}

func (s *ackingSource) Open(context.Context) (*arrow.Schema, error) {
	s.next = 0
	return s.batches[0].Schema(), nil
}

func (s *ackingSource) Read(context.Context) (*engine.Batch, error) {
	if s.next == len(s.batches) {
		return nil, engine.ErrEndOfInput
	}
	rec := s.batches[s.next]
	rec.Retain()
	s.next++
	return &engine.Batch{Record: rec, Checkpoint: s.next}, nil
}

func (s *ackingSource) Ack(_ context.Context, cp engine.Checkpoint) error {
	s.onAck(cp.(int))
	return nil
}

func (s *ackingSource) Close() error { return nil }

// TestAcksAfterCommit: a source is acknowledged only once the objects
// holding the acknowledged rows are completed and visible in the bucket,
// so a message bus that drops what was acknowledged loses nothing.
func TestAcksAfterCommit(t *testing.T) {
	srv := s3test.Shared(t)
	client := srv.Client()
	bucket := s3test.Bucket(t)
	mem := conformance.Checked(t)
	const batches, rows = 12, 10
	src := &ackingSource{}
	for i := 0; i < batches; i++ {
		src.batches = append(src.batches, conformance.Sample(mem, conformance.SampleSchema, i*rows, rows))
	}
	defer conformance.Release(src.batches)
	visible := partRows(client, bucket, "out/")
	var mu sync.Mutex
	acked := 0
	src.onAck = func(upto int) {
		mu.Lock()
		defer mu.Unlock()
		acked = upto
		if got := visible(t); got < upto*rows {
			t.Errorf("batch %d acknowledged with %d rows visible in the bucket, want %d", upto, got, upto*rows)
		}
	}
	sink := newPartSink(t, srv, bucket, "", conformance.Build(mem, rows, "out"))
	p := &engine.Pipeline{
		Name:            "acks",
		Source:          engine.SourceStep{Name: "in", Source: src},
		Sinks:           []engine.SinkStep{{Name: "out", Sink: sink}},
		Mem:             mem,
		Logger:          slog.New(slog.DiscardHandler),
		CheckpointEvery: 1, // a checkpoint behind every batch
	}
	if _, err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if acked != batches {
		t.Errorf("acknowledged up to batch %d, want %d", acked, batches)
	}
}
