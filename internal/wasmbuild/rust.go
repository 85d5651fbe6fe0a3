package wasmbuild

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

const rustInstall = "Rust with its WebAssembly/WASI standard library: apt-get install -y rustc cargo libstd-rust-dev-wasm32 lld " +
	"(Debian; or rustup target add wasm32-wasip1)"

// rustTargets are the names of the WASI preview 1 target, newest first:
// rustc 1.78 renamed wasm32-wasi to wasm32-wasip1 and 1.84 dropped the
// old name. Debian's rustc 1.63 knows only wasm32-wasi.
var rustTargets = []string{"wasm32-wasip1", "wasm32-wasi"}

// RustFlags are passed to rustc for every crate of a transform:
//
//   - bulk memory and non-trapping float-to-int are Wasm 2.0 core
//     features that wazero enables by default: memcpy/memset become one
//     instruction instead of a loop (which a stage timeout would
//     instrument per iteration) and `x as i64` one saturating
//     instruction instead of a range check around a trapping one;
//   - strip=symbols drops the name section: smaller, and no symbol names
//     in the module.
//
// The build adds one --remap-path-prefix per package directory, so the
// module is the same bytes whatever directory it is built from (panic
// messages name `dataweaver-guest-0.1.0/src/…`, not the checkout).
var RustFlags = []string{"-C", "target-feature=+bulk-memory,+nontrapping-fptoint", "-C", "strip=symbols"}

// rustProfile fixes the parts of the release profile a stage needs
// whatever the crate's Cargo.toml says: one codegen unit and LTO (small
// and fast modules), abort on panic (wasm32 cannot unwind). The rest
// (opt-level…) stays the crate's.
var rustProfile = []string{
	"CARGO_PROFILE_RELEASE_LTO=true",
	"CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1",
	"CARGO_PROFILE_RELEASE_PANIC=abort",
	"CARGO_PROFILE_RELEASE_DEBUG=false",
}

// rustToolchain is a rustc whose sysroot holds a WASI target's standard
// library and the cargo to drive it.
type rustToolchain struct {
	rustc, cargo, target string
}

// rustFallbackDirs are searched for rustc after PATH.
var rustFallbackDirs = []string{"/usr/bin"}

// findRust returns the first rustc on PATH, then /usr/bin/rustc, that can
// build for WASI. The first rustc on PATH is often rustup's, which may
// lack the target (and cannot fetch it offline) while Debian's, further
// on, has it. cargo is the one beside that rustc, so the two match (a
// newer cargo may write a Cargo.lock the older one cannot read).
func findRust(ctx context.Context) (rustToolchain, error) {
	var tried []string
	seen := map[string]bool{}
	for _, dir := range append(filepath.SplitList(os.Getenv("PATH")), rustFallbackDirs...) {
		rustc := filepath.Join(dir, "rustc")
		if st, err := os.Stat(rustc); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			continue
		}
		// /bin and /usr/bin are one directory on merged-/usr systems.
		key := rustc
		if d, err := filepath.EvalSymlinks(dir); err == nil {
			key = filepath.Join(d, "rustc")
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		out, err := exec.CommandContext(ctx, rustc, "--print", "sysroot").Output()
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s (%v)", rustc, err))
			continue
		}
		sysroot := strings.TrimSpace(string(out))
		for _, target := range rustTargets {
			if _, err := os.Stat(filepath.Join(sysroot, "lib", "rustlib", target, "lib")); err != nil {
				continue
			}
			cargo := filepath.Join(dir, "cargo")
			if _, err := os.Stat(cargo); err != nil {
				if cargo, err = exec.LookPath("cargo"); err != nil {
					return rustToolchain{}, fmt.Errorf("%w: %s can build for %s but there is no cargo beside it or on PATH: install %s", ErrToolchain, rustc, target, rustInstall)
				}
			}
			return rustToolchain{rustc: rustc, cargo: cargo, target: target}, nil
		}
		tried = append(tried, fmt.Sprintf("%s (sysroot %s has neither %s)", rustc, sysroot, strings.Join(rustTargets, " nor ")))
	}
	if len(tried) == 0 {
		return rustToolchain{}, fmt.Errorf("%w: building a Rust transform needs rustc and cargo (none on PATH or in /usr/bin): install %s", ErrToolchain, rustInstall)
	}
	return rustToolchain{}, fmt.Errorf("%w: no rustc can build for WASI: tried %s: install %s", ErrToolchain, strings.Join(tried, "; "), rustInstall)
}

