// Package postgres provides the `postgres` source and sink (pgx v5).
//
// # Source
//
// A table or a query, read in pages of the pipeline's batch rows ordered by
// a cursor column: a full snapshot, then, polling, the rows whose cursor
// value is past the last one read (new rows, or rows whose updated_at
// moved on). A batch's checkpoint is the text of its last cursor value,
// with the cursor column and its type (engine.Resumer: the engine saves it
// in the pipeline's position store, and a new process resumes after it; a
// position of another column or type is refused). A reopened source
// resumes after the last acknowledged one; with no saved position, after
// start. The cursor must be unique and only grow (see the source's
// description for what is missed otherwise).
//
// # Change data capture
//
// postgres_cdc (cdc*.go) reads one table by logical replication with
// pglogrepl and pgoutput. The first Read creates what was asked for
// (publication, slot) and, with snapshot, creates the slot with
// EXPORT_SNAPSHOT and copies the table through a cursor in a REPEATABLE
// READ transaction that imports that snapshot (SET TRANSACTION SNAPSHOT,
// on the query connection), then starts replication at the slot's
// consistent point. From then on a goroutine owns the replication
// connection: it hands decoded messages to Read and reports the
// acknowledged LSN (StandbyStatusUpdate) when it moves and every
// status_interval; Ack only stores it, since a connection is not safe for
// concurrent use. A batch's checkpoint is the end LSN of the last
// transaction wholly in the batches up to it, so a transaction split over
// batches is confirmed only once all of it is acknowledged.
//
// # Sink
//
// One transaction per batch, committed in Write, so Flush is a no-op:
// append mode sends the batch with binary COPY; upsert mode COPYs it into
// a temporary table and merges it with INSERT … SELECT DISTINCT ON (key) …
// ON CONFLICT (key) DO UPDATE. Committing per Write rather than per Flush
// keeps a failed batch's error on that batch (and its rows), at the cost of
// one commit per batch, which at the usual batch sizes is small beside the
// COPY. Errors the server gives for data (SQLSTATE classes 22, 23, 42) are
// marked permanent and name the table, constraint and COPY line. Any other
// failure drops the connection, and the engine's retry of the Write opens
// a new one (a restarted server, a failover, a terminated backend).
//
// # Exactly once
//
// With exactly_once (append mode) the sink is an engine.PositionKeeper and
// engine.Committer: the pipeline's positions live in a table of the same
// database (positions_table), and the rows of one checkpoint interval are
// written in one transaction, each batch in a savepoint (a batch the table
// refuses is rolled back alone). Prepare hands that transaction to the
// checkpoint without committing; the store's Save checks the position's
// revision under its row lock, writes the position and commits, all in
// that transaction, so rows and position are committed together or not at
// all. Rows therefore appear at checkpoints. Write waits while a prepared
// transaction is being saved: one connection holds one transaction. The
// transaction sits idle whenever the source is slower than the sink, so
// the session turns idle_in_transaction_session_timeout off. When the
// engine keeps no positions (a source that cannot resume), it calls
// Commit without Save, and Commit commits the rows alone.
//
// A connection lost between checkpoints, or with the interval's first
// batch in flight, is replaced on the retry. Lost later, it takes the
// rows of the interval's earlier batches with it; the sink does not keep
// them to send again (an interval's batches can be large, and a sink must
// not keep a batch after Write returns), so it fails the run with a
// permanent error, and every later call fails too. The next run resumes
// from the last saved position, which reads those rows again.
//
// # Types
//
// PostgreSQL → Arrow (source, by the result's column type OIDs):
//
//	boolean                     bool
//	smallint, integer, bigint   int16, int32, int64
//	real, double precision      float32, float64
//	numeric(p,s), p ≤ 38        decimal128(p, s)
//	numeric (no precision)      utf8 (the exact text)
//	text, varchar, char, name   utf8
//	uuid, json, jsonb           utf8 (canonical text)
//	bytea                       binary
//	date                        date32
//	timestamp                   timestamp[us]
//	timestamptz                 timestamp[us, UTC]
//
// Every column is nullable. Other types are an error at Open naming the
// column: cast them in a query. Infinite dates and timestamps, timestamps
// past Arrow's last (year 294247), and NaN or infinite numerics in a
// decimal column, are read errors.
//
// The source appends values of the types above to the Arrow builders
// straight from the protocol's binary form (text types in either form)
// instead of scanning each into a Go value through pgx, which cuts the
// client's CPU per row by about 30% (BENCHMARKS.md). numeric, uuid and
// json, and every column
// of a text-format result (pgx's simple protocol, which poolers in
// transaction mode need), go through pgx's scan plans.
//
// Arrow → PostgreSQL (sink; create_table declares these):
//
//	bool                        boolean
//	int8, int16, uint8          smallint
//	int32, uint16               integer
//	int64, uint32               bigint
//	uint64                      numeric(20,0)
//	float32, float64            real, double precision
//	utf8, large_utf8            text
//	binary, large_binary        bytea
//	date32                      date
//	timestamp (any unit)        timestamp; timestamptz when it has a time zone
//	decimal128(p, s)            numeric(p,s)
//
// Writing into an existing table, values go to its columns by name and
// PostgreSQL's assignment casts apply (utf8 into varchar, int64 into
// integer when it fits).
//
// # Not yet
//
// Sources without a cursor column (a one-off copy by a server-side cursor),
// cursor tie-breaking on a second column, CDC of several tables in one
// source (one slot each today), a CDC stream riding out a lost connection
// (the run fails, and the next resumes from the slot), pgoutput's binary
// and streaming (protocol v2+) modes,
// exactly_once positions of a source read in several splits saved in one
// transaction (the store saves one key at a time, and only the first Save
// of a checkpoint commits the rows), and types beyond the table above
// (arrays, intervals, time).
//
// # From Go
//
// [SourceConfig], [CDCConfig] (postgres_cdc) and [SinkConfig] hold the settings
// of a pipeline file's step, one field per key; their Build methods make the
// step through the same spec. The package Example (compiled, not run: it
// needs a server) copies a table into another database.
package postgres
