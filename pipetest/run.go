package pipetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"gopkg.in/yaml.v3"

	connmem "github.com/dataweaver/dataweaver/connectors/inmemory"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/internal/suggest"
)

// SuiteResult is the outcome of running one test file.
type SuiteResult struct {
	Suite *Suite
	// Err is set when the tests could not run at all: the pipeline file or
	// a test names something that does not exist. It wraps
	// engine.ErrInvalidConfig.
	Err     error
	Cases   []*CaseResult
	Elapsed time.Duration
}

// Failed reports whether the suite could not run or any test failed.
func (r *SuiteResult) Failed() bool {
	if r.Err != nil {
		return true
	}
	for _, c := range r.Cases {
		if !c.Passed() {
			return true
		}
	}
	return false
}

// CaseResult is the outcome of one test.
type CaseResult struct {
	Case *Case
	// Failures are what did not match, each a readable, possibly
	// multi-line message; none when the test passed.
	Failures []string
	Elapsed  time.Duration

	buildErr error // the pipeline could not be built for this test
}

// Passed reports whether the test passed.
func (r *CaseResult) Passed() bool { return len(r.Failures) == 0 }

// prepared is a test made ready to run against its pipeline: the input's
// configuration parsed, the expected schemas parsed.
type prepared struct {
	c       *Case
	input   Input
	schemas []*arrow.Schema // per expectation; nil when it gives none
}

// Run runs every test of the suite, one after the other, against the
// pipeline file, with opts (the suite's env: and set: come on top of
// opts.Lookup and before opts.Set). Problems with the files themselves are
// all reported, in SuiteResult.Err, before any test runs.
func (s *Suite) Run(ctx context.Context, opts Options) *SuiteResult {
	start := time.Now()
	res := &SuiteResult{Suite: s}
	defer func() { res.Elapsed = time.Since(start) }()
	if s.Pipeline == "" {
		res.Err = fmt.Errorf("%w: %s: pipeline: the file's name does not end in %s, so name the pipeline file it tests",
			engine.ErrInvalidConfig, s.File, Suffix)
		return res
	}
	opts.Lookup = s.lookup(opts.Lookup)
	opts.Set = append(append([]string(nil), s.Set...), opts.Set...)
	p, err := Load(s.Pipeline, opts)
	if err != nil {
		res.Err = fmt.Errorf("pipeline %s: %w", s.Pipeline, err)
		return res
	}
	preps, errs := s.prepare(p, opts)
	if len(errs) > 0 {
		res.Err = inOrder(errs)
		return res
	}
	for _, pr := range preps {
		cr := pr.run(ctx, p, opts)
		if cr.buildErr != nil && errors.Is(cr.buildErr, engine.ErrInvalidConfig) {
			// Every test would fail the same way: the file is at fault.
			res.Err, res.Cases = fmt.Errorf("pipeline %s: %w", s.Pipeline, cr.buildErr), nil
			return res
		}
		res.Cases = append(res.Cases, cr)
	}
	return res
}

// lookup reads ${VAR} from the suite's env: first, then from next.
func (s *Suite) lookup(next func(string) (string, bool)) func(string) (string, bool) {
	if next == nil {
		next = os.LookupEnv
	}
	return func(name string) (string, bool) {
		if v, ok := s.Env[name]; ok {
			return v, true
		}
		return next(name)
	}
}

// prepare checks every test against the pipeline: step names exist, the
// input can be built, expected schemas parse.
func (s *Suite) prepare(p *Pipeline, opts Options) ([]*prepared, spec.Errors) {
	env := opts.Env
	if env == nil {
		env = engine.DefaultEnvironment()
	}
	steps := p.Steps()
	var errs spec.Errors
	var out []*prepared
	for i, c := range s.Tests {
		path := fmt.Sprintf("tests[%d]", i)
		pr := &prepared{c: c}
		in, err := s.input(c, p, env, path+".input")
		if err != nil {
			errs = append(errs, err...)
		}
		pr.input = in
		for _, e := range c.expect {
			if !slices.Contains(steps, e.step) {
				errs = append(errs, stepError(s.File, e.stepNode, e.path+".step", e.step, p))
			}
			var schema *arrow.Schema
			if e.schema != nil {
				sc, err := connmem.ParseSchema(e.schema, s.File, e.path)
				if err != nil {
					errs = append(errs, problems(err, s.File)...)
				}
				schema = sc
			}
			pr.schemas = append(pr.schemas, schema)
		}
		for j, d := range c.deadLetters {
			if d.step != "" && !slices.Contains(steps, d.step) {
				errs = append(errs, stepError(s.File, &yaml.Node{Line: d.line}, fmt.Sprintf("%s.dead_letters[%d].step", path, j), d.step, p))
			}
		}
		if len(c.deadLetters) > 0 && !p.HasDeadLetter() {
			errs = append(errs, &spec.Error{File: s.File, Line: c.deadLetters[0].line, Path: path + ".dead_letters",
				Msg: fmt.Sprintf("pipeline %s has no dead_letter sink, so no row can be dead-lettered", s.Pipeline)})
		}
		out = append(out, pr)
	}
	return out, errs
}

