// Package coordinator runs one pipeline as N workers that share its bounded
// source's splits through NATS JetStream: the `coordinator:` section of a
// pipeline file (Spec), and Run/RunFile for one worker.
//
// # How the workers meet
//
// Every worker runs the same file. The first to create the pipeline's key
// in a lock bucket (it expires after lock_ttl if its holder dies) plans:
// it lists the source's splits (split.Source: a file, an object, a Parquet
// row group, a byte range of a text file, a cursor range of a table; a
// split.Continuer only what the finished splits do not cover) and
// publishes one message per split not finished yet to a
// work-queue stream, with the message ID pipeline/split@epoch. The other
// workers read splits as they are published. A plan record beside the
// positions holds the epoch: a worker taking over from a planner that died
// reuses it, so what was published already is dropped as a duplicate; a
// run that starts when the stream holds none of the job's splits takes a
// new one.
//
// # A split
//
// A worker takes one message at a time. AckWait is the split's lease,
// extended with InProgress every third of it while a fresh pipeline (Job.
// Build) reads the split: its source restricted to the split, its part
// sinks (split.Sink) naming their parts after it and publishing them only
// when the run ends well. Then the split's position is saved finished in
// the positions bucket (Store: compare-and-set on the revision), or with
// positions_dsn a PostgreSQL table fenced alike, and the message
// acknowledged. A worker that dies loses the split to another when
// the lease runs out; what it wrote was never published, or is replaced by
// the redo's parts of the same names.
//
// # Before connecting
//
// Run builds one pipeline of the job and refuses it (Check) when its
// source cannot be split or a sink would make a coordinated run wrong
// (one replaced file, one file appended to by N processes, a sink keeping
// the pipeline's positions itself); a sink that gets a redone split's
// rows again is noted. A split handed out before (its message
// redelivered) goes to its part sinks through split.Redoer, so they
// remove what the earlier attempt left unpublished.
//
// # The end
//
// A worker ends when the stream holds none of the job's splits (none
// waiting, none leased), no planner holds the lock and the plan is
// complete. Requests ride out a lost server or a leader election for up
// to max_outage. Job.Progress shows a worker's splits and phase while it
// runs (weave run --http exports them).
package coordinator
