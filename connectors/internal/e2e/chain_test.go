package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/connectors/internal/s3test"
	"github.com/dataweaver/dataweaver/internal/crashtest"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

// chainRows is the orders table's size before the changes.
const chainRows = 2_000

// chainChanges is how many transactions change the table once the
// snapshot is in Kafka: each updates one old order (a new e-mail address
// and amount), deletes another and inserts a new one.
const chainChanges = 40

// change is a row of the S3 objects: an order with its CDC columns.
type change struct {
	order
	Op             string  `json:"_op"`
	LSN            int64   `json:"_lsn"`
	BeforeCustomer *string `json:"_before_customer"`
	BeforeEmail    *string `json:"_before_email"`
}

// TestChainCDCKafkaS3 runs the README's chain against real servers:
// postgres_cdc_kafka_avro.yaml (PostgreSQL change data capture → Wasm mask
// → Kafka, Avro through a schema registry), then kafka_avro_to_s3.yaml
// (Kafka → Parquet parts in an S3 bucket). Each pipeline is SIGKILLed once
// part-way, as a real weave process, and run again. The bucket must then
// hold every change at least once, no unmasked name or address anywhere
// (before-images included), and replaying its changes per id in LSN order
// must give the table as it ends, masked.
func TestChainCDCKafkaS3(t *testing.T) {
	bucket := s3test.Bucket(t) // skips until versitygw is built (make s3-server)
	s3 := s3test.Shared(t)
	dsn := pgtest.DB(t)
	conn := pgConn(t, dsn)
	ctx := context.Background()
	for _, sql := range []string{
		`CREATE TABLE orders (id bigint PRIMARY KEY, customer text, email text, country text, amount double precision, ts timestamptz, note text)`,
		`ALTER TABLE orders REPLICA IDENTITY FULL`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	var rows [][]any
	for _, o := range orders(chainRows) {
		rows = append(rows, []any{o.ID, o.Customer, o.Email, o.Country, o.Amount, o.TS, o.Note})
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"orders"}, []string{"id", "customer", "email", "country", "amount", "ts", "note"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	broker := startKafka(t, 3, "orders.cdc")
	reg := srfake.New()
	t.Cleanup(reg.Close)
	db := dsn[strings.LastIndexByte(dsn, '/')+1 : strings.IndexByte(dsn, '?')]

	cdc := crashtest.Pipeline{
		File:  pipelineFile(t, "postgres_cdc_kafka_avro.yaml"),
		State: t.TempDir(),
		Env: map[string]string{"PG_DSN": dsn, "KAFKA_BROKER": broker, "SCHEMA_REGISTRY_URL": reg.URL(),
			"WASM": wasmDir, "SLOT": "chain_" + db, "PUBLICATION": "chain_" + db},
		Set:    append(slices.Clone(checkpointed), "batch.rows=50"),
		Finish: []string{"source.postgres_cdc.stop_at_end=true"},
		Rows:   chainRows,
		Stored: topicCounter(t, broker, "orders.cdc"),
	}
	cdc.KillAndRerun(t)

	// Changes, a transaction each, streamed by a third run.
	for i := 1; i <= chainChanges; i++ {
		tx := fmt.Sprintf(`BEGIN;
UPDATE orders SET email = 'changed%[1]d@example.org', amount = amount + 1000 WHERE id = %[1]d;
DELETE FROM orders WHERE id = %[2]d;
INSERT INTO orders VALUES (%[3]d, 'Newcomer %[1]d', 'new%[1]d@example.net', 'DE', %[1]d.5, now(), NULL);
COMMIT;`, i, 1000+i, chainRows+i)
		if _, err := conn.Exec(ctx, tx); err != nil {
			t.Fatal(err)
		}
	}
	cdc.Run(t)

	lake := crashtest.Pipeline{
		File:  pipelineFile(t, "kafka_avro_to_s3.yaml"),
		State: t.TempDir(),
		Env: map[string]string{"KAFKA_BROKER": broker, "SCHEMA_REGISTRY_URL": reg.URL(), "S3_BUCKET": bucket,
			"S3_ENDPOINT": s3.Endpoint, "AWS_ACCESS_KEY_ID": s3test.AccessKey, "AWS_SECRET_ACCESS_KEY": s3test.SecretKey,
			"AWS_REGION": s3test.Region},
		Set:    append(slices.Clone(checkpointed), "source.kafka.session_timeout=1s", "source.kafka.heartbeat_interval=300ms", "batch.rows=50"),
		Finish: []string{"source.kafka.stop_at_end=true"},
		Rows:   chainRows,
		Stored: committedOffsets(t, broker, "weave-cdc-to-s3", "orders.cdc"),
	}
	lake.KillAndRerun(t)

	got := lakeChanges(t, s3, bucket)
	checkChain(t, got, tableOrders(t, conn, "orders"))
}

// committedOffsets counts the records before the group's committed offsets:
// what the S3 sink has completed objects for.
func committedOffsets(t *testing.T, broker, group, topic string) func(testing.TB) int {
	t.Helper()
	cl := kafkaClient(t, broker)
	t.Cleanup(cl.Close)
	adm := kadm.NewClient(cl)
	return func(t testing.TB) int {
		t.Helper()
		offs, err := adm.FetchOffsets(context.Background(), group)
		if errors.Is(err, kerr.GroupIDNotFound) {
			return 0 // the run has not joined yet
		}
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		offs.Each(func(o kadm.OffsetResponse) {
			if o.Topic == topic && o.Err == nil {
				n += int(o.At)
			}
		})
		return n
	}
}

// lakeChanges reads every Parquet object under orders/ back through the
// s3 source into a JSON Lines file, and decodes it with encoding/json.
func lakeChanges(t *testing.T, s3 *s3test.Server, bucket string) []change {
	t.Helper()
	out := filepath.Join(t.TempDir(), "lake.jsonl")
	conformance.RunPipeline(t, conformance.Checked(t), fmt.Sprintf(`
source: {s3: {%s, path: orders/, format: parquet}}
sinks: [{file: %q}]
`, s3.Config(bucket), out))
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []change
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var c change
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%s: %v", sc.Bytes(), err)
		}
		got = append(got, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// checkChain: no unmasked value in the lake, every snapshot row and every
// change there, and the changes replayed per id (the highest _lsn wins)
// equal to the table, masked.
func checkChain(t *testing.T, got []change, table []order) {
	t.Helper()
	for _, c := range got {
		for _, v := range []*string{&c.Customer, &c.Email, c.BeforeCustomer, c.BeforeEmail} {
			if v != nil && *v != "" && !strings.Contains(*v, "***") {
				t.Fatalf("an unmasked value reached the bucket: %q in %+v", *v, c)
			}
		}
	}
	ops := map[string]int{}
	last := map[int64]change{}
	for _, c := range got {
		ops[c.Op]++
		if l, ok := last[c.ID]; !ok || c.LSN > l.LSN {
			last[c.ID] = c
		}
	}
	t.Logf("the bucket holds %d changes: %v", len(got), ops)
	if ops["snapshot"] < chainRows || ops["update"] < chainChanges || ops["delete"] < chainChanges || ops["insert"] < chainChanges {
		t.Errorf("changes by operation %v, want at least %d snapshot rows and %d of each change", ops, chainRows, chainChanges)
	}
	var replayed []order
	for _, c := range last {
		if c.Op != "delete" {
			replayed = append(replayed, c.order)
		}
	}
	slices.SortFunc(replayed, func(a, b order) int { return int(a.ID - b.ID) })
	var want []order
	for _, o := range table {
		o.TS = o.TS.Truncate(time.Microsecond)
		want = append(want, masked(o))
	}
	sameOrders(t, "the bucket's changes replayed by id", want, replayed)
}
