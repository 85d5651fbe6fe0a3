// Package guestsdk carries the guest SDKs' sources inside the weave
// binary, so `weave new transform` can give a transform written outside
// a DataWeaver checkout its own copy of the SDK it builds against: a user
// who has only the weave binary and a language's toolchain can scaffold,
// build and run a transform.
//
// The files are embedded from here, the common parent of the SDKs,
// because go:embed cannot reach a parent directory and Go refuses a
// package in guest-sdk/c (it holds .c files, which only cgo packages
// may).
//
// Only what a transform's build reads is embedded (and each SDK's
// README): not the SDKs' own tests, lock files of their development or
// node_modules.
package guestsdk

import (
	"embed"
	"io/fs"
)

//go:embed go/guest/*.go
//go:embed c/*.h c/*.c c/README.md
//go:embed rust/Cargo.toml rust/README.md rust/src
//go:embed assemblyscript/package.json assemblyscript/package-lock.json assemblyscript/README.md assemblyscript/assembly
var files embed.FS

// Dirs are the SDK directories under guest-sdk/, by the language names of
// `weave new transform --lang`; WebAssembly text has no SDK.
var Dirs = map[string]string{
	"go":             "go",
	"c":              "c",
	"rust":           "rust",
	"assemblyscript": "assemblyscript",
}

// FS returns the embedded files, named as in the source tree under
// guest-sdk/ ("c/dataweaver.h", "go/guest/batch.go").
func FS() fs.FS { return files }
