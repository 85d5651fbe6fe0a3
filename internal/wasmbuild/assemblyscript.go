package wasmbuild

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

const asInstall = "Node.js and npm (`apt-get install -y nodejs npm`) and the AssemblyScript compiler: " +
	"`npm ci --prefix guest-sdk/assemblyscript` in a DataWeaver checkout, or `npm install --save-dev assemblyscript` in the transform's own npm project"

// asEntry is the entry file when asconfig.json names none (asinit's layout).
const asEntry = "assembly/index.ts"

// ASArgs is the asc command line for a transform whose asconfig.json is in
// the working directory: its release target, the reactor start function
// the host calls (_initialize), and the output file. Optimisation comes
// from the release target; -O3 is added when the configuration sets no
// level at all, so a module is never built unoptimised.
func ASArgs(conf ASConfig, out string, extra []string) []string {
	var args []string
	if len(conf.Entries) == 0 {
		args = append(args, asEntry)
	}
	args = append(args, "--config", "asconfig.json", "--target", "release", "--exportStart", "_initialize", "--outFile", out)
	if !conf.setsOptimization() {
		args = append(args, "--optimizeLevel", "3", "--shrinkLevel", "0")
	}
	return append(args, extra...)
}

// ASConfig is the part of asconfig.json the builder checks.
type ASConfig struct {
	Entries []string `json:"entries"`
	Options asOptions
	Release asOptions
}

type asOptions map[string]json.RawMessage

func (c ASConfig) setsOptimization() bool {
	for _, o := range []asOptions{c.Options, c.Release} {
		for _, k := range []string{"optimize", "optimizeLevel", "shrinkLevel"} {
			if _, ok := o[k]; ok {
				return true
			}
		}
	}
	return false
}

// ReadASConfig reads dir/asconfig.json. A release build carries no debug
// information (it would embed the build's paths and names), and asc has
// no flag to turn a configured `debug` or `sourceMap` off, so either in
// the options or the release target is an error.
func ReadASConfig(dir string) (ASConfig, error) {
	path := filepath.Join(dir, "asconfig.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return ASConfig{}, err
	}
	var raw struct {
		Entries []string             `json:"entries"`
		Options asOptions            `json:"options"`
		Targets map[string]asOptions `json:"targets"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return ASConfig{}, fmt.Errorf("%w: %s: %w", ErrCompile, path, err)
	}
	c := ASConfig{Entries: raw.Entries, Options: raw.Options, Release: raw.Targets["release"]}
	for where, o := range map[string]asOptions{"options": c.Options, "targets.release": c.Release} {
		for _, k := range []string{"debug", "sourceMap"} {
			if v, ok := o[k]; ok && string(v) != "false" {
				return c, fmt.Errorf("%w: %s: %s.%s is %s; weave build makes release modules without debug information (remove it, or set it only in another target)", ErrCompile, path, where, k, v)
			}
		}
	}
	return c, nil
}

// FindASC returns the asc to build dir with: a node_modules/.bin/asc in dir
// or an ancestor (the transform's own npm project), then the SDK's
// guest-sdk/assemblyscript/node_modules/.bin/asc in dir or an ancestor (a
// DataWeaver checkout after `npm ci --prefix guest-sdk/assemblyscript`),
// then asc on PATH.
func FindASC(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for _, rel := range []string{
		filepath.Join("node_modules", ".bin", "asc"),
		filepath.Join("guest-sdk", "assemblyscript", "node_modules", ".bin", "asc"),
	} {
		for d := abs; ; d = filepath.Dir(d) {
			p := filepath.Join(d, rel)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if p, err := exec.LookPath("asc"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w: building an AssemblyScript transform needs asc: no node_modules/.bin/asc or guest-sdk/assemblyscript/node_modules/.bin/asc in %s or above it, and no asc on PATH: install %s", ErrToolchain, abs, asInstall)
}

func buildAssemblyScript(ctx context.Context, o Options) error {
	conf, err := ReadASConfig(o.Dir)
	if err != nil {
		return err
	}
	if len(conf.Entries) == 0 {
		if _, err := os.Stat(filepath.Join(o.Dir, asEntry)); err != nil {
			return fmt.Errorf("%w: %s: asconfig.json names no entries and there is no %s", ErrCompile, o.Dir, asEntry)
		}
	}
	asc, err := FindASC(o.Dir)
	if errors.Is(err, ErrToolchain) {
		asc, err = installASC(ctx, o.Dir, err)
	}
	if err != nil {
		return err
	}
	// asc is a Node.js script: say so rather than fail with env's message.
	if _, err := exec.LookPath("node"); err != nil {
		return fmt.Errorf("%w: %s needs Node.js: install %s: %w", ErrToolchain, asc, asInstall, err)
	}
	args := ASArgs(conf, o.Out, o.Args)
	cmd := exec.CommandContext(ctx, asc, args...)
	cmd.Dir = o.Dir
	b, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: in %s: %s %s: %w\n%s", ErrCompile, o.Dir, asc, strings.Join(args, " "), err, strings.TrimRight(string(b), "\n"))
	}
	wasm, err := os.ReadFile(o.Out)
	if err != nil {
		return fmt.Errorf("%w: in %s: asc wrote no %s: %w", ErrCompile, o.Dir, o.Out, err)
	}
	// The host satisfies only WASI and dataweaver.log; AssemblyScript
	// imports env.abort unless asconfig.json redirects it. Say how to fix
	// that here rather than when the pipeline loads the module.
	imports, err := WasmImports(wasm)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrCompile, o.Out, err)
	}
	var bad []string
	for _, im := range imports {
		if im.Module != "wasi_snapshot_preview1" && !(im.Module == "dataweaver" && im.Name == "log") {
			bad = append(bad, im.Module+"."+im.Name)
		}
	}
	if len(bad) > 0 {
		_ = os.Remove(o.Out)
		return fmt.Errorf("%w: %s imports %s, which the DataWeaver host does not provide: redirect abort with "+
			`"use": ["abort=<path to guest-sdk/assemblyscript>/assembly/abort/dwAbort"] in asconfig.json's options `+
			"(guest-sdk/assemblyscript/README.md), and avoid trace() and Math.random (env.trace, env.seed)",
			ErrCompile, o.Dir, strings.Join(bad, ", "))
	}
	return nil
}