// cargoMetadata is the part of `cargo metadata` the build reads.
type cargoMetadata struct {
	WorkspaceRoot string `json:"workspace_root"`
	Packages      []struct {
		Name         string  `json:"name"`
		Version      string  `json:"version"`
		Source       *string `json:"source"` // nil for a path package
		ManifestPath string  `json:"manifest_path"`
		Targets      []struct {
			Name string   `json:"name"`
			Kind []string `json:"kind"`
		} `json:"targets"`
	} `json:"packages"`
}

// buildRust runs cargo build for the crate in o.Dir, with its target
// directory in a temporary one (the source tree stays clean), and copies
// its cdylib to o.Out after checking that it is a stage module.
//
// # Reproducibility
//
// Cargo hashes the absolute path of a path dependency that lies outside
// the workspace (guest-sdk/rust, for a transform in transforms/rust/x)
// into every crate's -C metadata, which orders code and data in the
// module: the same sources built in two checkouts differ. So when a
// crate is its own workspace and has such dependencies, the build runs
// in a mirror: a temporary directory holding symbolic links to the crate
// and its path dependencies at the same relative places, under a virtual
// workspace manifest. Every package is then a workspace member named by
// a relative path, and --remap-path-prefix maps the mirror's root to ".",
// so no absolute path reaches a hash or the module.
func buildRust(ctx context.Context, o Options) error {
	tc, err := findRust(ctx)
	if err != nil {
		return err
	}
	// cargo reports paths from its working directory as the kernel gives
	// it, with symbolic links resolved.
	dir, err := filepath.Abs(o.Dir)
	if err == nil {
		dir, err = filepath.EvalSymlinks(dir)
	}
	if err != nil {
		return err
	}
	manifest, err := os.ReadFile(filepath.Join(dir, "Cargo.toml"))
	if err != nil {
		return fmt.Errorf("%w: %s has no Cargo.toml: a Rust transform is a cdylib crate (guest-sdk/rust/README.md)", ErrCompile, o.Dir)
	}
	tmp, err := os.MkdirTemp("", "weave-build-rust-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	target := filepath.Join(tmp, "target")
	env := []string{"RUSTC=" + tc.rustc, "CARGO_TARGET_DIR=" + target}
	for _, kv := range os.Environ() {
		// Flags meant for native builds must not reach a Wasm one; extra
		// flags come through Options.
		if !strings.HasPrefix(kv, "RUSTFLAGS=") && !strings.HasPrefix(kv, "CARGO_ENCODED_RUSTFLAGS=") &&
			!strings.HasPrefix(kv, "CARGO_BUILD_RUSTFLAGS=") {
			env = append(env, kv)
		}
	}
	cargo := func(cwd string, args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, tc.cargo, args...)
		cmd.Dir = cwd
		cmd.Env = env
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("%w: in %s: %s %s: %w\n%s", ErrCompile, o.Dir, tc.cargo, strings.Join(args, " "), err, strings.TrimRight(stderr.String(), "\n"))
		}
		return out, nil
	}
	out, err := cargo(dir, "metadata", "--format-version", "1", "--offline")
	if err != nil {
		return err
	}
	var meta cargoMetadata
	if err := json.Unmarshal(out, &meta); err != nil {
		return fmt.Errorf("%w: %s: cargo metadata: %w", ErrCompile, o.Dir, err)
	}
	lib, outside, err := rustLayout(meta, dir)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrCompile, o.Dir, err)
	}
	flags := append([]string{}, RustFlags...)
	cwd, args := dir, []string{"build", "--offline", "--release", "--target", tc.target}
	if len(outside) > 0 && meta.WorkspaceRoot == dir && !hasWorkspaceTable(manifest) {
		ws, member, err := rustMirror(filepath.Join(tmp, "ws"), dir, outside, manifest)
		if err != nil {
			return err
		}
		cwd, args = ws, append(args, "--manifest-path", filepath.Join(ws, member, "Cargo.toml"))
		flags = append(flags, "--remap-path-prefix="+ws+"=.")
	} else {
		// In place: paths under the workspace are relative; name the
		// others as crates.io names its sources. The module still depends
		// on where those lie (see above).
		flags = append(flags, "--remap-path-prefix="+meta.WorkspaceRoot+"=.")
		for _, p := range outside {
			flags = append(flags, "--remap-path-prefix="+p.dir+"="+p.name)
		}
	}
	flags = append(flags, "--remap-path-prefix="+target+"=/target")
	for _, f := range o.LDFlags {
		flags = append(flags, "-C", "link-arg="+f)
	}
	// The encoded form keeps paths with spaces whole.
	env = append(env, "CARGO_ENCODED_RUSTFLAGS="+strings.Join(flags, "\x1f"))
	env = append(env, rustProfile...)
	if _, err := cargo(cwd, append(args, o.Args...)...); err != nil {
		return err
	}
	wasm, err := os.ReadFile(filepath.Join(target, tc.target, "release", lib+".wasm"))
	if err != nil {
		return fmt.Errorf("%w: %s: cargo built no %s.wasm: %w", ErrCompile, o.Dir, lib, err)
	}
	if err := checkRustModule(wasm); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrCompile, o.Dir, err)
	}
	return os.WriteFile(o.Out, wasm, 0o644)
}

