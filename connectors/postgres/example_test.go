package postgres_test

import (
	"context"
	"fmt"
	"os"

	"github.com/dataweaver/dataweaver/connectors/postgres"
	"github.com/dataweaver/dataweaver/engine"
)

// Copy a table into another database, upserting by key: the source reads
// the rows in order of the cursor column and, with stop_at_end, stops at
// the last one it finds. This example needs a PostgreSQL server (the DSNs
// come from the environment), so go test compiles it but does not run it;
// the package's tests run the same steps against a real server started by
// internal/pgtest.
func Example() {
	src, err := postgres.SourceConfig{
		DSN: os.Getenv("SOURCE_DSN"), Table: "orders", Cursor: "id", StopAtEnd: true,
	}.Build(engine.Build{})
	if err != nil {
		fmt.Println(err)
		return
	}
	sink, err := postgres.SinkConfig{
		DSN: os.Getenv("TARGET_DSN"), Table: "orders_copy", Mode: "upsert", Key: []string{"id"}, CreateTable: true,
	}.Build(engine.Build{})
	if err != nil {
		fmt.Println(err)
		return
	}
	p := &engine.Pipeline{
		Name:   "copy-orders",
		Source: engine.SourceStep{Name: "orders", Source: src},
		Sinks:  []engine.SinkStep{{Name: "orders_copy", Sink: sink}},
	}
	m, err := p.Run(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Step("orders_copy").RowsIn.Load(), "rows copied")
}
