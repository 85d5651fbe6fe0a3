package main

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// hashRE matches what a benchmark note writes for a commit: 7 to 40
// lowercase hex digits standing alone. Tokens made only of decimal digits
// are left out (they are row counts like 5000000); a real abbreviated hash
// with no letter in it is rare enough (under 4% at 7 digits) that the check
// asks authors to cite such a commit with more digits instead.
var hashRE = regexp.MustCompile(`\b[0-9a-f]{7,40}\b`)

// citation is one commit hash cited in a file.
type citation struct {
	file string
	line int
	hash string
}

// citations lists the commit hashes cited in a note. In a raw output under
// bench/results only the header's "commit:" line is read: the benchmark
// output below it may print hex that is not a commit.
func citations(path string) ([]citation, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading cited commits: %w", err)
	}
	defer f.Close()
	raw := strings.HasSuffix(path, ".txt")
	var out []citation
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if raw {
			if !strings.HasPrefix(line, "commit: ") {
				continue
			}
			// "commit: <full hash> (<short hash> <subject>)": the subject may
			// itself mention hashes, so only the first field is the citation.
			line = strings.Fields(line + " x")[1]
		}
		for _, h := range hashRE.FindAllString(line, -1) {
			if strings.ContainsAny(h, "abcdef") {
				out = append(out, citation{path, n, h})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading cited commits from %s: %w", path, err)
	}
	return out, nil
}

// notes lists the files whose figures must be traceable: BENCHMARKS.md,
// every BENCH_NOTES.md, and the raw outputs in bench/results.
func notes(root string) ([]string, error) {
	files := []string{filepath.Join(root, "BENCHMARKS.md")}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch name := d.Name(); {
			case path != root && strings.HasPrefix(name, "."), name == "node_modules", name == "target", name == "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		if d.Name() == "BENCH_NOTES.md" || (filepath.Dir(rel) == filepath.Join("bench", "results") && strings.HasSuffix(rel, ".txt")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing benchmark notes: %w", err)
	}
	return files, nil
}

// unreachable returns, for each citation, why it is not a commit reachable
// from HEAD in the repository at root; an empty result means all are.
func unreachable(root string, cs []citation) []string {
	var bad []string
	for _, c := range cs {
		rel, _ := filepath.Rel(root, c.file)
		full, err := git(root, "rev-parse", "--verify", "--quiet", c.hash+"^{commit}")
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s:%d: %s is not a commit in this repository", rel, c.line, c.hash))
			continue
		}
		if _, err := git(root, "merge-base", "--is-ancestor", full, "HEAD"); err != nil {
			bad = append(bad, fmt.Sprintf("%s:%d: %s is not reachable from HEAD", rel, c.line, c.hash))
		}
	}
	return bad
}
