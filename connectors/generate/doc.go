// Package generate provides the `generate` source: seeded synthetic rows,
// either for a declared schema or from a preset such as the benchmark
// "orders" table, and the Go functions ([Orders], [OrdersRange]) that let
// benchmarks and tests in other packages build the very same rows.
//
// # Determinism
//
// Every value is a hash of (seed, row number, column), not the next draw
// of a stateful random generator. The same seed therefore gives the same
// rows whatever the batch size, a batch can be generated without
// generating the ones before it, and OrdersRange(mem, seed, 1000, 10)
// equals rows 1000..1009 of Orders(mem, 2000, seed).
//
// # Speed
//
// The source feeds benchmarks, so it must not be what they measure. String
// columns pick from pools built once at start-up and are written straight
// into Arrow offset and data buffers, fixed-width columns straight into
// their value buffers; no per-value builder call, no per-row allocation.
//
// # From Go
//
// [SourceConfig] holds the settings of a pipeline file's generate step; its
// Build method makes the source through the same spec. [Orders] gives the
// orders preset's rows to Go code ([ExampleOrders]).
package generate
