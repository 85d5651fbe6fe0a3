// Package scaffold writes a new transform's source directory for
// `weave new transform NAME --lang L`: a working stage in the chosen
// language, a pipeline that runs it on sample input, and the output that
// run must produce, so the first thing a user does (build, run, compare)
// is also the transform's test.
//
// Every language gets the same transform, "scale": it multiplies a float64
// column by a configured factor into a new column, passes nulls through
// and rejects negative values with a per-row error. That is one of each
// thing a stage does (config, read, write, null, reject) and small enough
// to replace.
//
// # Where the SDK comes from
//
// A transform written inside a DataWeaver checkout builds against the
// checkout's guest-sdk/, by relative path, like the ones in transforms/.
// Anywhere else the scaffold gets its own copy of the language's SDK,
// which the weave binary carries (package guestsdk), in guest-sdk/<lang>:
// a user with only weave and the language's toolchain can build it, and
// the language's own tools (go test, cargo test, an editor) resolve the
// SDK without weave. For Go the copy is a module of its own,
// github.com/dataweaver/dataweaver/guest-sdk/go, which go.mod replaces
// with ./guest-sdk/go: the import path is the one transforms in the
// checkout use, and the guest does not require the host's modules.
package scaffold
