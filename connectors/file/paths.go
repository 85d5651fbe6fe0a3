package file

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dataweaver/dataweaver/connectors/internal/blob"
)

// expand returns the regular files path names, sorted. A plain path must
// exist; a pattern must match at least one file. "**" as a whole path
// element matches any number of directories, including none.
func expand(path string) ([]string, error) {
	if !blob.HasMeta(path) {
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
			if d.Type().IsRegular() && blob.MatchSegments(pat, strings.Split(filepath.ToSlash(filepath.Clean(p)), "/")) {
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
		if blob.HasMeta(p) {
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
