// Package conformance_test runs the example transforms written in every
// guest language (Go, C, Rust, AssemblyScript) and a native Go version of
// each through the same table of inputs and configurations, and requires
// the same output: the same schema, the same rows and values byte for
// byte, and the same rejected rows. The Go guest's output is the golden
// file (testdata/*.golden, regenerate with -update); every other
// implementation must match it.
//
// The non-Go modules are the prebuilt .wasm files committed beside their
// sources (transforms/<lang>/<name>/<name>.wasm), so the suite needs only
// Go. With DW_WASM_FRESH=1 (set by .ci/run, which installs the
// toolchains) every module is rebuilt from source with weave's own
// builder first: a committed .wasm that differs from a fresh build fails,
// and the fresh builds are what the table runs.
package conformance_test
