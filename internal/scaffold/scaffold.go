package scaffold

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"text/template"
)

// ErrInvalid is wrapped by errors about the name, language or directory.
var ErrInvalid = errors.New("scaffold")

//go:embed all:templates
var templates embed.FS

// Languages are the values --lang accepts.
var Languages = []string{"go", "c", "rust", "assemblyscript", "wat"}

// Options say what to write and where.
type Options struct {
	Name string // the transform's name: letters, digits, '-' and '_'
	Lang string // one of Languages
	Dir  string // the directory to create; "" means ./Name
	// SDK is the DataWeaver source tree (holding guest-sdk/) that the new
	// transform builds against. "" means: the tree Dir is inside, if any.
	SDK string
}

var validName = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// New writes the transform and returns the files written, relative to
// the directory. It refuses to write into a directory that exists and is
// not empty.
func New(o Options) (dir string, files []string, err error) {
	if !validName.MatchString(o.Name) {
		return "", nil, fmt.Errorf("%w: name %q: use lower-case letters, digits, - and _, starting with a letter", ErrInvalid, o.Name)
	}
	if !slices.Contains(Languages, o.Lang) {
		return "", nil, fmt.Errorf("%w: language %q: choose one of %s", ErrInvalid, o.Lang, strings.Join(Languages, ", "))
	}
	dir = o.Dir
	if dir == "" {
		dir = o.Name
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return "", nil, fmt.Errorf("%w: %s exists and is not empty", ErrInvalid, dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, err
	}
	sdk := o.SDK
	if sdk == "" {
		sdk = findSDK(abs)
	}
	if sdk != "" {
		if sdk, err = filepath.Abs(sdk); err != nil {
			return "", nil, err
		}
		if _, err := os.Stat(filepath.Join(sdk, "guest-sdk")); err != nil {
			return "", nil, fmt.Errorf("%w: --sdk %s holds no guest-sdk directory (give the DataWeaver source tree)", ErrInvalid, sdk)
		}
	}
	data := map[string]any{
		"Name":  o.Name,
		"Crate": strings.ReplaceAll(o.Name, "-", "_"),
		"SDK":   sdk,
		// InTree: the directory is inside the DataWeaver module itself,
		// so a Go transform needs no go.mod of its own.
		"InTree": sdk != "" && within(abs, sdk),
		"RelSDK": rel(abs, sdk),
	}
	for _, root := range []string{"templates/common", "templates/" + o.Lang} {
		err := fs.WalkDir(templates, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			name := strings.TrimPrefix(p, root+"/")
			name = strings.ReplaceAll(strings.TrimSuffix(name, ".tmpl"), "NAME", o.Name)
			src, err := templates.ReadFile(p)
			if err != nil {
				return err
			}
			t, err := template.New(p).Delims("[[", "]]").Option("missingkey=error").Parse(string(src))
			if err != nil {
				return err
			}
			var out bytes.Buffer
			if err := t.Execute(&out, data); err != nil {
				return err
			}
			if out.Len() == 0 {
				return nil // a template may decide it is not needed
			}
			path := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			files = append(files, name)
			return os.WriteFile(path, out.Bytes(), 0o644)
		})
		if err != nil {
			return "", nil, fmt.Errorf("%w: writing %s: %w", ErrInvalid, dir, err)
		}
	}
	sort.Strings(files)
	return dir, files, nil
}

// findSDK walks up from dir to a directory holding guest-sdk/.
func findSDK(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if st, err := os.Stat(filepath.Join(d, "guest-sdk")); err == nil && st.IsDir() {
			return d
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

func within(dir, root string) bool {
	r, err := filepath.Rel(root, dir)
	return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator))
}

// rel is the SDK's path from dir, slash-separated, for build files that
// want a relative path ("../../guest-sdk/c"); absolute when there is none.
func rel(dir, sdk string) string {
	if sdk == "" {
		return ""
	}
	r, err := filepath.Rel(dir, sdk)
	if err != nil {
		return filepath.ToSlash(sdk)
	}
	return filepath.ToSlash(r)
}
