package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
)

// inlineRows is a valid pipeline file of at least size bytes whose bulk
// is inline rows in a field decoded whole, the shape of the 50 MB file
// that took 1.18 GB: the case the size limit is for.
func inlineRows(size int) []byte {
	var b strings.Builder
	b.WriteString("source: {generate: {rows: 1}}\nsinks: [discard]\nstages:\n  - wasm:\n      module: m.wasm\n      config:\n        rows:\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "          - {id: %d, email: user%d@example.com, amount: %d.25}\n", i, i, i%1000)
	}
	return []byte(b.String())
}

// padTo pads a valid pipeline file with a comment to exactly size bytes.
func padTo(t *testing.T, data []byte, size int) []byte {
	t.Helper()
	if len(data)+2 > size {
		t.Fatalf("file is %d bytes, cannot pad to %d", len(data), size)
	}
	return append(append(data, '#'), strings.Repeat("x", size-len(data)-2)+"\n"...)
}

func TestFileSizeLimit(t *testing.T) {
	env := testEnv(t)
	dir := t.TempDir()
	valid := []byte("source: {generate: {rows: 1}}\nsinks: [discard]\n")
	const small = 1 << 10
	tests := []struct {
		name  string
		data  []byte
		limit int64  // Options.MaxFileSize
		err   string // "" for accepted
	}{
		{name: "at the default limit", data: padTo(t, inlineRows(config.DefaultMaxFileSize-200), config.DefaultMaxFileSize)},
		{name: "over the default limit", data: padTo(t, valid, config.DefaultMaxFileSize+1),
			err: "pipeline file is 4.0 MiB (4194305 bytes), over the 4MiB limit for pipeline files: put inline data (memory rows, long lists) in a data file and read it with a file source"},
		{name: "50 MB of inline rows", data: padTo(t, valid, 50e6), err: "pipeline file is 47.7 MiB (50000000 bytes), over the 4MiB limit"},
		{name: "at a set limit", data: padTo(t, valid, small), limit: small},
		{name: "over a set limit", data: padTo(t, valid, small+1), limit: small, err: "(1025 bytes), over the 1KiB limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".yaml")
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			opts := config.Options{Env: env, MaxFileSize: tt.limit}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, lerr := config.Load(path, opts)
			runtime.ReadMemStats(&after)
			// A file over the limit is refused by its size, not read:
			// the refusal allocates a few hundred bytes, whatever the file.
			if allocated := after.TotalAlloc - before.TotalAlloc; tt.err != "" && allocated > 64<<10 {
				t.Errorf("Load allocated %d bytes refusing a %d-byte file: it read the file", allocated, len(tt.data))
			}
			_, perr := config.Parse(tt.data, path, opts)
			for what, err := range map[string]error{"Load": lerr, "Parse": perr} {
				switch {
				case tt.err == "" && err != nil:
					t.Errorf("%s: %v", what, err)
				case tt.err == "":
				case err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), tt.err):
					t.Errorf("%s: err = %v, want %q naming the file", what, err, tt.err)
				case !errors.Is(err, engine.ErrInvalidConfig):
					t.Errorf("%s: error does not wrap ErrInvalidConfig: %v", what, err)
				}
			}
		})
	}
}

// TestFileSizeLimitPipe loads from a FIFO, which has no size to stat: the
// loader must stop reading past the limit instead of taking it all.
func TestFileSizeLimitPipe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pipeline.yaml")
	if err := mkfifo(path); err != nil {
		t.Skipf("no FIFOs here (%v); the regular-file cases still run", err)
	}
	const limit = 1 << 10
	// Far more than the limit and than a pipe's buffer (64 KiB on Linux):
	// the write fails once the loader closes its end, which ends the
	// writer.
	data := padTo(t, []byte("source: {generate: {}}\nsinks: [discard]\n"), 1<<20)
	done := make(chan error, 1)
	go func() {
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			done <- err
			return
		}
		_, err = w.Write(data)
		w.Close()
		done <- err
	}()
	_, err := config.Load(path, config.Options{Env: testEnv(t), MaxFileSize: limit})
	want := path + ": pipeline file is more than 1KiB, over the 1KiB limit"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v, want %q", err, want)
	}
	if werr := <-done; werr == nil {
		t.Error("the writer wrote the whole file: the loader read past its limit")
	}
}

