// Package testreport reads the event stream of `go test -json` and prints
// what a person running `make test` needs: the usual one line per package,
// the whole output of every failing test, and at the end every skipped
// test with its reason, the slowest packages and one closing count.
//
// Plain `go test` says "ok" for a package whose every test skipped (a
// missing toolchain, a missing server), so a machine that lacks a tool
// looked green while it proved nothing. The skip list makes that visible
// on every run; CI=true turns most such skips into failures at the tests
// themselves (see README, Development).
//
// Lines that are not JSON (a build error printed before the stream
// starts, a panic in the go command) are passed through unchanged, so
// nothing go test says is lost.
package testreport
