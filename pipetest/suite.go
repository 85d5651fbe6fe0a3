package pipetest

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/engine/config"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// Suffix ends the name of a test file; weave test DIR runs every file
// below DIR whose name ends in it.
const Suffix = ".test.yaml"

// The test file's format, declared the way connectors declare theirs, so
// unknown keys get a "did you mean" and every problem its file and line.
var (
	fileSpec = spec.New("test file").Field(
		spec.String("pipeline").Optional().
			Desc("The pipeline file, relative to the test file. Default: the test file's name without .test "+
				"(orders.test.yaml tests orders.yaml)."),
		spec.Map("env").Optional().
			Desc("Values for ${VAR} in the pipeline file; variables not given here come from the environment."),
		spec.StringList("set").Optional().Desc("Overrides of the pipeline file, as weave run --set takes them."),
		spec.Any("tests").Desc("The tests: a list of mappings, each with name, input and what to expect."),
	)
	caseSpec = spec.New("test").Field(
		spec.String("name").Desc("What the test checks; it names the test in weave test's output."),
		spec.Any("input").Desc("What the source reads instead of its real input: rows: (with an optional schema:, "+
			"default the pipeline source's) or file: (a path relative to the test file, or the file source's mapping)."),
		spec.Any("expect").Optional().Desc("What steps must emit: a list of {step, schema, rows, columns, unordered, count}."),
		spec.Any("dead_letters").Optional().Desc("The rows the dead-letter sink must receive, in any order: "+
			"a list of {step, error, row, record}. An empty list means none."),
		spec.String("error").Optional().Desc("The run must fail with an error containing this text."),
	)
	inputSpec = spec.New("input").Field(
		spec.Map("schema").Optional(),
		spec.Any("rows").Optional(),
		spec.Any("file").Optional(),
	)
	expectSpec = spec.New("expect").Field(
		spec.String("step").Desc("A step's name as weave run's summary prints it: source.file, stages[1].wasm, "+
			"a step's name:, sinks[0].file."),
		spec.Map("schema").Optional().Desc("The step's output schema, every column in order, as a memory source's schema:."),
		spec.Any("rows").Optional().Desc("Every row the step emits, as a memory source's rows:."),
		spec.Bool("unordered").Default(false).Desc("Compare rows in any order."),
		spec.Int("count").Optional().Desc("How many rows the step emits."),
		spec.StringList("columns").Optional().Desc("Compare only these columns, in this order; rows then give only these."),
	)
	deadLetterSpec = spec.New("dead letter").Field(
		spec.String("step").Optional().Desc("The step that rejected the row."),
		spec.String("error").Optional().Desc("Text the error must contain."),
		spec.Map("row").Optional().Desc("Values of the rejected row (stage and sink rejects); columns left out are not compared."),
		spec.String("record").Optional().Desc("The rejected record exactly as the source read it (source rejects)."),
	)
)

// Suite is one test file: tests of one pipeline.
type Suite struct {
	// File is the test file, Pipeline the pipeline file it tests.
	File, Pipeline string
	// Env holds the file's env: values, Set its set: overrides.
	Env   map[string]string
	Set   []string
	Tests []*Case
}

// Case is one test of a Suite.
type Case struct {
	Name string
	Line int // where the test starts in the file
	// Error, when set, is text the run's error must contain.
	Error       string
	input       *spec.Parsed
	expect      []*expectation
	deadLetters []*expectedDeadLetter // checked when checkDead
	checkDead   bool
	file        string
}

// At is "file:line" of the test, for messages.
func (c *Case) At() string { return c.file + ":" + strconv.Itoa(c.Line) }

type expectation struct {
	step      string
	stepNode  *yaml.Node
	schema    *yaml.Node // nil: the step's own schema decodes the rows
	rows      *yaml.Node // nil: rows not compared
	unordered bool
	count     int      // -1: not checked
	columns   []string // compare only these (none: every column)
	path      string
	line      int
}

type expectedDeadLetter struct {
	step, err, record string
	hasRecord         bool
	row               []spec.KV
	line              int
}

// ReadSuite reads the test file at path. Its errors wrap
// engine.ErrInvalidConfig and name the file, line and key of every
// problem found.
func ReadSuite(path string) (*Suite, error) {
	data, err := config.ReadFile(path, config.Options{})
	if err != nil {
		return nil, err
	}
	return ParseSuite(data, path)
}