func stepError(file string, at *yaml.Node, path, step string, p *Pipeline) *spec.Error {
	steps := p.Steps()
	msg := fmt.Sprintf("pipeline %q has no step %q", p.Name(), step)
	if best := suggest.Closest(step, steps); best != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", best)
	} else {
		msg += " (steps: " + strings.Join(steps, ", ") + ")"
	}
	e := &spec.Error{File: file, Path: path, Msg: msg}
	if at != nil {
		e.Line, e.Column = at.Line, at.Column
	}
	return e
}

// problems turns an error into positioned problems, keeping those the
// spec parser placed.
func problems(err error, file string) spec.Errors {
	var ce *config.Error
	var many spec.Errors
	var one *spec.Error
	switch {
	case errors.As(err, &ce):
		return ce.Problems
	case errors.As(err, &many):
		return many
	case errors.As(err, &one):
		return spec.Errors{one}
	}
	return spec.Errors{{File: file, Msg: strings.TrimPrefix(err.Error(), engine.ErrInvalidConfig.Error()+": ")}}
}

// input builds the test's stand-in source from its input: mapping, parsed
// by the memory source (rows:) or the file source (file:), so the rows are
// decoded, and rejected, as they would be in a pipeline.
func (s *Suite) input(c *Case, p *Pipeline, env *engine.Environment, path string) (Input, spec.Errors) {
	if c.input == nil {
		return nil, nil // parse already reported it
	}
	srcSchema := p.sourceSchema()
	var node *yaml.Node
	var connector string
	if c.input.Given("rows") {
		connector = "memory"
		schema := c.input.Node("schema")
		if schema == nil {
			schema = srcSchema
		}
		if schema == nil {
			return nil, spec.Errors{c.input.Errorf("", "rows need a schema: (the pipeline's source %s declares none)", p.file.Source.Name)}
		}
		node = mapping(c.input.Node("")).set("schema", schema).set("rows", c.input.Node("rows")).node
	} else {
		connector = "file"
		f := deref(c.input.Node("file"))
		var m *mappingNode
		if f.Kind == yaml.ScalarNode {
			m = mapping(f).set("path", f)
		} else {
			m = mapping(f)
			m.node.Content = append([]*yaml.Node(nil), f.Content...)
		}
		if pn := m.get("path"); pn != nil && pn.Kind == yaml.ScalarNode {
			rel := *pn
			rel.Value = relativeTo(s.File, pn.Value)
			m.set("path", &rel)
		}
		if m.get("schema") == nil && srcSchema != nil {
			m.set("schema", srcSchema)
		}
		node = m.node
		path += ".file"
	}
	plugin := env.Lookup(engine.KindSource, connector)
	if plugin == nil {
		return nil, spec.Errors{c.input.Errorf("", "no %s source in this environment to read the input with", connector)}
	}
	conf, errs := plugin.Spec.Parse(node, s.File, path)
	if len(errs) > 0 {
		return nil, errs
	}
	return func(b engine.Build) (engine.Source, error) { return plugin.NewSource(conf, b) }, nil
}

// sourceSchema is the schema: the pipeline's source declares, if any.
func (p *Pipeline) sourceSchema() *yaml.Node {
	if p.file.Source.Config == nil {
		return nil
	}
	return deref(p.file.Source.Config.Node("schema"))
}

