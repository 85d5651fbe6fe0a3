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

	guestsdk "github.com/dataweaver/dataweaver/guest-sdk"
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
	// Inside a DataWeaver checkout the transform builds against the
	// checkout's SDK, like the transforms in transforms/; anywhere else it
	// gets its own copy of the SDK carried by this binary, in guest-sdk/,
	// so it builds with nothing but the language's toolchain.
	tree := findTree(abs)
	data := map[string]any{
		"Name":   o.Name,
		"Crate":  strings.ReplaceAll(o.Name, "-", "_"),
		"InTree": tree != "",
		// GuestSDK is the path from the transform to the guest-sdk
		// directory, slash-separated, for build files and imports.
		"GuestSDK": "guest-sdk",
	}
	if tree != "" {
		r, err := filepath.Rel(abs, filepath.Join(tree, "guest-sdk"))
		if err != nil {
			return "", nil, err
		}
		data["GuestSDK"] = filepath.ToSlash(r)
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
	if sdk, ok := guestsdk.Dirs[o.Lang]; ok && tree == "" {
		if err := copySDK(sdk, filepath.Join(dir, "guest-sdk")); err != nil {
			return "", nil, fmt.Errorf("%w: writing the %s SDK into %s: %w", ErrInvalid, o.Lang, dir, err)
		}
		files = append(files, "guest-sdk/"+sdk+"/")
	}
	sort.Strings(files)
	return dir, files, nil
}

// copySDK writes the embedded SDK directory sdk (e.g. "c") under dst
// (dst/c/…). Test files of the SDK stay out: they test the SDK, not the
// transform.
func copySDK(sdk, dst string) error {
	src := guestsdk.FS()
	return fs.WalkDir(src, sdk, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, "_test.go") {
			return err
		}
		b, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
}

// treeModule is the first line of a DataWeaver checkout's go.mod.
const treeModule = "module github.com/dataweaver/dataweaver\n"

// findTree walks up from dir to a DataWeaver checkout: a directory whose
// go.mod is the DataWeaver module's and that holds guest-sdk/. A
// directory merely holding guest-sdk/ (a transform's own copy) is not one.
func findTree(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		mod, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && strings.HasPrefix(string(mod), treeModule) {
			if st, err := os.Stat(filepath.Join(d, "guest-sdk")); err == nil && st.IsDir() {
				return d
			}
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}
