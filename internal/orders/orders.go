// Package orders holds the schema of the benchmark "orders" table: the
// table the generate connector's orders preset produces, the format and
// codec benchmarks read and write, and whose columns the Wasm benchmarks
// project. It lives here, below engine, connectors, format and wasmabi,
// so every one of them can import it without a cycle; the generators
// stay with their users because they deliberately produce different
// rows (see connectors/generate, format/internal/testrecords and
// internal/wasmtest).
package orders

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// Schema is the orders table: every column but note is always set.
var Schema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "customer", Type: arrow.BinaryTypes.String},
	{Name: "email", Type: arrow.BinaryTypes.String},
	{Name: "country", Type: arrow.BinaryTypes.String},
	{Name: "amount", Type: arrow.PrimitiveTypes.Float64},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// Columns is Schema cut down to the named columns, in the order given, for
// a table that carries only some of them. It panics on a name Schema does
// not have: callers name columns in source code, so that is a bug, found
// the first time the package initialises.
func Columns(names ...string) *arrow.Schema {
	fields := make([]arrow.Field, len(names))
	for i, n := range names {
		idx := Schema.FieldIndices(n)
		if len(idx) != 1 {
			panic(fmt.Sprintf("orders: no column %q", n))
		}
		fields[i] = Schema.Field(idx[0])
	}
	return arrow.NewSchema(fields, nil)
}
