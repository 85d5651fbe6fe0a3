// Package wasmabi runs DataWeaver process() stages compiled to WebAssembly.
//
// # Overview
//
// NewStage compiles a module once (with a persistent compilation cache,
// Config.WithCacheDir) into a Stage, an engine.Stage. Bind runs the
// handshake and derives the output schema; the stage then keeps a pool of
// module instances so the engine's workers call Process in parallel; each
// instance handles one batch at a time. Config sets the per-stage limits:
// memory per instance and timeout per call.
//
// # The boundary
//
// A batch enters guest memory in Arrow's columnar layout, one guest call per
// batch, and only the columns the guest declared it reads are copied in.
// Results come back as buffers in guest memory that are validated before
// they become Arrow arrays. The wire format is specified in ABI.md beside
// this file.
//
// # Failure
//
// A trap, a timeout or a result that fails validation is a *GuestError
// naming stage, module, export and the batch's rows; the instance is thrown
// away and the next batch gets a fresh one.
package wasmabi