// ParseSuite parses a test file held in data; file names it in messages
// and locates the default pipeline file.
func ParseSuite(data []byte, file string) (*Suite, error) {
	doc, err := config.DecodeDocument(data, file, config.Options{})
	if err != nil {
		return nil, hintBrackets(err, data)
	}
	var root *yaml.Node
	if len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	conf, errs := fileSpec.Parse(root, file, "")
	if root == nil {
		errs = spec.Errors{{File: file, Msg: "empty test file: it needs tests:"}}
	}
	s := &Suite{File: file, Pipeline: defaultPipeline(file)}
	if len(errs) == 0 {
		if p := conf.String("pipeline"); p != "" {
			s.Pipeline = relativeTo(file, p)
		}
		for _, kv := range conf.Map("env") {
			if s.Env == nil {
				s.Env = map[string]string{}
			}
			s.Env[kv.Key] = kv.Value
		}
		s.Set = conf.Strings("set")
		errs = append(errs, s.parseTests(conf.Node("tests"), file)...)
	}
	if len(errs) > 0 {
		return nil, inOrder(errs)
	}
	return s, nil
}

// inOrder is the *config.Error listing errs in file order, as a pipeline
// file's problems are listed.
func inOrder(errs spec.Errors) error {
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Line != errs[j].Line {
			return errs[i].Line < errs[j].Line
		}
		return errs[i].Column < errs[j].Column
	})
	return &config.Error{Problems: errs}
}

// defaultPipeline is orders.yaml for orders.test.yaml.
func defaultPipeline(file string) string {
	if strings.HasSuffix(file, Suffix) {
		return strings.TrimSuffix(file, Suffix) + ".yaml"
	}
	return ""
}

// relativeTo resolves p against the directory of the file naming it.
func relativeTo(file, p string) string {
	if filepath.IsAbs(p) || p == "-" {
		return p
	}
	return filepath.Join(filepath.Dir(file), p)
}

