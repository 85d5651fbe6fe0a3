// Package conformance is the test suite every DataWeaver source and sink
// runs through, so that a connector is held to the same contract whatever
// system it talks to: files, memory, message buses, databases, HTTP. It is
// exported so that connectors written outside this module run it too:
// call [RunSource] or [RunSink] from a test, with a harness that stores
// rows where your source reads them, or reads back what your sink wrote,
// against the real system (an embedded server, a database started by the
// test), not a mock of it.
//
// # Sources
//
// [RunSource] asks a [SourceHarness] for an input that holds a known set
// of rows (usually [Sample] rows, through [FromSample]) and for a
// [SourceBuilder] that builds a source reading it (usually from a
// configuration, through [SourceFromConfig]). It checks that Open returns
// the schema of every batch; that all rows arrive, in order, with exact
// values, for inputs of 0, 1, batch-1, batch, batch+1 and several batches
// of rows; that no batch exceeds Build.BatchRows; that Read keeps
// returning engine.ErrEndOfInput once exhausted; that acks in order
// succeed; that a Read with a cancelled context returns; that Close works
// with and without Open; and that a source opened and closed once (as
// Pipeline.Validate does before Run) still yields every row when the same
// object is opened again.
//
// Restarts are checked with new objects, as a restarted process builds
// them: two batches are read, the first acknowledged, and the source is
// closed, or crashed through SourceHarness.Crash; then a new source is
// built from the same configuration. A source marked AtLeastOnce must
// read again every row that was not acknowledged. One marked Resumes
// (a position kept outside the process: committed offsets, a durable
// consumer) must read exactly those rows, and nothing once every row is
// acknowledged. A SourceBuilder that returns an object it returned before
// fails the case, so a position kept only in a struct field cannot pass
// for a durable one.
//
// # Sinks
//
// [RunSink] writes the same known rows through a sink, in batches and as
// sliced records (non-zero array offsets), flushing along the way, and
// compares them with what the harness reads back from where the sink
// stored them.
//
// # Leaks
//
// Every case runs with a checked allocator passed in engine.Build.Mem and
// fails if any Arrow buffer is still allocated afterwards, or if the number
// of goroutines has not come back to where it started within ten seconds
// (an embedded server's goroutines can take seconds to wind down after its
// Shutdown on a loaded machine; a real leak never drops back, however long
// the wait). The goroutine count is process-wide, so the suite never runs
// its cases in parallel and callers must not either. It counts with
// runtime.NumGoroutine rather than go.uber.org/goleak: the wait-and-compare
// loop is a dozen lines, and a dependency for it would be a dependency of
// every connector's tests. [Checked] gives a connector's own tests the
// same two checks.
//
// # Timeouts
//
// The suite sets no wall-clock limit on a correctness check: a source
// whose Read blocks hangs its test, and go test's -timeout stops it with
// every goroutine's stack. The ten-second goroutine wait above is the one
// wait, and it only bounds how long a leak takes to be reported.
package conformance
