package http

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/connectors/conformance"
)

// TestSourceTraceParent: a batch carries the traceparent header of the
// first request with one whose rows it holds (requests joined into one
// batch, and each batch of a request split over several), so a traced
// pipeline continues the caller's trace; a batch of requests without the
// header carries none.
func TestSourceTraceParent(t *testing.T) {
	mem := conformance.Checked(t)
	schema := conformance.SampleSchema
	src := mustSource(t, "{address: 127.0.0.1:0, schema: "+conformance.SchemaYAML(schema)+"}", conformance.Build(mem, 10, "source"))
	ctx := context.Background()
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	const first, second = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

	read := func() (arrow.RecordBatch, string) {
		t.Helper()
		b, err := src.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := src.Ack(ctx, b.Checkpoint); err != nil {
			t.Fatal(err)
		}
		return b.Record, b.TraceParent
	}
	rows := conformance.Sample(mem, schema, 0, 15)
	defer rows.Release()
	// Three small requests, the first without a header: one batch,
	// continuing the second's trace.
	var chans []<-chan response
	for i, tp := range []string{"", first, second} {
		part := rows.NewSlice(int64(3*i), int64(3*i+3))
		var h map[string]string
		if tp != "" {
			h = map[string]string{"traceparent": tp}
		}
		chans = append(chans, postAsync(t, src.url(), ctArrow, arrowBody(t, part), h))
		part.Release()
		waitFor(t, "the request queued", func() bool { return src.queued() == i+1 })
	}
	rec, tp := read()
	rec.Release()
	if tp != first {
		t.Errorf("joined batch: traceparent %q, want the first traced request's %q", tp, first)
	}
	// A request split over two batches: both continue its trace.
	big := rows.NewSlice(0, 15)
	chans = append(chans, postAsync(t, src.url(), ctArrow, arrowBody(t, big), map[string]string{"traceparent": second}))
	big.Release()
	for i := range 2 {
		rec, tp := read()
		rec.Release()
		if tp != second {
			t.Errorf("batch %d of a split request: traceparent %q, want %q", i, tp, second)
		}
	}
	// No header: no parent.
	plain := rows.NewSlice(0, 2)
	chans = append(chans, postAsync(t, src.url(), ctArrow, arrowBody(t, plain), nil))
	plain.Release()
	rec, tp = read()
	rec.Release()
	if tp != "" {
		t.Errorf("batch of a request without the header: traceparent %q, want none", tp)
	}
	for _, ch := range chans {
		if r := recv(t, ch); r.status != 200 {
			t.Errorf("reply %d %q", r.status, r.body)
		}
	}
}
