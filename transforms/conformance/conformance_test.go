package conformance_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/internal/wasmtesting"
	"github.com/dataweaver/dataweaver/wasmabi"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the reference implementation")

// fullDump lists the inputs whose whole dump goes into the golden file;
// the larger ones are recorded by the SHA-256 of their dump.
var fullDump = map[string]bool{"empty": true, "one": true, "edges": true}

// reference is the implementation the golden files come from: the Go
// guest where there is one, else the native Go version.
func reference(name string) string {
	if transforms[name][0] == "go" {
		return "go"
	}
	return "native"
}

// TestConformance runs every implementation of every transform through
// every case and input, and compares its output with the reference
// implementation's (in this run) and the reference's with the golden file.
func TestConformance(t *testing.T) {
	names := make([]string, 0, len(transforms))
	for n := range transforms {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		impls := append([]string{"native"}, transforms[name]...)
		for _, tc := range cases[name] {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				ref := reference(name)
				outs := map[string]string{}
				for _, impl := range impls {
					if err := buildErrs[impl+"/"+name]; err != nil {
						t.Errorf("%s/%s: %v", impl, name, err)
						continue
					}
					outs[impl] = run(t, impl, name, tc)
				}
				checkGolden(t, filepath.Join("testdata", name+"-"+tc.name+".golden"), outs[ref])
				for _, impl := range impls {
					if out, ok := outs[impl]; ok && impl != ref && out != outs[ref] {
						t.Errorf("%s/%s differs from %s/%s:\n%s", impl, name, ref, name, firstDiff(outs[ref], outs[impl]))
					}
				}
			})
		}
	}
}

// run returns impl's output for every input, as the text the golden file
// holds, or "bind error" for a configuration the implementation refused.
func run(t *testing.T, impl, name string, tc tcase) string {
	t.Helper()
	mem := wasmtesting.Allocator(t)
	var proc processor
	var err error
	if impl == "native" {
		proc, err = natives[name](tc.conf, schema)
	} else {
		proc, err = wasmProcessor(t, impl, name, tc.conf, mem)
	}
	if tc.bindErr {
		if err == nil {
			proc.close()
			t.Errorf("%s/%s accepted %v; want a bind error", impl, name, tc.conf)
		}
		return "bind error\n"
	}
	if err != nil {
		t.Fatalf("%s/%s bind %v: %v", impl, name, tc.conf, err)
	}
	defer proc.close()
	var all strings.Builder
	for _, in := range inputs {
		rec := wasmtesting.Release(t, in.make(mem))
		out, rejected, err := proc.process(mem, rec)
		if err != nil {
			t.Fatalf("%s/%s on %s: %v", impl, name, in.name, err)
		}
		wasmtesting.Release(t, out)
		var d strings.Builder
		dump(&d, out, rejected)
		fmt.Fprintf(&all, "## %s\n", in.name)
		if fullDump[in.name] {
			all.WriteString(d.String())
		} else {
			fmt.Fprintf(&all, "%s\nsha256: %x\n", strings.SplitN(d.String(), "\n", 3)[1], sha256.Sum256([]byte(d.String())))
			// Keep the whole text for a readable diff between implementations.
			fmt.Fprintf(&all, "%s", indent(d.String()))
		}
	}
	return all.String()
}

// indent marks the lines of a large dump so checkGolden can leave them out
// of the golden file while implementations are still compared on them.
func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString("\t" + l)
		}
	}
	return b.String()
}

func stripIndented(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if !strings.HasPrefix(l, "\t") {
			b.WriteString(l)
		}
	}
	return b.String()
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	got = stripIndented(got)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./transforms/conformance -update to create it)", err)
	}
	if !bytes.Equal(want, []byte(got)) {
		t.Errorf("output differs from %s (go test ./transforms/conformance -update rewrites it):\n%s", path, firstDiff(string(want), got))
	}
}

// firstDiff shows the first line where a and b differ, with context.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	section := ""
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if strings.HasPrefix(x, "## ") {
			section = x
		}
		if x != y {
			return fmt.Sprintf("input %q, line %d:\n  want: %.300s\n  got:  %.300s", strings.TrimPrefix(section, "## "), i+1, x, y)
		}
	}
	return "(no difference)"
}

// processor runs batches through one implementation of a transform.
type processor interface {
	process(mem memory.Allocator, rec arrow.RecordBatch) (arrow.RecordBatch, []int, error)
	close()
}

type wasmStage struct{ s *wasmabi.Stage }

func wasmProcessor(t *testing.T, lang, name string, c conf, mem memory.Allocator) (processor, error) {
	t.Helper()
	s := wasmtesting.NewStage(t, modules[lang+"/"+name], c, mem, wasmtesting.Config().WithCacheDir(cacheDir))
	if _, err := s.Bind(context.Background(), schema); err != nil {
		return nil, err
	}
	return wasmStage{s}, nil
}

func (w wasmStage) process(_ memory.Allocator, rec arrow.RecordBatch) (arrow.RecordBatch, []int, error) {
	out, rejects, err := w.s.Process(context.Background(), rec)
	if err != nil {
		return nil, nil, err
	}
	rows := make([]int, len(rejects))
	for i, r := range rejects {
		rows[i] = r.Row
	}
	return out, rows, nil
}

func (w wasmStage) close() { w.s.Close() }
