// Package wasm registers the `wasm` stage: a process() step whose logic is
// a WebAssembly module loaded at run time and run sandboxed by wasmabi.
//
// # Pipeline syntax
//
//	stages:
//	  - wasm: transforms/mask/mask.wasm      # the scalar form: just the path
//	  - wasm:
//	      path: transforms/filter/filter.wasm
//	      config: {column: amount, op: ">=", value: 0}
//	      memory_limit: 128MiB
//	      timeout: 5s
//	    workers: 2
//
// workers is the engine's generic step key: each worker takes its own
// instance from the stage's pool.
//
// # From Go
//
// [StageConfig] holds the settings of a pipeline file's wasm step; its Build
// method loads the module through the same spec ([ExampleStageConfig]). The
// Example of package connectors/all puts such a stage between a source of
// your own and a Kafka sink.
package wasm
