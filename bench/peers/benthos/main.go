// Command benthos is Benthos v4 (github.com/redpanda-data/benthos/v4) with
// its pure and io components, the peer `make bench-peers` runs W1 (a
// Bloblang mapping) and W3 (batches grouped and summed, see
// bench/peers/run/w3.go) in; bench/peers/run writes the configs:
//
//	benthos -c w1.yaml
package main

import (
	"context"

	_ "github.com/redpanda-data/benthos/v4/public/components/io"
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"
	"github.com/redpanda-data/benthos/v4/public/service"
)

func main() {
	service.RunCLI(context.Background())
}
