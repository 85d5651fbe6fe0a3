package file

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// hasMeta reports whether path is a pattern rather than a plain name.
func hasMeta(path string) bool { return strings.ContainsAny(path, `*?[`) }

// expand returns the regular files path names, sorted. A plain path must
// exist; a pattern must match at least one file. "**" as a whole path
// element matches any number of directories, including none.
func expand(path string) ([]string, error) {
	if !hasMeta(path) {
		info, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		if info.IsDir() {
			return nil, fmt.Errorf("%s is a directory; use a glob such as %s", path, filepath.Join(path, "*.csv"))
		}
		return []string{path}, nil
	}
	if _, err := filepath.Match(path, ""); err != nil {
		return nil, fmt.Errorf("bad glob %q: %w", path, err)
	}
	var files []string
	if !strings.Contains(path, "**") {
		matches, _ := filepath.Glob(path)
		for _, m := range matches {
			if info, err := os.Stat(m); err == nil && info.Mode().IsRegular() {
				files = append(files, m)
			}
		}
	} else {
		root := walkRoot(path)
		pat := strings.Split(filepath.ToSlash(filepath.Clean(path)), "/")
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == root {
					return err
				}
				return nil // an unreadable subdirectory is not worth failing the glob
			}
			if d.Type().IsRegular() && matchSegments(pat, strings.Split(filepath.ToSlash(filepath.Clean(p)), "/")) {
				files = append(files, p)
			}
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no files match %s", path)
	}
	sort.Strings(files)
	return files, nil
}

// walkRoot is the directory before the first element with a pattern in it,
// so a walk does not visit more of the tree than the pattern can match.
func walkRoot(path string) string {
	parts := strings.Split(filepath.ToSlash(path), "/")
	var fixed []string
	for _, p := range parts[:len(parts)-1] {
		if hasMeta(p) {
			break
		}
		fixed = append(fixed, p)
	}
	root := strings.Join(fixed, "/")
	switch {
	case root == "" && strings.HasPrefix(path, "/"):
		return "/"
	case root == "":
		return "."
	}
	return filepath.FromSlash(root)
}

// matchSegments matches path elements against pattern elements, "**"
// standing for zero or more elements.
func matchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for skip := 0; skip <= len(name); skip++ {
				if matchSegments(pat[1:], name[skip:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := filepath.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