// installASC installs the AssemblyScript compiler for a transform that
// holds its own copy of the SDK (dir/guest-sdk/assemblyscript, as `weave
// new transform` writes outside a checkout): `npm ci` there, at the
// version its package-lock.json pins, as go build and cargo build fetch
// their dependencies. notFound is FindASC's error, returned as it is when
// there is no such copy: a checkout's shared SDK or a project of one's own
// is installed by hand, never behind the user's back.
func installASC(ctx context.Context, dir string, notFound error) (string, error) {
	sdk := filepath.Join(dir, "guest-sdk", "assemblyscript")
	if _, err := os.Stat(filepath.Join(sdk, "package-lock.json")); err != nil {
		return "", notFound
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("%w: building an AssemblyScript transform needs npm to install the compiler pinned in %s: apt-get install -y nodejs npm: %w",
			ErrToolchain, filepath.Join(sdk, "package-lock.json"), err)
	}
	args := []string{"ci", "--no-audit", "--no-fund"}
	cmd := exec.CommandContext(ctx, npm, args...)
	cmd.Dir = sdk
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w: installing the AssemblyScript compiler: in %s: npm %s: %w\n%s",
			ErrToolchain, sdk, strings.Join(args, " "), err, strings.TrimRight(string(b), "\n"))
	}
	// npm is there and succeeded: an asc still missing is no missing
	// toolchain but a package-lock.json that does not install it.
	asc, err := FindASC(dir)
	if err != nil {
		return "", fmt.Errorf("%w: npm ci in %s installed no asc (does its package-lock.json pin assemblyscript?): %v", ErrCompile, sdk, err)
	}
	return asc, nil
}

// WasmImport is one entry of a module's import section.
type WasmImport struct {
	Module, Name string
	Kind         byte // 0 func, 1 table, 2 memory, 3 global
}

var errWasm = errors.New("malformed wasm module")

// WasmImports lists the imports of a WebAssembly binary module.
func WasmImports(b []byte) ([]WasmImport, error) {
	if len(b) < 8 || string(b[:4]) != "\x00asm" || binary.LittleEndian.Uint32(b[4:8]) != 1 {
		return nil, fmt.Errorf("%w: no wasm version 1 header", errWasm)
	}
	r := wasmReader{b: b[8:]}
	for len(r.b) > 0 {
		id := r.byte()
		size := r.u32()
		body := r.take(size)
		if r.err != nil {
			return nil, r.err
		}
		if id != 2 {
			continue
		}
		s := wasmReader{b: body}
		n := s.u32()
		var out []WasmImport
		for i := uint32(0); i < n && s.err == nil; i++ {
			im := WasmImport{Module: s.name(), Name: s.name(), Kind: s.byte()}
			switch im.Kind {
			case 0: // type index
				s.u32()
			case 1: // reftype, limits
				s.byte()
				s.limits()
			case 2:
				s.limits()
			case 3: // valtype, mutability
				s.byte()
				s.byte()
			default:
				s.err = fmt.Errorf("%w: import kind %d", errWasm, im.Kind)
			}
			out = append(out, im)
		}
		if s.err != nil {
			return nil, s.err
		}
		return out, nil
	}
	return nil, nil
}

type wasmReader struct {
	b   []byte
	err error
}

func (r *wasmReader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *wasmReader) fail() {
	if r.err == nil {
		r.err = fmt.Errorf("%w: truncated", errWasm)
	}
	r.b = nil
}

// u32 reads an unsigned LEB128 of at most 5 bytes.
func (r *wasmReader) u32() uint32 {
	var v uint32
	for i := 0; i < 5; i++ {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v
		}
	}
	r.err = fmt.Errorf("%w: LEB128 longer than 5 bytes", errWasm)
	return 0
}

func (r *wasmReader) take(n uint32) []byte {
	if r.err != nil || uint64(n) > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *wasmReader) name() string { return string(r.take(r.u32())) }

// limits reads a table or memory's limits: a flags byte (bit 0: has a
// maximum, bit 1: shared) and one or two sizes.
func (r *wasmReader) limits() {
	f := r.byte()
	if f > 3 {
		if r.err == nil {
			r.err = fmt.Errorf("%w: limits flags %#x", errWasm, f)
		}
		return
	}
	r.u32()
	if f&1 != 0 {
		r.u32()
	}
}
