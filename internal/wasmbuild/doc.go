// Package wasmbuild compiles a transform's source directory to a Wasm
// module that the wasm stage can load. `weave build` and the tests that
// build the transforms share it, so a module built by hand and one built by
// a test come from the same command line.
//
// # Languages
//
// The language is detected from the directory's marker files (see
// [Detect]). Only Go is built today; the others are recognised so that the
// user is told which SDK is missing instead of "no Go files", and adding one
// means giving its [Language] a build function.
package wasmbuild
