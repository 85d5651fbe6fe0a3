package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Input files of the file-source pipelines, and the part directories the
// file sink writes.

// writeOrderFiles writes orders as JSON Lines into n files of dir,
// orders-1.jsonl … orders-<n>.jsonl (split evenly, in order), so that the
// glob a pipeline reads spans files and a resumed run starts inside one
// of them or after it.
func writeOrderFiles(t *testing.T, dir string, n int, all []order) {
	t.Helper()
	per := (len(all) + n - 1) / n
	for i := range n {
		var b bytes.Buffer
		for _, o := range all[min(i*per, len(all)):min((i+1)*per, len(all))] {
			b.Write(encodeOrder(t, o))
			b.WriteByte('\n')
		}
		writeFile(t, filepath.Join(dir, fmt.Sprintf("orders-%d.jsonl", i+1)), b.Bytes())
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// partFiles lists the published parts of dir (part-*.jsonl) in number
// order; the names sort that way, being zero-padded.
func partFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "part-*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(m)
	return m
}

// partsCounter returns a function counting the rows written to dir:
// those of its published parts and those flushed to a part still under its
// temporary name (prepared or not). Counting the latter is what spreads a
// kill over the whole checkpoint: the harness kills soon after the count
// reaches its point, and counting only published parts would have every
// kill land just after a rename, never between a part's preparation, the
// position's save and the rename. For the same reason the count is
// returned after a random pause of up to killJitter: a checkpoint takes a
// few milliseconds (fsyncs), and a kill right after a flush would mostly
// land in its first step. A published part never changes (it is renamed
// into place whole), so each is read once; the harness calls this every
// few milliseconds.
func partsCounter(dir string) func(testing.TB) int {
	var mu sync.Mutex
	published := map[string]int{}
	return func(t testing.TB) int {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		defer time.Sleep(rand.N(killJitter))
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return 0 // the sink creates it when it opens
		}
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, e := range entries {
			name := e.Name()
			temp := strings.HasPrefix(name, ".part-")
			if !temp && !strings.HasPrefix(name, "part-") {
				continue
			}
			n, ok := published[name]
			if !ok {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if errors.Is(err, fs.ErrNotExist) {
					continue // renamed or removed since ReadDir
				}
				if err != nil {
					t.Fatal(err)
				}
				n = bytes.Count(b, []byte{'\n'})
				if !temp {
					published[name] = n
				}
			}
			total += n
		}
		return total
	}
}

// killJitter bounds partsCounter's pause.
const killJitter = 5 * time.Millisecond

// partsCopies reads every order of dir's published parts, each with the
// part it is in.
func partsCopies(t *testing.T, dir string) []copyOf {
	t.Helper()
	var out []copyOf
	for _, p := range partFiles(t, dir) {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			out = append(out, copyOf{decodeOrder(t, sc.Bytes()), filepath.Base(p)})
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	return out
}

// noTempParts fails t if dir holds a part's temporary file: after a run
// that ended well every part is either published or removed.
func noTempParts(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("%s holds %s after a run that ended well", dir, e.Name())
		}
	}
}

// partsAtKills records, at each kill (Pipeline.AfterKill), the parts of
// dir present then, published or under their temporary names; last
// resolves them into the unit each kill may repeat (checkRepeatBound).
type partsAtKills struct {
	dir   string
	kills [][]string // per kill, the part names present, as published
}

func (pk *partsAtKills) record(t testing.TB) {
	t.Helper()
	entries, err := os.ReadDir(pk.dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		if tmp, ok := strings.CutPrefix(name, "."); ok {
			name = strings.TrimSuffix(tmp, ".tmp")
		}
		if strings.HasPrefix(name, "part-") {
			names = append(names, name)
		}
	}
	pk.kills = append(pk.kills, names)
}

// last is, for each kill, the highest-numbered part present at the kill
// that is published now ("" when none is).
func (pk *partsAtKills) last(t *testing.T) []string {
	t.Helper()
	published := map[string]bool{}
	for _, p := range partFiles(t, pk.dir) {
		published[filepath.Base(p)] = true
	}
	out := make([]string, len(pk.kills))
	for i, names := range pk.kills {
		for _, n := range names {
			if published[n] && n > out[i] {
				out[i] = n
			}
		}
	}
	return out
}