// mappingNode edits a new YAML mapping placed where another node is.
type mappingNode struct{ node *yaml.Node }

func mapping(at *yaml.Node) *mappingNode {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if at != nil {
		n.Line, n.Column = at.Line, at.Column
	}
	return &mappingNode{node: n}
}

func (m *mappingNode) get(key string) *yaml.Node {
	for i := 0; i+1 < len(m.node.Content); i += 2 {
		if m.node.Content[i].Value == key {
			return deref(m.node.Content[i+1])
		}
	}
	return nil
}

func (m *mappingNode) set(key string, v *yaml.Node) *mappingNode {
	for i := 0; i+1 < len(m.node.Content); i += 2 {
		if m.node.Content[i].Value == key {
			m.node.Content[i+1] = v
			return m
		}
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key, Line: v.Line, Column: v.Column}
	m.node.Content = append(m.node.Content, k, v)
	return m
}

// run runs one test and checks what it expects.
func (pr *prepared) run(ctx context.Context, p *Pipeline, opts Options) *CaseResult {
	start := time.Now()
	cr := &CaseResult{Case: pr.c}
	defer func() { cr.Elapsed = time.Since(start) }()
	fail := func(format string, args ...any) { cr.Failures = append(cr.Failures, fmt.Sprintf(format, args...)) }
	// Every test runs on a checked allocator: a stage or connector that
	// keeps a buffer after the run fails the test that shows it.
	base := opts.Mem
	if base == nil {
		base = memory.NewGoAllocator()
	}
	mem := memory.NewCheckedAllocator(base)
	defer func() {
		if n := mem.CurrentAlloc(); n != 0 {
			fail("%d bytes of Arrow memory still allocated after the run: a step does not release what it allocates", n)
		}
	}()
	opts.Mem = mem
	pr.runChecks(ctx, p, opts, cr)
	return cr
}

// runChecks runs the pipeline and compares; every buffer it allocates is
// released when it returns.
func (pr *prepared) runChecks(ctx context.Context, p *Pipeline, opts Options, cr *CaseResult) {
	fail := func(format string, args ...any) { cr.Failures = append(cr.Failures, fmt.Sprintf(format, args...)) }
	p = &Pipeline{file: p.file, opts: opts}
	res, err := p.Run(ctx, pr.input)
	if res == nil {
		cr.buildErr = err
		fail("the pipeline could not be built: %v", err)
		return
	}
	defer res.Release()
	c := pr.c
	switch {
	case c.Error != "" && err == nil:
		fail("the run succeeded, expected it to fail with an error containing %q", c.Error)
	case c.Error != "" && !strings.Contains(err.Error(), c.Error):
		fail("the run failed with an error not containing %q:\n%s", c.Error, indent(err.Error()))
	case c.Error == "" && err != nil:
		fail("the run failed:\n%s", indent(err.Error()))
	}
	for i, e := range c.expect {
		out := res.Step(e.step)
		cr.Failures = append(cr.Failures, checkStep(c.file, e, pr.schemas[i], out, opts.Mem)...)
	}
	if c.checkDead {
		if msg := checkDeadLetters(c.At(), c.file, c.deadLetters, res.DeadLetters); msg != "" {
			cr.Failures = append(cr.Failures, msg)
		}
	}
}

// indent puts every line of s four spaces in.
func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// testFileOf is the test file for a path given on the command line: the
// path itself, or for a pipeline file (orders.yaml) with a test file
// beside it, that file (orders.test.yaml).
func testFileOf(path string) string {
	if strings.HasSuffix(path, Suffix) {
		return path
	}
	t := strings.TrimSuffix(path, filepath.Ext(path)) + Suffix
	if _, err := os.Stat(t); err == nil {
		return t
	}
	return path
}

// Find expands paths into test files. A pipeline file means the test file
// beside it (orders.yaml: orders.test.yaml); another file is taken as it
// is; a directory is searched, recursively, for files ending in Suffix,
// skipping directories whose name starts with "." (.git, .weave-state).
// Each file comes back once, a directory's in lexical order.
func Find(paths ...string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, root := range paths {
		fi, err := os.Stat(root)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			add(testFileOf(root))
			continue
		}
		var found []string
		err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && p != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), Suffix) {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, p := range found {
			add(p)
		}
	}
	return out, nil
}
