// Package crashtest kills a real `weave run` with SIGKILL part-way through a
// pipeline file and runs the file again, so an end-to-end test sees what a
// crash leaves behind — not what an orderly shutdown leaves, which is all an
// in-process failure can show: a process that is killed flushes nothing,
// naks nothing and closes nothing.
//
// # Use
//
// Call [Cleanup] from TestMain after m.Run. Describe the pipeline with a
// [Pipeline]: its file, the ${VAR}s and --set values of every run, the
// --set values that make a run end at the end of its input (stop_at_end),
// how many rows the destination holds once everything arrived, and a
// Stored function that counts them in the destination system itself (the
// stream, the topic, the table). Then
//
//	c := p.KillAndRerun(t)
//
// starts `weave run` without the Finish values, so it cannot end on its
// own; waits until Stored reports at least N rows, N drawn at random; kills
// the process with SIGKILL and checks it died of that signal; checks the
// destination does not yet hold the whole input (else the kill tested
// nothing, and the test fails: give the run smaller batches); and runs the
// file again, with Finish, to a clean exit. An optional AfterKill runs
// between the two, for what a system would do by itself given time (a
// Kafka group dropping a member whose session timed out). The test then checks what
// arrived, and may [Pipeline.Run] a third time to see that a source with a
// durable position finds nothing left.
//
// # Replaying a kill point
//
// N is drawn in [1, Rows/2] from a generator seeded per call; the test log
// names the seed, and DW_CRASH_SEED=<seed> makes the next run draw the same
// N. The kill itself lands wherever the process is when the poll sees N
// rows, so a replay repeats the kill point up to a batch or two.
//
// # Time
//
// Nothing here limits how long a run may take: a run that hangs is caught
// by go test's -timeout. Waits are bounded by the test's deadline
// ([testing.T.Deadline]) only to fail a few seconds before it with the
// child's stderr and what the test was waiting for, rather than with a
// goroutine dump. Children are killed in t.Cleanup and, on Linux, when the
// test process itself dies (Pdeathsig); a failing test logs each child's
// stderr.
//
// # The binary
//
// [Weave] builds ./cmd/weave once per test binary, with go build from the
// module root, into a temporary directory [Cleanup] removes.
package crashtest
