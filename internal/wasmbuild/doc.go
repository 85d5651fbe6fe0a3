// Package wasmbuild compiles a transform's source directory to a Wasm
// module that the wasm stage can load. `weave build` and the tests that
// build the transforms share it, so a module built by hand and one built by
// a test come from the same command line.
//
// # Languages
//
// The language is detected from the directory's marker files (see
// [Detect]); each language's build is in its own file (go.go, c.go,
// rust.go, assemblyscript.go, wat.go) and runs that language's own
// toolchain, with an error naming the package to install when it is
// missing.
package wasmbuild