// laughs is the "billion laughs" document: levels anchors of nine aliases
// to the one before, the last one used as the wasm stage's config.
func laughs(levels int) string {
	var b strings.Builder
	b.WriteString("x-l0: &l0 [lol]\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "x-l%d: &l%d [", i, i)
		for j := 0; j < 9; j++ {
			fmt.Fprintf(&b, "*l%d, ", i-1)
		}
		b.WriteString("]\n")
	}
	fmt.Fprintf(&b, "source: {generate: {}}\nstages:\n  - wasm: {module: m.wasm, config: *l%d}\nsinks: [discard]\n", levels)
	return b.String()
}

// aliasesAdding is a valid file whose aliases add exactly n*k values: n
// aliases to a list of k values each add k (the alias itself is written).
func aliasesAdding(n, k int) []byte {
	return []byte(fmt.Sprintf("x-list: &list [%s0]\nx-uses: [%s]\nsource: {generate: {}}\nsinks: [discard]\n",
		strings.Repeat("0, ", k-1), strings.TrimSuffix(strings.Repeat("*list, ", n), ", ")))
}

func TestAliasExpansion(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		err  string
	}{
		{name: "billion laughs", data: []byte(laughs(9)),
			err: "b.yaml:13:36: YAML aliases expand to more than 100000 values (*l9 here stands for 823268539): write the values out, or reuse smaller anchors"},
		// 9^40 values: the count saturates instead of overflowing.
		{name: "laughs past int64", data: []byte(laughs(40)), err: "here stands for more than 1099511627776"},
		{name: "at the limit", data: aliasesAdding(100, config.MaxAliasExpansion/100)},
		{name: "past the limit", data: aliasesAdding(101, config.MaxAliasExpansion/100), err: "b.yaml:2:10: YAML aliases expand to more than 100000 values (*list here stands for 1001)"},
		{name: "anchor reused", data: []byte("x-out: &out {path: o.jsonl}\nsource: {generate: {}}\nsinks: [{file: *out}, {file: *out}]\n")},
	}
	env := testEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse(tt.data, "b.yaml", config.Options{Env: env})
			switch {
			case tt.err == "" && err != nil:
				t.Fatal(err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("err = %v, want %q", err, tt.err)
			case err != nil && !errors.Is(err, engine.ErrInvalidConfig):
				t.Errorf("error does not wrap ErrInvalidConfig: %v", err)
			}
		})
	}
}

// TestParseMemory bounds what parsing costs for the files the limits let
// through: a file of inline rows at the size limit, and the billion laughs
// refused. TotalAlloc counts every byte allocated, so it is an upper bound
// on the peak heap the parse added, whenever the collector ran.
func TestParseMemory(t *testing.T) {
	env := testEnv(t)
	tests := []struct {
		name string
		data []byte
		max  uint64 // bytes allocated
	}{
		// Measured: about 40 bytes allocated per byte of inline rows.
		{name: "inline rows at the limit", data: inlineRows(config.DefaultMaxFileSize - 100), max: 256 << 20},
		{name: "billion laughs", data: []byte(laughs(9)), max: 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			f, err := config.Parse(tt.data, "m.yaml", config.Options{Env: env})
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(f)
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d-byte file: %.1f MiB allocated, err=%v", len(tt.data), float64(allocated)/(1<<20), err != nil)
			if allocated > tt.max {
				t.Errorf("parsing allocated %d bytes, want at most %d", allocated, tt.max)
			}
		})
	}
}

func TestParseRejectLimit(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    engine.RejectLimit
		wantErr string
	}{
		{in: "100", want: engine.RejectLimit{Rows: 100}},
		{in: "0.5%", want: engine.RejectLimit{Ratio: 0.005}},
		{in: " 12 % ", want: engine.RejectLimit{Ratio: 0.12}},
		{in: "0%", wantErr: "use on_error: fail"},
		{in: "0", wantErr: "neither a row count"},
		{in: "-3", wantErr: "neither a row count"},
		{in: "150%", wantErr: "between 0% and 100%"},
		{in: "lots", wantErr: "neither a row count"},
	} {
		got, err := config.ParseRejectLimit(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

// Where positions are kept: --state, then the file's state key (relative
// to the file), then .weave-state beside the file for weave run only.
func TestStateDir(t *testing.T) {
	env := testEnv(t)
	for _, tc := range []struct {
		name, file, src string
		opts            config.Options
		want            string
	}{
		{name: "library default: none", file: "jobs/p.yaml", want: ""},
		{name: "weave run default", file: "jobs/p.yaml", opts: config.Options{DefaultState: true}, want: "jobs/.weave-state"},
		{name: "state key is relative to the file", file: "jobs/p.yaml", src: "state: st\n", want: "jobs/st"},
		{name: "absolute state key", file: "jobs/p.yaml", src: "state: /var/lib/weave\n", opts: config.Options{DefaultState: true}, want: "/var/lib/weave"},
		{name: "--state wins", file: "jobs/p.yaml", src: "state: st\n", opts: config.Options{State: "/tmp/x", DefaultState: true}, want: "/tmp/x"},
		{name: "stdin pipeline", file: "-", opts: config.Options{DefaultState: true}, want: ".weave-state"},
		{name: "validate keeps none", file: "p.yaml", src: "state: st\n", opts: config.Options{NoPositions: true}, want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Env = env
			f, err := config.Parse([]byte(tc.src+"source: {generate: {rows: 1}}\nsinks: [discard]\n"), tc.file, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := opts.StateDir(f); got != tc.want {
				t.Errorf("StateDir = %q, want %q", got, tc.want)
			}
		})
	}
}
