// Package all registers the standard connectors, stages and file formats:
// a program that blank-imports it (the weave CLI does) can build any
// pipeline that uses them.
//
// # What it brings in
//
// Sources: file, generate, http, kafka, memory, nats_jetstream, postgres, s3. Stages:
// select, rename, wasm. Sinks: file, discard, http, kafka, memory, nats, postgres, s3.
// Formats: csv, jsonl, parquet, arrow, avro.
//
// A Go program that needs only some of them imports those packages
// instead and keeps its binary smaller (Parquet and Avro pull in sizeable
// dependencies).
//
// # Example
//
// The package Example is DataWeaver's story in Go, and imports only what
// it uses: a source of your own, a WebAssembly stage loaded from a file,
// the Kafka sink and a dead-letter file.
package all

import (
	_ "github.com/dataweaver/dataweaver/connectors/columns"
	_ "github.com/dataweaver/dataweaver/connectors/discard"
	_ "github.com/dataweaver/dataweaver/connectors/file"
	_ "github.com/dataweaver/dataweaver/connectors/generate"
	_ "github.com/dataweaver/dataweaver/connectors/http"
	_ "github.com/dataweaver/dataweaver/connectors/inmemory"
	_ "github.com/dataweaver/dataweaver/connectors/kafka"
	_ "github.com/dataweaver/dataweaver/connectors/nats"
	_ "github.com/dataweaver/dataweaver/connectors/postgres"
	_ "github.com/dataweaver/dataweaver/connectors/s3"
	_ "github.com/dataweaver/dataweaver/connectors/wasm"

	_ "github.com/dataweaver/dataweaver/format/arrowipc"
	_ "github.com/dataweaver/dataweaver/format/avro"
	_ "github.com/dataweaver/dataweaver/format/csv"
	_ "github.com/dataweaver/dataweaver/format/jsonl"
	_ "github.com/dataweaver/dataweaver/format/parquet"
)
