// Package apilist lists a module's public Go API, one declaration a line,
// so that `make check` can compare it with the committed docs/api.txt and
// an accidental change to what library users compile against (a renamed
// field, a changed signature, a type that became unexported) fails CI
// instead of surprising them. A deliberate change updates the file with
// `make docs`, and the diff is reviewed with the change.
//
// It reads declarations from the syntax, not from type-checked packages:
// the listing needs no compiled dependencies and runs in a second, and a
// signature written differently but meaning the same (a renamed
// parameter) still shows up, which is a change worth a look anyway.
package apilist

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/printer"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Write lists the exported API of every package under root whose import
// path is modulePath plus its directory, skipping internal, testdata,
// main packages and directories named in skip (relative to root).
func Write(w io.Writer, root, modulePath string, skip []string) error {
	var lines []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		name := d.Name()
		if rel != "." && (name == "internal" || name == "testdata" || name == "node_modules" ||
			strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || slices.Contains(skip, rel)) {
			return filepath.SkipDir
		}
		if rel != "." {
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
		}
		pkgPath := modulePath
		if rel != "." {
			pkgPath += "/" + rel
		}
		pl, err := packageLines(path, pkgPath)
		if err != nil {
			return err
		}
		lines = append(lines, pl...)
		return nil
	})
	if err != nil {
		return err
	}
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}

// packageLines lists one directory's exported declarations, sorted.
func packageLines(dir, pkgPath string) ([]string, error) {
	ctx := build.Default
	ctx.GOOS, ctx.GOARCH = "linux", "amd64" // one listing whatever the machine
	bp, err := ctx.ImportDir(dir, 0)
	if err != nil {
		if _, ok := err.(*build.NoGoError); ok {
			return nil, nil
		}
		return nil, fmt.Errorf("apilist: %s: %w", dir, err)
	}
	if bp.Name == "main" {
		return nil, nil
	}
	fset := token.NewFileSet()
	var out []string
	for _, f := range bp.GoFiles {
		file, err := parser.ParseFile(fset, filepath.Join(dir, f), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("apilist: %w", err)
		}
		for _, decl := range file.Decls {
			out = append(out, declLines(fset, pkgPath, decl)...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func declLines(fset *token.FileSet, pkg string, decl ast.Decl) []string {
	var out []string
	switch d := decl.(type) {
	case *ast.FuncDecl:
		if !d.Name.IsExported() {
			return nil
		}
		recv := ""
		if d.Recv != nil && len(d.Recv.List) > 0 {
			t := d.Recv.List[0].Type
			if !exportedRecv(t) {
				return nil
			}
			recv = "(" + node(fset, t) + ") "
		}
		out = append(out, fmt.Sprintf("pkg %s, method %s%s%s", pkg, recv, d.Name.Name, strings.TrimPrefix(node(fset, d.Type), "func")))
		if recv == "" {
			out[0] = strings.Replace(out[0], ", method ", ", func ", 1)
		}
	case *ast.GenDecl:
		for _, spec := range d.Specs {
			switch s := spec.(type) {
			case *ast.TypeSpec:
				if !s.Name.IsExported() {
					continue
				}
				out = append(out, typeLines(fset, pkg, s)...)
			case *ast.ValueSpec:
				kind := "var"
				if d.Tok == token.CONST {
					kind = "const"
				}
				for _, n := range s.Names {
					if !n.IsExported() {
						continue
					}
					l := fmt.Sprintf("pkg %s, %s %s", pkg, kind, n.Name)
					if s.Type != nil {
						l += " " + node(fset, s.Type)
					}
					out = append(out, l)
				}
			}
		}
	}
	return out
}

// typeLines lists a type and, for structs and interfaces, each exported
// field or method on a line of its own, so a diff names the member.
func typeLines(fset *token.FileSet, pkg string, s *ast.TypeSpec) []string {
	name := s.Name.Name
	if s.TypeParams != nil {
		var ps []string
		for _, f := range s.TypeParams.List {
			var names []string
			for _, n := range f.Names {
				names = append(names, n.Name)
			}
			ps = append(ps, strings.Join(names, ", ")+" "+node(fset, f.Type))
		}
		name += "[" + strings.Join(ps, ", ") + "]"
	}
	assign := " "
	if s.Assign.IsValid() {
		assign = " = "
	}
	head := fmt.Sprintf("pkg %s, type %s", pkg, name)
	switch t := s.Type.(type) {
	case *ast.StructType:
		out := []string{head + assign + "struct"}
		for _, f := range t.Fields.List {
			typ := node(fset, f.Type)
			if len(f.Names) == 0 { // embedded
				if embeddedExported(f.Type) {
					out = append(out, fmt.Sprintf("%s, embedded %s", head, typ))
				}
				continue
			}
			for _, n := range f.Names {
				if n.IsExported() {
					out = append(out, fmt.Sprintf("%s, field %s %s", head, n.Name, typ))
				}
			}
		}
		return out
	case *ast.InterfaceType:
		out := []string{head + assign + "interface"}
		for _, m := range t.Methods.List {
			if len(m.Names) == 0 {
				out = append(out, fmt.Sprintf("%s, embedded %s", head, node(fset, m.Type)))
				continue
			}
			for _, n := range m.Names {
				if n.IsExported() {
					out = append(out, fmt.Sprintf("%s, method %s%s", head, n.Name, strings.TrimPrefix(node(fset, m.Type), "func")))
				}
			}
		}
		return out
	}
	return []string{head + assign + node(fset, s.Type)}
}

func exportedRecv(t ast.Expr) bool {
	switch x := t.(type) {
	case *ast.StarExpr:
		return exportedRecv(x.X)
	case *ast.IndexExpr:
		return exportedRecv(x.X)
	case *ast.IndexListExpr:
		return exportedRecv(x.X)
	case *ast.Ident:
		return x.IsExported()
	}
	return false
}

func embeddedExported(t ast.Expr) bool {
	switch x := t.(type) {
	case *ast.StarExpr:
		return embeddedExported(x.X)
	case *ast.SelectorExpr:
		return x.Sel.IsExported()
	case *ast.Ident:
		return x.IsExported()
	}
	return false
}

// node prints an expression on one line.
func node(fset *token.FileSet, n ast.Node) string {
	var b bytes.Buffer
	_ = (&printer.Config{Mode: printer.RawFormat}).Fprint(&b, fset, n)
	return strings.Join(strings.Fields(b.String()), " ")
}
