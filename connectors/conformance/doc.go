// Package conformance is the one test suite every source and sink runs
// through, so a connector is held to the same contract whatever system it
// talks to (files, memory, later message buses and databases).
//
// # Sources
//
// [RunSource] asks a [SourceHarness] for a source that will produce a known
// set of rows and checks: Open returns the schema of every batch; all rows
// arrive, in order, with exact values, for inputs of 0, 1, batch-1, batch,
// batch+1 and several batches of rows; no batch exceeds Build.BatchRows;
// Read keeps returning engine.ErrEndOfInput once exhausted; acks in order
// succeed; a Read with a cancelled context returns; Close works with and
// without Open; and a source opened and closed once (as Pipeline.Validate
// does before Run) still yields every row when opened again. Sources that
// keep a position (SourceHarness.AtLeastOnce) are also checked to resume
// after the last acknowledged batch and to deliver again every
// unacknowledged one after a simulated crash (SourceHarness.Crash) or a
// Close.
//
// # Sinks
//
// [RunSink] writes the same known rows through a sink, in batches and as
// sliced records (non-zero array offsets), flushing along the way, and
// reads back what the harness says the sink stored.
//
// # Leaks
//
// Every case runs with a checked allocator passed in engine.Build.Mem and
// fails if any Arrow buffer is still allocated afterwards, or if the number
// of goroutines has not come back to where it started within two seconds.
// The goroutine count is process-wide, so the suite never runs its cases in
// parallel and callers must not either. It counts with runtime.NumGoroutine
// rather than go.uber.org/goleak: the wait-and-compare loop is a dozen lines,
// and a dependency for it would be a dependency of every connector's tests.
package conformance
