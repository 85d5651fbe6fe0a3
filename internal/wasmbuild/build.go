package wasmbuild

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Sentinels wrapped by the errors of this package.
var (
	// ErrUnknownLanguage: the directory holds nothing we recognise as a transform.
	ErrUnknownLanguage = errors.New("unknown transform language")
	// ErrUnsupported: the language is recognised but cannot be built yet.
	ErrUnsupported = errors.New("language not supported yet")
	// ErrToolchain: the language's compiler is not installed.
	ErrToolchain = errors.New("toolchain not found")
	// ErrSDK: the guest SDK the transform builds against is not where the
	// build looks. Apart from ErrToolchain: nothing is missing from the
	// machine, the transform's setup is wrong.
	ErrSDK = errors.New("guest SDK not found")
	// ErrCompile: the compiler ran and failed.
	ErrCompile = errors.New("compile failed")
)

// Language is one way of writing a transform.
type Language struct {
	Name string
	// Markers are file names (or *.ext globs) whose presence in the
	// directory selects this language, in the order they are tried.
	Markers []string
	// Install says what to install when the language cannot be built.
	Install string
	build   func(ctx context.Context, o Options) error
}

// Supported reports whether Build can compile this language.
func (l Language) Supported() bool { return l.build != nil }

// Languages in detection order: a file that only one language uses
// (go.mod, Cargo.toml, asconfig.json) wins over a source extension, so a
// Rust crate with a C helper file is Rust.
var Languages = []Language{
	{Name: "Go", Markers: []string{"go.mod", "*.go"}, Install: goInstall, build: buildGo},
	{Name: "Rust", Markers: []string{"Cargo.toml", "lib.rs", "src/lib.rs"}, Install: rustInstall, build: buildRust},
	{Name: "AssemblyScript", Markers: []string{"asconfig.json"}, Install: asInstall, build: buildAssemblyScript},
	{Name: "C", Markers: []string{"*.c"}, Install: cInstall, build: buildC},
	{Name: "WebAssembly text", Markers: []string{"*.wat"}, Install: watInstall, build: buildWAT},
}

// Detect returns the language of the transform in dir. Markers are checked
// in the order of [Languages], all markers of one language before the next;
// go.mod is looked for only in dir itself (a Go package inside a larger
// module is found by its *.go files).
func Detect(dir string) (Language, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return Language{}, err
	}
	if !st.IsDir() {
		return Language{}, fmt.Errorf("%w: %s is not a directory (give the transform's source directory)", ErrUnknownLanguage, dir)
	}
	for _, l := range Languages {
		for _, m := range l.Markers {
			matches, _ := filepath.Glob(filepath.Join(dir, m))
			for _, f := range matches {
				if !strings.HasSuffix(f, "_test.go") {
					return l, nil
				}
			}
		}
	}
	var names []string
	for _, l := range Languages {
		names = append(names, fmt.Sprintf("%s (%s)", l.Name, strings.Join(l.Markers, ", ")))
	}
	return Language{}, fmt.Errorf("%w: %s holds none of the files that mark a transform: %s", ErrUnknownLanguage, dir, strings.Join(names, "; "))
}

// Options say what to build and where.
type Options struct {
	Dir string // the transform's source directory
	Out string // the .wasm to write; "" means Dir/<base of Dir>.wasm
	// LDFlags are appended to the linker flags (Go: after -s).
	LDFlags []string
	// Args are extra compiler arguments (Go: go build flags).
	Args []string
}

// DefaultOut is where Build writes when Options.Out is empty:
// transforms/mask → transforms/mask/mask.wasm.
func DefaultOut(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	return filepath.Join(dir, filepath.Base(abs)+".wasm")
}

// Build detects the language of o.Dir and compiles it to o.Out, returning
// the language and the path written.
func Build(ctx context.Context, o Options) (Language, string, error) {
	l, err := Detect(o.Dir)
	if err != nil {
		return Language{}, "", err
	}
	if !l.Supported() {
		return l, "", fmt.Errorf("%w: %s looks like a %s transform; language %s is not supported yet by weave build: install %s",
			ErrUnsupported, o.Dir, l.Name, l.Name, l.Install)
	}
	if o.Out == "" {
		o.Out = DefaultOut(o.Dir)
	}
	if o.Out, err = filepath.Abs(o.Out); err != nil {
		return l, "", err
	}
	if err := l.build(ctx, o); err != nil {
		return l, "", err
	}
	return l, o.Out, nil
}
