package nats

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

// TestSinkRetriesCounted: the tries the sink makes again through an
// outage are counted (engine.RetryCounter, weave_sink_retries_total).
func TestSinkRetriesCounted(t *testing.T) {
	checked := conformance.Checked(t)
	srv := startRestartable(t)
	createStream(t, srv.url, "OUT", "out.>")
	schema, recs := idRecords(t, checked, 20, 10)
	defer conformance.Release(recs)
	sink := mustSink(t, fmt.Sprintf("{urls: [%s], subject: out.rows, max_outage: 1s, request_timeout: 200ms}", q(srv.url)),
		conformance.Build(checked, 10, "sink"))
	var rc engine.RetryCounter = sink
	ctx := context.Background()
	if err := sink.Open(ctx, schema); err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if err := sink.Write(ctx, recs[0]); err != nil {
		t.Fatal(err)
	}
	if err := sink.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := rc.Retries(); n != 0 {
		t.Errorf("%d retries with the server up", n)
	}
	srv.stop()
	err := sink.Write(ctx, recs[1])
	if err == nil {
		err = sink.Flush(ctx)
	}
	if !errors.Is(err, ErrOutage) {
		t.Fatalf("write and flush with the server down: %v, want ErrOutage", err)
	}
	if n := rc.Retries(); n == 0 {
		t.Error("no retry counted through a 1s outage")
	}
}