// list returns the items of a YAML list, or an error placed at node.
func list(node *yaml.Node, file, path, what string) ([]*yaml.Node, *spec.Error) {
	node = deref(node)
	if node == nil || node.Kind == yaml.ScalarNode && node.Tag == "!!null" {
		return nil, nil
	}
	if node.Kind != yaml.SequenceNode {
		return nil, &spec.Error{File: file, Line: node.Line, Column: node.Column, Path: path, Msg: "expected a list of " + what}
	}
	items := make([]*yaml.Node, len(node.Content))
	for i, n := range node.Content {
		items[i] = deref(n)
	}
	return items, nil
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func (s *Suite) parseTests(node *yaml.Node, file string) spec.Errors {
	items, lerr := list(node, file, "tests", "tests")
	if lerr != nil {
		return spec.Errors{lerr}
	}
	if len(items) == 0 {
		e := &spec.Error{File: file, Path: "tests", Msg: "no tests: give a list of {name, input, expect}"}
		if node != nil {
			e.Line, e.Column = node.Line, node.Column
		}
		return spec.Errors{e}
	}
	var errs spec.Errors
	names := map[string]int{}
	for i, item := range items {
		path := fmt.Sprintf("tests[%d]", i)
		c, cerrs := parseCase(item, file, path)
		errs = append(errs, cerrs...)
		if c == nil {
			continue
		}
		if prev, dup := names[c.Name]; dup {
			errs = append(errs, &spec.Error{File: file, Line: item.Line, Column: item.Column, Path: path + ".name",
				Msg: fmt.Sprintf("test %q is already defined at line %d: names must be unique", c.Name, prev)})
		}
		names[c.Name] = c.Line
		s.Tests = append(s.Tests, c)
	}
	return errs
}

func parseCase(node *yaml.Node, file, path string) (*Case, spec.Errors) {
	// Go on after the spec's complaints, so the rest of the test is
	// checked too: every problem is reported at once.
	conf, errs := caseSpec.Parse(node, file, path)
	if node == nil || node.Kind != yaml.MappingNode {
		return nil, errs
	}
	c := &Case{Name: conf.String("name"), Line: node.Line, Error: conf.String("error"), file: file}
	if strings.TrimSpace(c.Name) == "" {
		errs = append(errs, conf.Errorf("name", "must not be empty"))
	}
	in, ierrs := inputSpec.Parse(deref(conf.Node("input")), file, path+".input")
	errs = append(errs, ierrs...)
	if len(ierrs) == 0 && conf.Given("input") {
		switch rows, f := in.Given("rows"), in.Given("file"); {
		case rows == f:
			errs = append(errs, conf.Errorf("input", "give either rows: or file:"))
		case f && in.Given("schema"):
			errs = append(errs, in.Errorf("schema", "goes inside file: (file: {path: …, schema: …}) for a file input"))
		}
		c.input = in
	}
	items, lerr := list(conf.Node("expect"), file, path+".expect", "{step, rows} mappings")
	if lerr != nil {
		errs = append(errs, lerr)
	}
	for i, item := range items {
		e, eerrs := parseExpectation(item, file, fmt.Sprintf("%s.expect[%d]", path, i))
		errs = append(errs, eerrs...)
		if e != nil {
			c.expect = append(c.expect, e)
		}
	}
	c.checkDead = conf.Given("dead_letters")
	items, lerr = list(conf.Node("dead_letters"), file, path+".dead_letters", "{step, error, row} mappings")
	if lerr != nil {
		errs = append(errs, lerr)
	}
	for i, item := range items {
		p := fmt.Sprintf("%s.dead_letters[%d]", path, i)
		dc, derrs := deadLetterSpec.Parse(item, file, p)
		errs = append(errs, derrs...)
		if len(derrs) == 0 {
			c.deadLetters = append(c.deadLetters, &expectedDeadLetter{step: dc.String("step"), err: dc.String("error"),
				record: dc.String("record"), hasRecord: dc.Given("record"), row: dc.Map("row"), line: item.Line})
		}
	}
	if len(c.expect) == 0 && !c.checkDead && c.Error == "" && len(errs) == 0 {
		errs = append(errs, &spec.Error{File: file, Line: node.Line, Column: node.Column, Path: path,
			Msg: "the test checks nothing: give expect:, dead_letters: or error:"})
	}
	return c, errs
}

func parseExpectation(node *yaml.Node, file, path string) (*expectation, spec.Errors) {
	conf, errs := expectSpec.Parse(node, file, path)
	if len(errs) > 0 {
		return nil, errs
	}
	e := &expectation{step: conf.String("step"), stepNode: conf.Node("step"), schema: deref(conf.Node("schema")),
		rows: deref(conf.Node("rows")), unordered: conf.Bool("unordered"), count: -1, path: path, line: node.Line}
	e.columns = conf.Strings("columns")
	if conf.Given("columns") && len(e.columns) == 0 {
		errs = append(errs, conf.Errorf("columns", "must name at least one column"))
	}
	if conf.Given("count") {
		e.count = conf.Int("count")
		if e.count < 0 {
			errs = append(errs, conf.Errorf("count", "must not be negative"))
		}
	}
	if e.rows == nil && e.schema == nil && !conf.Given("count") {
		errs = append(errs, conf.Errorf("", "checks nothing: give rows:, schema: or count:"))
	}
	if e.rows != nil && e.rows.Kind != yaml.SequenceNode && !(e.rows.Kind == yaml.ScalarNode && e.rows.Tag == "!!null") {
		errs = append(errs, conf.Errorf("rows", "expected a list of rows (mappings of column to value)"))
	}
	return e, errs
}

// unquotedStep is a step name with brackets written bare inside a flow
// mapping: {step: sinks[0].file, …}. YAML reads the "[" as a list there
// and says only "did not find expected ',' or '}'".
var unquotedStep = regexp.MustCompile(`\{[^}]*\bstep:\s*[^\s"'\[,{}]*\[`)

// hintBrackets adds what to do to YAML's message when the line it points
// at has that mistake, the one default step names invite.
func hintBrackets(err error, data []byte) error {
	var ce *config.Error
	if !errors.As(err, &ce) {
		return err
	}
	// yaml.v3 places this error at the start of an enclosing flow, not
	// always at the bad line, so the whole file is searched.
	bad := 0
	for i, line := range strings.Split(string(data), "\n") {
		if unquotedStep.MatchString(line) {
			bad = i + 1
			break
		}
	}
	if bad == 0 {
		return err
	}
	for _, p := range ce.Problems {
		if strings.HasPrefix(p.Msg, "YAML syntax:") {
			p.Msg += fmt.Sprintf(` (line %d: quote a step name with brackets inside {…}: {step: "sinks[0].file"})`, bad)
		}
	}
	return err
}
