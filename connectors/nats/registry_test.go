package nats

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/schemareg"
	"github.com/dataweaver/dataweaver/engine"
)

// TestRegistryRoundTrip: the nats sink writes Avro through a schema
// registry (franz-go's srfake over HTTP) under "<subject>-value", and the
// JetStream source reads the rows back through it; a message of an id the
// registry does not know is a rejected row naming the id.
func TestRegistryRoundTrip(t *testing.T) {
	mem := conformance.Checked(t)
	url := startServer(t)
	js := createStream(t, url, "OUT", "out.>")
	reg := srfake.New()
	t.Cleanup(reg.Close)
	rec := conformance.Sample(mem, conformance.SampleSchema, 0, 20)
	defer rec.Release()
	sink := mustSink(t, fmt.Sprintf("{urls: [%s], subject: out.x, codec: avro, schema_registry: {url: %q}}", q(url), reg.URL()),
		conformance.Build(mem, 20, "sink"))
	ctx := context.Background()
	if err := sink.Open(ctx, rec.Schema()); err != nil {
		t.Fatal(err)
	}
	if err := sink.Write(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := sink.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sink.Close()
	if ss, ok := reg.GetSchema("out.x-value", 1); !ok || ss.Type != sr.TypeAvro {
		t.Fatalf("no Avro schema under out.x-value: %+v", ss)
	}
	if _, err := js.Publish(ctx, "out.x", []byte{0, 0, 0, 0x03, 0xe7, 2, 'x'}); err != nil {
		t.Fatal(err)
	}

	src := mustSource(t, fmt.Sprintf("{urls: [%s], stream: OUT, durable: d, stop_at_end: true, codec: avro, schema: %s, schema_registry: {url: %q}}",
		q(url), conformance.SchemaYAML(conformance.SampleSchema), reg.URL()), conformance.Build(mem, 100, "source"))
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var got []arrow.RecordBatch
	var rejects []engine.RowError
	for {
		b, err := src.Read(ctx)
		if errors.Is(err, engine.ErrEndOfInput) {
			break
		}
		if err != nil {
			conformance.Release(got)
			t.Fatal(err)
		}
		got, rejects = append(got, b.Record), append(rejects, b.Rejects...)
		if err := src.Ack(ctx, b.Checkpoint); err != nil {
			t.Fatal(err)
		}
	}
	defer conformance.Release(got)
	conformance.EqualRows(t, rec, got)
	if len(rejects) != 1 || !errors.Is(rejects[0].Err, schemareg.ErrUnknownSchema) {
		t.Errorf("rejects %v, want the message of schema id 999", rejects)
	}
}
