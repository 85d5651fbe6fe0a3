package sdktest_test

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/internal/wasmtest"
)

const (
	sdkDir  = "guest-sdk/go/guest"
	sdkPath = "github.com/dataweaver/dataweaver/" + sdkDir
)

type checked struct {
	pkg   *types.Package
	files []*ast.File
}

// checkPackage type-checks the Go files of dir that a wasip1/wasm build
// compiles (the standard library comes from the host's export data, which
// does not change the SDK's or the stage's types).
func checkPackage(t *testing.T, fset *token.FileSet, dir, path string, imp types.Importer, info *types.Info) checked {
	t.Helper()
	ctx := build.Default
	ctx.GOOS, ctx.GOARCH = "wasip1", "wasm"
	paths, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	var c checked
	for _, p := range paths {
		if ok, err := ctx.MatchFile(dir, filepath.Base(p)); err != nil || !ok || strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		c.files = append(c.files, f)
	}
	conf := types.Config{Importer: imp}
	var err error
	if c.pkg, err = conf.Check(path, fset, c.files, info); err != nil {
		t.Fatalf("type-checking %s: %v", dir, err)
	}
	return c
}

// sdkImporter gives the check stage the SDK package checked from source.
type sdkImporter struct {
	std types.Importer
	sdk *types.Package
}

func (i sdkImporter) Import(path string) (*types.Package, error) {
	if path == sdkPath {
		return i.sdk, nil
	}
	return i.std.Import(path)
}

// api lists the SDK's exported names from its source, every file whatever
// its build constraint: functions and methods (to be called), constants
// and struct fields (to be used). They are keyed by where they are
// declared (file:line:col), which is also how the type checker's objects
// are matched to them.
func api(t *testing.T, fset *token.FileSet, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	names := map[string]string{}
	add := func(id *ast.Ident, name string) { names[declKey(fset.Position(id.Pos()))] = name }
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				if d.Recv == nil {
					add(d.Name, "func "+d.Name.Name)
				} else if recv := recvName(d.Recv.List[0].Type); ast.IsExported(recv) {
					add(d.Name, "method "+recv+"."+d.Name.Name)
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.ValueSpec:
						for _, id := range s.Names {
							if id.IsExported() {
								add(id, strings.ToLower(d.Tok.String())+" "+id.Name)
							}
						}
					case *ast.TypeSpec:
						st, ok := s.Type.(*ast.StructType)
						if !ok || !s.Name.IsExported() {
							continue
						}
						for _, fld := range st.Fields.List {
							for _, id := range fld.Names {
								if id.IsExported() {
									add(id, "field "+s.Name.Name+"."+id.Name)
								}
							}
						}
					}
				}
			}
		}
	}
	return names
}

// recvName is the type name of a method receiver: T, *T, T[X] or *T[X].
func recvName(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

func declKey(p token.Position) string {
	return fmt.Sprintf("%s:%d:%d", filepath.Base(p.Filename), p.Line, p.Column)
}

// origin is the generic declaration behind an instantiated method or field.
func origin(o types.Object) types.Object {
	switch o := o.(type) {
	case *types.Func:
		return o.Origin()
	case *types.Var:
		return o.Origin()
	}
	return o
}

// TestCheckGuestCoversAPI fails when the check stage (testdata/check) does
// not call some exported function or method of the SDK, or does not use
// some exported constant or field: an API added without a check in the
// stage (and so in TestAll and its siblings) fails here.
func TestCheckGuestCoversAPI(t *testing.T) {
	root, err := wasmtest.Root()
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	want := api(t, fset, filepath.Join(root, sdkDir))
	sdk := checkPackage(t, fset, filepath.Join(root, sdkDir), sdkPath, importer.ForCompiler(fset, "gc", nil), nil)
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}}
	files := checkPackage(t, fset, filepath.Join(root, checkDir), "main", sdkImporter{importer.ForCompiler(fset, "gc", nil), sdk.pkg}, info).files
	// ABI v2's names are exercised by their own check stage (a module
	// registers one stage, v1 or v2).
	files = append(files, checkPackage(t, fset, filepath.Join(root, checkV2Dir), "main", sdkImporter{importer.ForCompiler(fset, "gc", nil), sdk.pkg}, info).files...)
	// List reading (v2 nested types) has its own too.
	files = append(files, checkPackage(t, fset, filepath.Join(root, checkListDir), "main", sdkImporter{importer.ForCompiler(fset, "gc", nil), sdk.pkg}, info).files...)
	// Nested output and struct reading: the nestout stage, explode and nest,
	// checked against arrow-go in transforms/v2test.
	for _, dir := range []string{"guest-sdk/go/sdktest/testdata/nestout", "transforms/explode", "transforms/nest"} {
		files = append(files, checkPackage(t, fset, filepath.Join(root, dir), "main", sdkImporter{importer.ForCompiler(fset, "gc", nil), sdk.pkg}, info).files...)
	}

	used, called := map[string]bool{}, map[string]bool{}
	key := func(id *ast.Ident) string {
		if o := info.Uses[id]; o != nil && o.Pkg() != nil && o.Pkg().Path() == sdkPath {
			return declKey(fset.Position(origin(o).Pos()))
		}
		return ""
	}
	for id := range info.Uses {
		used[key(id)] = true
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			fun := call.Fun
			for {
				switch x := fun.(type) {
				case *ast.ParenExpr:
					fun = x.X
					continue
				case *ast.IndexExpr:
					fun = x.X
					continue
				case *ast.IndexListExpr:
					fun = x.X
					continue
				case *ast.SelectorExpr:
					called[key(x.Sel)] = true
				case *ast.Ident:
					called[key(x)] = true
				}
				break
			}
			return true
		})
	}

	var missing []string
	for k, name := range want {
		isFunc := strings.HasPrefix(name, "func ") || strings.HasPrefix(name, "method ")
		if isFunc && !called[k] || !isFunc && !used[k] {
			missing = append(missing, name+" ("+k+")")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("the check stage (%s) does not exercise %d exported names of the SDK; add a use to it and a check of the result to its tests:\n\t%s",
			checkDir, len(missing), strings.Join(missing, "\n\t"))
	}
	if len(want) < 40 {
		t.Errorf("found only %d exported names in %s: is the listing broken?", len(want), sdkDir)
	}
	t.Logf("%d exported names, all exercised", len(want))
}
