// Package pipetest tests pipelines: it runs a pipeline file's real stages
// (Wasm modules included) through the real engine, with the source
// replaced by rows you give and every sink, the dead-letter sink too, by an
// in-memory one, and hands back what each step emitted as Arrow records.
// weave test is a thin command over it.
//
// # From Go
//
// [Load] reads a pipeline file without building anything; [Pipeline.Run]
// builds its stages anew, runs them on an [Input] (usually [Records]: a
// connectors/inmemory source serving the records you built) and returns a
// [Result]: the schema and records of every step ([Result.Step] by the
// name weave run's summary prints) and the dead letters. Pass a checked
// allocator (connectors/conformance.Checked) in [Options].Mem and release
// the Result, and a test fails on any buffer a stage or connector leaks.
//
// # Test files
//
// [ReadSuite] reads a test file (orders.test.yaml beside orders.yaml) and
// [Suite.Run] runs it: each test's input rows (inline, decoded as a
// memory source decodes them, or a file read by the file source), then its
// expectations at any step, schema first and rows second, with a diff
// that names the first differing row and column; and the dead letters,
// matched in any order. The README's "Testing a pipeline" section is the
// user's guide to the format; RATIONALE.md says why it looks as it does.
//
// # What is not tested
//
// The real source and sinks are never built: their connections, their
// schema checks (weave validate runs those) and their delivery guarantees
// are the connectors' own tests' business (connectors/conformance). Stages
// run with one worker each, so every step's output is captured in the
// order the engine forwards it.
package pipetest
