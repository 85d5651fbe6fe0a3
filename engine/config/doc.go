// Package config turns a pipeline file into an [engine.Pipeline].
//
// # Shape
//
// A pipeline file names a source, a list of stages and a list of sinks.
// Each step is a mapping with exactly one connector key — the name the
// connector registered under — plus optional step keys:
//
//	name: orders-clean
//	source:
//	  file: {path: testdata/orders.csv, format: csv}
//	stages:
//	  - select: {columns: [id, email, amount]}
//	  - rename: {columns: {email: contact}}
//	    name: tidy
//	    workers: 2
//	    on_error: dead_letter
//	sinks:
//	  - file: {path: out/orders.parquet}
//	    retry: {attempts: 5, initial: 100ms, max: 10s}
//	batch: {rows: 16384, linger: 100ms}
//	on_error: dead_letter
//	dead_letter:
//	  file: {path: out/rejected.jsonl}
//
// Step keys: name and on_error on every step; workers and unordered on
// stages; retry on sinks. The dead-letter step takes only its connector and
// a name. Top-level keys starting with "x-" are ignored, so they can hold
// YAML anchors that steps reuse (`x-out: &out {path: out.jsonl}`).
//
// # Passes
//
// [Parse] works on the yaml.Node tree so every message keeps its line: it
// decodes the YAML, applies --set overrides, substitutes ${VAR} and
// ${VAR:-default} in scalar values, then checks the whole file against the
// step keys and each connector's [spec.Spec], collecting every problem
// instead of stopping at the first. [Build] then calls the connectors'
// constructors; constructors only record their configuration, so building
// does no I/O and `weave validate` can run on a machine without the inputs.
//
// Substitution follows the shell: a default may hold references of its
// own (${OUT:-${DIR:-.}/out.jsonl}), nested at most [MaxNesting] deep, and
// is expanded only when used; "$${" is a literal "${".
//
// Overrides are applied before substitution and are not substituted
// themselves: the shell has already expanded them, so a `$` typed on the
// command line stays a `$`.
//
// # Limits
//
// A pipeline file is configuration, not data: [Load] and [Parse] refuse
// one over [DefaultMaxFileSize] (4 MiB; Options.MaxFileSize changes it)
// before parsing it, and Load reads at most one byte past the limit, so a
// pipe cannot feed it without end. YAML aliases may add at most
// [MaxAliasExpansion] values to what the file writes out, which refuses a
// "billion laughs" of nested anchors in time linear in the file.
//
// # Errors
//
// Every configuration problem comes back as one [*Error] listing each
// problem as file:line:col, dotted path and message; it wraps
// engine.ErrInvalidConfig so callers can tell a bad file from a failed run.
//
// # Running it
//
// [Load] (or [Parse] then [Build]) returns an engine.Pipeline: run it with
// its Run method or hand it to an engine.Runner. Every step built from the
// file carries an engine.Recipe (its connector and its settings as
// written, ${VAR} and --set applied, aliases expanded), so a runner that
// runs steps in other processes can make them again there. The memory
// budget Build checks (memory_budget, Options.MemoryBudget or the
// machine's) becomes the pipeline's MemoryBudget, which Run checks again.
package config
