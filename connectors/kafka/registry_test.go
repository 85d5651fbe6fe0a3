package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/schemareg"
	"github.com/dataweaver/dataweaver/engine"
)

// startRegistry runs franz-go's in-memory schema registry (the registry's
// REST API over a real HTTP server) until t ends.
func startRegistry(t testing.TB, opts ...srfake.Option) *srfake.Registry {
	t.Helper()
	reg := srfake.New(opts...)
	t.Cleanup(reg.Close)
	return reg
}

// countLookups counts the registry's schema-by-id requests.
func countLookups(reg *srfake.Registry) *atomic.Int64 {
	var n atomic.Int64
	reg.Intercept(func(_ http.ResponseWriter, r *http.Request) bool {
		if strings.HasPrefix(r.URL.Path, "/schemas/ids/") {
			n.Add(1)
		}
		return false
	})
	return &n
}

// writeRows writes rec through a kafka sink built from conf.
func writeRows(t testing.TB, mem memory.Allocator, conf string, rec arrow.RecordBatch) {
	t.Helper()
	sink := mustSink(t, conf, conformance.Build(mem, 100, "sink"))
	ctx := context.Background()
	if err := sink.Open(ctx, rec.Schema()); err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if err := sink.Write(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if err := sink.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// readWithRejects reads a source to its end, acking every batch, and
// returns its records and rejects.
func readWithRejects(t testing.TB, src engine.Source) ([]arrow.RecordBatch, []engine.RowError) {
	t.Helper()
	ctx := context.Background()
	if _, err := src.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var recs []arrow.RecordBatch
	var rejects []engine.RowError
	for {
		b, err := src.Read(ctx)
		if errors.Is(err, engine.ErrEndOfInput) {
			return recs, rejects
		}
		if err != nil {
			conformance.Release(recs)
			t.Fatal(err)
		}
		recs = append(recs, b.Record)
		rejects = append(rejects, b.Rejects...)
		if err := src.Ack(ctx, b.Checkpoint); err != nil {
			t.Fatal(err)
		}
	}
}

var registryGroups atomic.Int64

// registrySource builds a source of topic t reading with the registry.
func registrySource(t testing.TB, mem memory.Allocator, brokers, url, codecConf string) *Source {
	return registrySourceBatch(t, mem, brokers, url, codecConf, 100)
}

func registrySourceBatch(t testing.TB, mem memory.Allocator, brokers, url, codecConf string, batch int) *Source {
	return mustSource(t, fmt.Sprintf("{brokers: %s, topics: [t], group: g%d, stop_at_end: true, %s, schema_registry: {url: %q}}",
		brokers, registryGroups.Add(1), codecConf, url), conformance.Build(mem, batch, "source"))
}

// TestRegistryAvroRoundTrip: rows written by the sink with Avro through the
// registry carry the Confluent header of the schema registered under
// "t-value", and the source reading through the registry returns them
// unchanged; the id is looked up once, not per message.
func TestRegistryAvroRoundTrip(t *testing.T) {
	mem := conformance.Checked(t)
	brokers := startCluster(t, 1, "t")
	reg := startRegistry(t)
	rec := conformance.Sample(mem, conformance.SampleSchema, 0, 50)
	defer rec.Release()
	writeRows(t, mem, fmt.Sprintf("{brokers: %s, topic: t, codec: avro, schema_registry: {url: %q}}", brokers, reg.URL()), rec)

	ss, ok := reg.GetSchema("t-value", 1)
	if !ok || ss.Type != sr.TypeAvro {
		t.Fatalf("no Avro schema under t-value: %+v", ss)
	}
	for _, r := range consumeAll(t, brokers, "t", 50) {
		if len(r.Value) < 5 || r.Value[0] != 0 || int(binary.BigEndian.Uint32(r.Value[1:5])) != ss.ID {
			t.Fatalf("value % x does not start with 0 and schema id %d", r.Value[:min(len(r.Value), 8)], ss.ID)
		}
	}
	lookups := countLookups(reg)
	src := registrySourceBatch(t, mem, brokers, reg.URL(), "codec: avro, schema: "+conformance.SchemaYAML(conformance.SampleSchema), 10)
	got := conformance.ReadAll(t, src, 10, true)
	defer conformance.Release(got)
	conformance.EqualRows(t, rec, got)
	if n := lookups.Load(); n != 1 {
		t.Errorf("%d schema lookups for 50 messages of one id in %d batches, want 1", n, len(got))
	}
}

var (
	v1Schema = arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	v2Schema = arrow.NewSchema(append(v1Schema.Fields(),
		arrow.Field{Name: "extra", Type: arrow.BinaryTypes.String, Nullable: true}), nil)
)

// TestRegistryAvroEvolution: a topic holds messages of v1 and of v2 (v1
// plus a nullable field): a pipeline on v1 reads both and drops extra; a
// pipeline on v2 reads both, extra null in v1's rows; a pipeline whose
// extra is not nullable rejects v1's rows naming the id and where the
// message is; messages of an unknown id or not in the wire format are row
// errors too.
func TestRegistryAvroEvolution(t *testing.T) {
	mem := conformance.Checked(t)
	brokers := startCluster(t, 1, "t")
	reg := startRegistry(t)
	sinkConf := fmt.Sprintf("{brokers: %s, topic: t, codec: avro, schema_registry: {url: %q}}", brokers, reg.URL())
	r1 := conformance.Sample(mem, v1Schema, 0, 10)
	defer r1.Release()
	r2 := conformance.Sample(mem, v2Schema, 10, 10)
	defer r2.Release()
	writeRows(t, mem, sinkConf, r1)
	writeRows(t, mem, sinkConf, r2)
	v1ID, v2ID := schemaIDOf(t, reg, "t-value", 1), schemaIDOf(t, reg, "t-value", 2)

	t.Run("pipeline on v1", func(t *testing.T) {
		got, rejects := readWithRejects(t, registrySource(t, mem, brokers, reg.URL(), "codec: avro, schema: "+conformance.SchemaYAML(v1Schema)))
		defer conformance.Release(got)
		noRejects(t, rejects)
		r2v1 := project(t, r2, v1Schema)
		defer r2v1.Release()
		want := concatRecords(t, mem, v1Schema, r1, r2v1)
		defer want.Release()
		conformance.EqualRows(t, want, got)
	})
	t.Run("pipeline on v1, columns in another order", func(t *testing.T) {
		swapped := arrow.NewSchema([]arrow.Field{v1Schema.Field(1), v1Schema.Field(0)}, nil)
		got, rejects := readWithRejects(t, registrySource(t, mem, brokers, reg.URL(), "codec: avro, schema: "+conformance.SchemaYAML(swapped)))
		defer conformance.Release(got)
		noRejects(t, rejects)
		a, b := project(t, r1, swapped), project(t, r2, swapped)
		defer a.Release()
		defer b.Release()
		want := concatRecords(t, mem, swapped, a, b)
		defer want.Release()
		conformance.EqualRows(t, want, got)
	})
	t.Run("pipeline on v2", func(t *testing.T) {
		got, rejects := readWithRejects(t, registrySource(t, mem, brokers, reg.URL(), "codec: avro, schema: "+conformance.SchemaYAML(v2Schema)))
		defer conformance.Release(got)
		noRejects(t, rejects)
		withNulls := conformance.Sample(mem, v2Schema, 0, 10)
		defer withNulls.Release()
		nulls := array.MakeArrayOfNull(mem, arrow.BinaryTypes.String, 10)
		defer nulls.Release()
		v1AsV2 := array.NewRecordBatch(v2Schema, append(r1.Columns(), nulls), 10)
		defer v1AsV2.Release()
		want := concatRecords(t, mem, v2Schema, v1AsV2, r2)
		defer want.Release()
		conformance.EqualRows(t, want, got)
	})
	t.Run("extra not nullable", func(t *testing.T) {
		notNull := arrow.NewSchema(append(v1Schema.Fields(), arrow.Field{Name: "extra", Type: arrow.BinaryTypes.String}), nil)
		got, rejects := readWithRejects(t, registrySource(t, mem, brokers, reg.URL(), "codec: avro, schema: "+conformance.SchemaYAML(notNull)))
		defer conformance.Release(got)
		// v1 lacks extra; v2's extra may be null: neither fits a column
		// that may not be null.
		if len(rejects) != 20 {
			t.Fatalf("%d rejects, want all 20 messages", len(rejects))
		}
		for i, r := range rejects {
			msg, id := r.Error(), v1ID
			if i >= 10 {
				id = v2ID
			}
			if !errors.Is(r.Err, schemareg.ErrIncompatible) || r.File != "t/0" || r.Line != int64(i) ||
				!strings.Contains(msg, fmt.Sprintf("schema id %d:", id)) || !strings.Contains(msg, `"extra"`) {
				t.Fatalf("reject %d: %q (file %s, offset %d), want schema id %d incompatible, at t/0 offset %d", i, msg, r.File, r.Line, id, i)
			}
		}
		if rows := totalRows(got); rows != 0 {
			t.Errorf("%d rows, want none", rows)
		}
	})
	t.Run("unknown id and no header", func(t *testing.T) {
		unknown := append([]byte{0, 0, 0, 0x03, 0xe7}, 2, 'x')
		produce(t, brokers, values("t", [][]byte{unknown, []byte(`{"id": 1}`)})...)
		got, rejects := readWithRejects(t, registrySource(t, mem, brokers, reg.URL(), "codec: avro, schema: "+conformance.SchemaYAML(v1Schema)))
		defer conformance.Release(got)
		if len(rejects) != 2 || !errors.Is(rejects[0].Err, schemareg.ErrUnknownSchema) || !strings.Contains(rejects[0].Error(), "schema id 999") ||
			rejects[0].Line != 20 || !errors.Is(rejects[1].Err, schemareg.ErrWireFormat) || rejects[1].Line != 21 {
			t.Fatalf("rejects %v, want schema id 999 unknown at offset 20 and a message without the header at 21", rejects)
		}
		if rows := totalRows(got); rows != 20 {
			t.Errorf("%d rows, want 20", rows)
		}
	})
}

func schemaIDOf(t testing.TB, reg *srfake.Registry, subject string, version int) int {
	t.Helper()
	ss, ok := reg.GetSchema(subject, version)
	if !ok {
		t.Fatalf("no version %d under %s", version, subject)
	}
	return ss.ID
}

func noRejects(t testing.TB, rejects []engine.RowError) {
	t.Helper()
	for _, r := range rejects {
		t.Errorf("unexpected reject: %v", &r)
	}
}

func totalRows(recs []arrow.RecordBatch) int64 {
	var n int64
	for _, r := range recs {
		n += r.NumRows()
	}
	return n
}

// project is rec's columns of schema (by name).
func project(t testing.TB, rec arrow.RecordBatch, schema *arrow.Schema) arrow.RecordBatch {
	t.Helper()
	cols := make([]arrow.Array, schema.NumFields())
	for i, f := range schema.Fields() {
		cols[i] = rec.Column(rec.Schema().FieldIndices(f.Name)[0])
	}
	return array.NewRecordBatch(schema, cols, rec.NumRows())
}

// concatRecords joins recs into a new record; recs stay the caller's.
func concatRecords(t testing.TB, mem memory.Allocator, schema *arrow.Schema, recs ...arrow.RecordBatch) arrow.RecordBatch {
	t.Helper()
	cols := make([]arrow.Array, schema.NumFields())
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	for c := range cols {
		parts := make([]arrow.Array, len(recs))
		for i, r := range recs {
			parts[i] = r.Column(c)
		}
		a, err := array.Concatenate(parts, mem)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Release()
		cols[c] = a
	}
	return array.NewRecordBatch(schema, cols, rows)
}
