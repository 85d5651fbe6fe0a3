package wasmbuild

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

const cInstall = "clang, lld and wasi-libc: apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32"

// CSDKEnv names a C SDK directory (a copy of guest-sdk/c) to use when
// the transform is not inside a DataWeaver checkout.
const CSDKEnv = "DATAWEAVER_C_SDK"

// cSDKHeader marks a directory as the C SDK; every *.c beside it is
// compiled with every transform.
const cSDKHeader = "dataweaver.h"

// CFlags are the compiler flags of every C source of a transform,
// before the include path:
//
//   - -O2: against -O3 and -Os on the example transforms (see
//     guest-sdk/c/README.md) -O3 was no faster and larger;
//   - bulk memory, non-trapping float-to-int and sign extension are Wasm
//     2.0 core features that wazero enables by default: memcpy/memset
//     become one instruction instead of a loop (which a stage timeout
//     would instrument per iteration), and (int64_t)x is one saturating
//     instruction instead of a range check around a trapping one;
//   - no debug info and -ffile-prefix-map (added per build): the module
//     is the same bytes whatever directory it is built from.
var CFlags = []string{
	"--target=wasm32-wasi", "-O2", "-mbulk-memory", "-mnontrapping-fptoint", "-msign-ext", "-Wall",
}

// CLinkFlags link the objects into a reactor module (wasi-libc's
// crt1-reactor exports _initialize, which the host runs once per
// instance; the SDK exports the ABI's functions) with names stripped.
// Linking is a separate step without -O because clang's driver runs
// binaryen's wasm-opt after linking whenever an -O flag is given and
// wasm-opt is on PATH: the module would then depend on whether (and
// which) binaryen is installed.
var CLinkFlags = []string{"--target=wasm32-wasi", "-mexec-model=reactor", "-Wl,--strip-all"}

// buildC compiles the directory's *.c files and the SDK's, each to an
// object in a temporary directory, and links them into o.Out.
func buildC(ctx context.Context, o Options) error {
	clang := findClang()
	if clang == "" {
		return fmt.Errorf("%w: building a C transform needs %s (no clang or clang-14 on PATH)", ErrToolchain, cInstall)
	}
	sdk, err := findCSDK(o.Dir)
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return err
	}
	// The transform's own files are named relative to its directory (the
	// compiler's working directory), the SDK's by absolute path; both
	// prefixes are remapped, so no path reaches the module.
	srcs, _ := filepath.Glob(filepath.Join(dir, "*.c"))
	if len(srcs) == 0 {
		return fmt.Errorf("%w: %s holds no .c files", ErrCompile, o.Dir)
	}
	for i, s := range srcs {
		srcs[i] = filepath.Base(s)
	}
	tmp, err := os.MkdirTemp("", "weave-build-c-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	sdkSrcs, _ := filepath.Glob(filepath.Join(sdk, "*.c"))
	srcs = append(srcs, sdkSrcs...)
	run := func(args []string) error {
		cmd := exec.CommandContext(ctx, clang, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err == nil {
			return nil
		}
		if missing := cToolchainGap(ctx, clang); missing != "" {
			return fmt.Errorf("%w: building a C transform needs %s: %s", ErrToolchain, cInstall, missing)
		}
		msg := strings.TrimRight(string(out), "\n")
		if strings.Contains(msg, "undefined symbol: dw_stage_setup") {
			msg += "\n(name the stage's setup function with DW_STAGE(setup); see guest-sdk/c/README.md)"
		}
		return fmt.Errorf("%w: in %s: %s %s: %w\n%s", ErrCompile, o.Dir, filepath.Base(clang), strings.Join(args, " "), err, msg)
	}
	link := append([]string{}, CLinkFlags...)
	for _, f := range o.LDFlags {
		link = append(link, "-Wl,"+f)
	}
	link = append(link, "-o", o.Out)
	for i, src := range srcs {
		obj := filepath.Join(tmp, fmt.Sprintf("%d-%s.o", i, strings.TrimSuffix(filepath.Base(src), ".c")))
		args := append([]string{}, CFlags...)
		args = append(args, "-ffile-prefix-map="+dir+"=.", "-ffile-prefix-map="+sdk+"=dataweaver", "-I", sdk)
		args = append(args, o.Args...)
		if err := run(append(args, "-c", "-o", obj, src)); err != nil {
			return err
		}
		link = append(link, obj)
	}
	return run(link)
}

// findClang returns the first of clang and clang-14 on PATH, or "".
func findClang() string {
	for _, name := range []string{"clang", "clang-14"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// cToolchainGap says which part of the Wasm C toolchain is missing after
// a failed build, or "" when everything is there (the failure is the
// code's): clang finds wasi-libc's reactor start file, the wasm-ld linker
// and compiler-rt's builtins (printf's long double arithmetic needs them).
func cToolchainGap(ctx context.Context, clang string) string {
	probe := func(arg string) string {
		b, err := exec.CommandContext(ctx, clang, "--target=wasm32-wasi", arg).Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	exists := func(p string) bool {
		_, err := os.Stat(p)
		return filepath.IsAbs(p) && err == nil
	}
	if !exists(probe("-print-file-name=crt1-reactor.o")) {
		return "wasi-libc is not installed (clang cannot find crt1-reactor.o)"
	}
	if ld := probe("-print-prog-name=wasm-ld"); !exists(ld) {
		if _, err := exec.LookPath(ld); err != nil {
			return "lld's wasm-ld is not installed"
		}
	}
	if !exists(probe("-print-libgcc-file-name")) {
		return "compiler-rt for wasm32 (libclang_rt.builtins-wasm32.a) is not installed"
	}
	return ""
}

// findCSDK returns the directory holding the C SDK for a transform in
// dir: guest-sdk/c of dir or of the nearest directory above it that has
// one (a transform inside a DataWeaver checkout builds against that
// checkout's SDK), else $DATAWEAVER_C_SDK.
//
// A transform scaffolded outside a checkout holds its own copy in
// guest-sdk/c (`weave new transform` writes the one the binary carries),
// so the walk finds it in dir itself.
func findCSDK(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; {
		cand := filepath.Join(d, "guest-sdk", "c")
		if _, err := os.Stat(filepath.Join(cand, cSDKHeader)); err == nil {
			return cand, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	env := os.Getenv(CSDKEnv)
	if env == "" {
		return "", fmt.Errorf("%w: no guest-sdk/c with %s in or above %s and $%s is not set: `weave new transform --lang c` writes a transform with its own copy of the C SDK; or point %s at a copy of DataWeaver's guest-sdk/c", ErrSDK, cSDKHeader, abs, CSDKEnv, CSDKEnv)
	}
	if _, err := os.Stat(filepath.Join(env, cSDKHeader)); err != nil {
		return "", fmt.Errorf("%w: $%s=%s holds no %s (it should name a copy of DataWeaver's guest-sdk/c)", ErrSDK, CSDKEnv, env, cSDKHeader)
	}
	return filepath.Abs(env)
}