// rustPackage is a path dependency's directory and <name>-<version>.
type rustPackage struct{ dir, name string }

// rustLayout finds the cdylib of the package in dir (its artifact's base
// name) and the path packages outside dir's workspace, more specific
// directories last (rustc applies the last matching remap).
func rustLayout(meta cargoMetadata, dir string) (lib string, outside []rustPackage, err error) {
	found := false
	for _, p := range meta.Packages {
		pdir := filepath.Dir(p.ManifestPath)
		if p.Source == nil && !within(pdir, meta.WorkspaceRoot) {
			outside = append(outside, rustPackage{pdir, p.Name + "-" + p.Version})
		}
		if pdir != dir {
			continue
		}
		found = true
		for _, t := range p.Targets {
			for _, k := range t.Kind {
				if k == "cdylib" {
					lib = strings.ReplaceAll(t.Name, "-", "_")
				}
			}
		}
	}
	switch {
	case !found:
		return "", nil, errors.New("no package is defined here (Cargo.toml is a virtual workspace? build a member crate's directory)")
	case lib == "":
		return "", nil, errors.New(`the crate has no cdylib target: add [lib] crate-type = ["cdylib"] to Cargo.toml`)
	}
	sort.SliceStable(outside, func(i, j int) bool { return len(outside[i].dir) < len(outside[j].dir) })
	return lib, outside, nil
}

// within reports whether path is dir or lies below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// hasWorkspaceTable reports whether a manifest declares a workspace: the
// crate cannot then be a member of the mirror's.
func hasWorkspaceTable(manifest []byte) bool {
	for _, l := range strings.Split(string(manifest), "\n") {
		l = strings.TrimSpace(l)
		if l == "[workspace]" || strings.HasPrefix(l, "[workspace.") {
			return true
		}
	}
	return false
}

