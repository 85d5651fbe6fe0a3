package s3_test

import (
	"context"
	"fmt"

	"github.com/dataweaver/dataweaver/connectors/file"
	"github.com/dataweaver/dataweaver/connectors/s3"
	"github.com/dataweaver/dataweaver/engine"
)

// Read every CSV object under a prefix and write them as one Parquet file.
// Credentials come from the usual AWS chain (environment, profile,
// instance role); Endpoint and ForcePathStyle point the connector at an
// S3-compatible server (MinIO, versitygw). This example needs a bucket,
// so go test compiles it but does not run it; the package's tests run the
// same steps against a versitygw server (connectors/internal/s3test).
func Example() {
	src, err := s3.SourceConfig{Bucket: "sales", Path: "2026/12/*.csv", Region: "eu-west-1"}.Build(engine.Build{})
	if err != nil {
		fmt.Println(err)
		return
	}
	sink, err := file.SinkConfig{Path: "december.parquet"}.Build(engine.Build{})
	if err != nil {
		fmt.Println(err)
		return
	}
	p := &engine.Pipeline{
		Name:   "december",
		Source: engine.SourceStep{Name: "sales", Source: src},
		Sinks:  []engine.SinkStep{{Name: "parquet", Sink: sink}},
	}
	m, err := p.Run(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Step("sales").RowsOut.Load(), "rows")
}