// rustMirror lays out ws (see buildRust): links to dir and to the
// outside packages at their places relative to the deepest directory
// holding them all, and a virtual workspace manifest with dir as its
// member and the crate's profiles (cargo reads profiles only from the
// workspace root). It returns ws and dir's path in it.
func rustMirror(ws, dir string, outside []rustPackage, manifest []byte) (string, string, error) {
	base := dir
	for _, p := range outside {
		for !within(p.dir, base) {
			base = filepath.Dir(base)
		}
	}
	var linked []string
	link := func(d string) error {
		for _, l := range linked {
			if within(d, l) { // already reachable through l
				return nil
			}
		}
		rel, _ := filepath.Rel(base, d)
		at := filepath.Join(ws, rel)
		if err := os.MkdirAll(filepath.Dir(at), 0o755); err != nil {
			return err
		}
		linked = append(linked, d)
		return os.Symlink(d, at)
	}
	dirs := []string{dir}
	for _, p := range outside {
		dirs = append(dirs, p.dir)
	}
	// Outer directories first, so nothing is linked inside a link.
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) < len(dirs[j]) })
	for _, d := range dirs {
		if err := link(d); err != nil {
			return "", "", fmt.Errorf("%w: mirroring %s for a reproducible build: %w", ErrCompile, d, err)
		}
	}
	member, _ := filepath.Rel(base, dir)
	root := fmt.Sprintf("# weave build's mirror of %s\n[workspace]\nresolver = \"2\"\nmembers = [%q]\n\n%s", dir, filepath.ToSlash(member), profileTables(manifest))
	if err := os.WriteFile(filepath.Join(ws, "Cargo.toml"), []byte(root), 0o644); err != nil {
		return "", "", err
	}
	if lock, err := os.ReadFile(filepath.Join(dir, "Cargo.lock")); err == nil {
		if err := os.WriteFile(filepath.Join(ws, "Cargo.lock"), lock, 0o644); err != nil {
			return "", "", err
		}
	}
	return ws, member, nil
}

// profileTables returns the [profile…] tables of a manifest, verbatim.
func profileTables(manifest []byte) string {
	var b strings.Builder
	in := false
	for _, l := range strings.SplitAfter(string(manifest), "\n") {
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "[") {
			in = strings.HasPrefix(t, "[profile.") || strings.HasPrefix(t, "[profile]")
		}
		if in {
			b.WriteString(l)
		}
	}
	return b.String()
}

// checkRustModule says what is wrong with a module the host would refuse:
// an import it does not provide (a crate using a WASI function the SDK
// does not, or a C library's `env` imports) or a missing ABI export (the
// crate never invoked dataweaver_guest::stage!).
func checkRustModule(wasm []byte) error {
	imports, err := WasmImports(wasm)
	if err != nil {
		return err
	}
	var bad []string
	for _, im := range imports {
		if im.Module != "wasi_snapshot_preview1" && !(im.Module == "dataweaver" && im.Name == "log") {
			bad = append(bad, im.Module+"."+im.Name)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("the module imports %s, which the DataWeaver host does not provide (only WASI preview 1 and dataweaver.log)", strings.Join(bad, ", "))
	}
	exports, err := wasmExportNames(wasm)
	if err != nil {
		return err
	}
	var missing []string
	for _, e := range []string{"_initialize", "dw_abi_version", "dw_reserve", "dw_bind", "dw_process"} {
		if !exports[e] {
			missing = append(missing, e)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the module does not export %s: invoke dataweaver_guest::stage!(setup) once in the crate (guest-sdk/rust/README.md)", strings.Join(missing, ", "))
	}
	return nil
}

// wasmExportNames lists the names in a module's export section.
func wasmExportNames(b []byte) (map[string]bool, error) {
	if _, err := WasmImports(b); err != nil { // checks the header and section framing
		return nil, err
	}
	r := wasmReader{b: b[8:]}
	names := map[string]bool{}
	for len(r.b) > 0 && r.err == nil {
		id := r.byte()
		body := r.take(r.u32())
		if id != 7 || r.err != nil {
			continue
		}
		s := wasmReader{b: body}
		for n := s.u32(); n > 0 && s.err == nil; n-- {
			name := s.name()
			s.byte() // kind
			s.u32()  // index
			names[name] = true
		}
		if s.err != nil {
			return nil, s.err
		}
	}
	return names, r.err
}
