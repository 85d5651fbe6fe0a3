package config

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/internal/suggest"
)

// Top-level keys holding steps; the rest are checked by topSpec.
const (
	keySource     = "source"
	keyStages     = "stages"
	keySinks      = "sinks"
	keyDeadLetter = "dead_letter"
)

func positive(v any) error {
	if n, _ := v.(int); n < 1 {
		return fmt.Errorf("must be at least 1, got %d", n)
	}
	return nil
}

// MaxWorkers bounds a stage's workers. Each worker is a goroutine with a
// batch in flight and, for a Wasm stage, an instance with up to
// memory_limit of memory, so 256 is already far more than the CPU-bound
// stages we ship can use on any machine; a fixed bound, not one scaled by
// GOMAXPROCS, keeps `weave validate` giving the same answer on a laptop
// and on the server that runs the file. (Unbounded, workers: 100000000
// spawned goroutines until memory ran out.)
const MaxWorkers = 256

func workersInRange(v any) error {
	if n, _ := v.(int); n < 1 || n > MaxWorkers {
		return fmt.Errorf("must be between 1 and %d, got %d", MaxWorkers, n)
	}
	return nil
}

func nonEmpty(v any) error {
	if s, _ := v.(string); strings.TrimSpace(s) == "" {
		return errors.New("must not be empty")
	}
	return nil
}

var maxRejectsField = func() *spec.Field {
	return spec.String("max_rejects").Optional().
		Validate(func(v any) error { _, err := ParseRejectLimit(v.(string)); return err }).
		Desc("Fail the run when the step's skip or dead_letter policy absorbs more than this many rows (100), " +
			"or more than this share of the rows it received (0.5%; checked from " + fmt.Sprint(engine.RatioMinRows) +
			" rows on, and at the end for any count). Default: no limit.")
}

// ParseRejectLimit reads a max_rejects value: a row count ("100") or a
// percentage ("0.5%").
func ParseRejectLimit(s string) (engine.RejectLimit, error) {
	s = strings.TrimSpace(s)
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if err != nil || f < 0 || f > 100 || math.IsNaN(f) {
			return engine.RejectLimit{}, fmt.Errorf("%q is not a percentage between 0%% and 100%%", s)
		}
		if f == 0 {
			return engine.RejectLimit{}, errors.New("0% allows no rejected row: use on_error: fail instead")
		}
		return engine.RejectLimit{Ratio: f / 100}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return engine.RejectLimit{}, fmt.Errorf("%q is neither a row count of at least 1 nor a percentage such as 0.5%%", s)
	}
	return engine.RejectLimit{Rows: n}, nil
}

var policyField = func() *spec.Field {
	return spec.String("on_error").OneOf(engine.Policies...).Optional().
		Desc("What happens to rows the step cannot handle; default: the pipeline's on_error.")
}

// topSpec declares the pipeline file's own scalar keys; the step keys
// (source, stages, sinks, dead_letter) are parsed by hand because their
// connector key is not known in advance.
var topSpec = spec.New("pipeline").Field(
	spec.String("name").Optional().Validate(nonEmpty).Desc("Pipeline name, for logs; default: the file name without extension."),
	spec.Object("batch",
		spec.Int("rows").Default(DefaultBatchRows).Validate(positive).Desc("Rows per batch sources aim for."),
		spec.Duration("linger").Default(DefaultBatchLinger).Desc("How long a source waits to fill a batch before sending a partial one."),
	),
	spec.Int("buffer").Optional().Validate(positive).Desc("Batches that may wait between two steps; default: the engine's (4)."),
	spec.String("on_error").OneOf(engine.Policies...).Default("fail").Desc("Default error policy of every step."),
	spec.String("state").Optional().Validate(nonEmpty).
		Desc("Directory where the pipeline's positions are kept between runs, relative to the pipeline file; default: "+DefaultStateDir+" beside it."),
	spec.Duration("checkpoint_every").Default(engine.DefaultCheckpointEvery).
		Desc("Time between checkpoints: positions saved, part files published, message-bus acknowledgements."),
	spec.ByteSize("memory_budget").Optional().
		Validate(func(v any) error {
			if n, _ := v.(int64); n < 1<<20 {
				return errors.New("must be at least 1MiB")
			}
			return nil
		}).
		Desc("Most memory the pipeline's Wasm stages may hold at once: the sum over stages of workers × "+
			"memory_limit (plus 1 MiB per instance) must fit, or the pipeline is refused before it runs. "+
			"Default: the memory of the machine, or of the cgroup (container, systemd unit) weave runs in."),
)

var topKeys = []string{"name", keySource, keyStages, keySinks, "batch", "buffer", "on_error", keyDeadLetter, "state", "checkpoint_every", "memory_budget", keyCoordinator}

// stepKeys declares the keys a step has besides its connector, per kind.
var stepKeys = map[string]*spec.Spec{
	keySource: spec.New(keySource).Field(
		spec.String("name").Optional().Validate(nonEmpty),
		policyField(),
		maxRejectsField(),
	),
	keyStages: spec.New("stage").Field(
		spec.String("name").Optional().Validate(nonEmpty),
		spec.Int("workers").Default(1).Validate(workersInRange),
		spec.Bool("unordered").Default(false),
		policyField(),
		maxRejectsField(),
	),
	keySinks: spec.New("sink").Field(
		spec.String("name").Optional().Validate(nonEmpty),
		policyField(),
		maxRejectsField(),
		spec.Object("retry",
			spec.Int("attempts").Default(engine.DefaultRetry.Attempts).Validate(positive),
			spec.Duration("initial").Default(engine.DefaultRetry.Initial),
			spec.Duration("max").Default(engine.DefaultRetry.Max),
		).Validate(func(v any) error {
			p := v.(*spec.Parsed)
			if p.Duration("initial") > p.Duration("max") {
				return fmt.Errorf("initial (%s) is longer than max (%s)", p.Duration("initial"), p.Duration("max"))
			}
			return nil
		}),
	),
	// The dead-letter sink is a bare engine.Sink: no policy (its own
	// failures fail the run) and no retry setting.
	keyDeadLetter: spec.New(keyDeadLetter).Field(
		spec.String("name").Optional().Validate(nonEmpty),
	),
}

var pluginKind = map[string]string{
	keySource: engine.KindSource, keyStages: engine.KindStage, keySinks: engine.KindSink, keyDeadLetter: engine.KindSink,
}

// parser holds what every step check needs, and the problems found so far.
type parser struct {
	file string
	env  *engine.Environment
	errs spec.Errors
	// secrets are the values of the steps' secret fields (spec.Field.Secret).
	secrets []string
	// policyNodes are the on_error values that chose dead_letter, checked
	// once we know whether the file has a dead-letter sink.
	policyNodes []policyAt
}

type policyAt struct {
	path string
	node *yaml.Node
}

func (p *parser) errAt(n *yaml.Node, path, format string, args ...any) {
	e := &spec.Error{File: p.file, Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

func parseFile(doc *yaml.Node, file string, env *engine.Environment) (*File, spec.Errors) {
	p := &parser{file: file, env: env}
	var root *yaml.Node
	if len(doc.Content) > 0 {
		root = deref(doc.Content[0])
	}
	if isNull(root) {
		p.errAt(doc, "", "empty pipeline file: it needs a source and at least one sink")
		return nil, p.errs
	}
	if root.Kind != yaml.MappingNode {
		p.errAt(root, "", "expected a mapping with source, stages and sinks, got %s", describe(root))
		return nil, p.errs
	}

	// Split the root into step keys and topSpec's keys, reporting unknown
	// and repeated keys here so suggestions draw on every top-level key.
	own := &yaml.Node{Kind: yaml.MappingNode, Line: root.Line, Column: root.Column}
	steps := map[string]*yaml.Node{}
	keyNodes := map[string]*yaml.Node{}
	// A misspelt "sink:" already says what is wrong; "sinks: missing" on
	// top of it would only repeat it.
	misspelt := map[string]bool{}
	var coordKey, coordNode *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch {
		case strings.HasPrefix(k.Value, "x-"):
			// Extension keys hold anchors for the rest of the file to
			// reuse, as in Compose files; they are otherwise ignored.
			continue
		case keyNodes[k.Value] != nil:
			p.errAt(k, k.Value, "key given twice (first on line %d)", keyNodes[k.Value].Line)
			continue
		case !slices.Contains(topKeys, k.Value):
			p.errAt(k, k.Value, "unknown key%s", nameHint(k.Value, topKeys, "known keys"))
			misspelt[suggest.Closest(k.Value, topKeys)] = true
			continue
		}
		keyNodes[k.Value] = k
		switch k.Value {
		case keySource, keyStages, keySinks, keyDeadLetter:
			steps[k.Value] = v
		case keyCoordinator:
			coordKey, coordNode = k, v
		default:
			own.Content = append(own.Content, k, v)
		}
	}
	top, errs := topSpec.Parse(own, file, "")
	p.errs = append(p.errs, errs...)

	f := &File{
		Filename: file,
		Name:     defaultName(file),
		Buffer:   top.Int("buffer"),
		Batch:    Batch{Rows: DefaultBatchRows, Linger: DefaultBatchLinger},
	}
	if top.Has("name") {
		f.Name = top.String("name")
	}
	if b := top.Object("batch"); b != nil {
		f.Batch = Batch{Rows: b.Int("rows"), Linger: b.Duration("linger")}
	}
	if top.Given("state") {
		f.State = stateDir(file, top.String("state"))
	}
	f.CheckpointEvery = top.Duration("checkpoint_every")
	if coordKey != nil {
		p.coordinator(f, coordKey, coordNode)
	}
	if top.Given("memory_budget") {
		n := top.Node("memory_budget")
		f.MemoryBudget = Budget{Bytes: top.ByteSize("memory_budget"), Line: n.Line, Column: n.Column}
	}
	if top.Has("on_error") {
		f.OnError, _ = engine.ParsePolicy(top.String("on_error"))
		if f.OnError == engine.DeadLetter && top.Given("on_error") {
			p.policyNodes = append(p.policyNodes, policyAt{"on_error", top.Node("on_error")})
		}
	}

	if n, ok := steps[keySource]; ok && !isNull(n) {
		if st, ok := p.step(n, keySource, keySource, f.OnError); ok {
			f.Source = st
		}
	} else if !misspelt[keySource] {
		p.errAt(orNode(keyNodes[keySource], root), keySource, "missing: a pipeline needs a source (%s)", p.known(engine.KindSource))
	}
	for i, n := range p.list(steps[keyStages], keyStages, false) {
		if st, ok := p.step(n, keyStages, indexPath(keyStages, i), f.OnError); ok {
			f.Stages = append(f.Stages, st)
		}
	}
	sinks := p.list(steps[keySinks], keySinks, true)
	if len(sinks) == 0 && !p.hasErrAt(keySinks) && !misspelt[keySinks] {
		p.errAt(orNode(keyNodes[keySinks], root), keySinks, "missing: a pipeline needs at least one sink (%s)", p.known(engine.KindSink))
	}
	for i, n := range sinks {
		if st, ok := p.step(n, keySinks, indexPath(keySinks, i), f.OnError); ok {
			f.Sinks = append(f.Sinks, st)
		}
	}
	if n, ok := steps[keyDeadLetter]; ok && !isNull(n) {
		if st, ok := p.step(n, keyDeadLetter, keyDeadLetter, engine.Fail); ok {
			f.DeadLetter = &st
		}
	}

	if f.DeadLetter == nil {
		for _, at := range p.policyNodes {
			p.errAt(at.node, at.path, "dead_letter needs a dead_letter sink: add a top-level dead_letter: with a sink, e.g. {file: {path: rejected.jsonl}}")
		}
	}
	p.checkNames(f)
	f.secrets = p.secrets
	return f, p.errs
}

func orNode(n, fallback *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return fallback
}

func (p *parser) hasErrAt(path string) bool {
	for _, e := range p.errs {
		if e.Path == path {
			return true
		}
	}
	return false
}

// list returns the items of a stages or sinks list. A single step written
// without the list is an error rather than accepted, so files read one way.
func (p *parser) list(n *yaml.Node, key string, required bool) []*yaml.Node {
	n = deref(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		hint := ""
		if n.Kind == yaml.MappingNode {
			hint = " (start each step with \"- \")"
		}
		p.errAt(n, key, "expected a list of steps, got %s%s", describe(n), hint)
		return nil
	}
	return n.Content
}

// step checks one step mapping: exactly one connector key of the right
// kind, the optional step keys, and the connector's own configuration.
func (p *parser) step(n *yaml.Node, key, path string, policy engine.Policy) (Step, bool) {
	n = deref(n)
	kind := pluginKind[key]
	keys := stepKeys[key]
	st := Step{Kind: kind, Path: path, OnError: policy, Workers: 1, Line: n.Line, Column: n.Column}
	before := len(p.errs)

	if n.Kind == yaml.ScalarNode && !isNull(n) && p.env.Lookup(kind, n.Value) != nil {
		// "- discard": a connector that needs no configuration.
		n = &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column, Content: []*yaml.Node{n, {Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}}}
	}
	if n.Kind != yaml.MappingNode {
		p.errAt(n, path, "expected a step: a mapping with one %s key (%s), got %s", kind, p.known(kind), describe(n))
		return st, false
	}

	own := &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	var connKey, connVal *yaml.Node
	seen := map[string]bool{}
	unknown := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case keys.Lookup(k.Value) != nil:
			own.Content = append(own.Content, k, v)
		case seen[k.Value]:
			p.errAt(k, joinPath(path, k.Value), "given twice in one step")
		case p.env.Lookup(kind, k.Value) != nil:
			seen[k.Value] = true
			if connKey != nil {
				p.errAt(k, joinPath(path, k.Value), "a step has one %s, but this one has %s and %s: give each its own step", kind, connKey.Value, k.Value)
				continue
			}
			connKey, connVal = k, v
		default:
			unknown = true
			p.errAt(k, joinPath(path, k.Value), "%s", p.unknownStepKey(k.Value, key, keys))
		}
	}
	conf, errs := keys.Parse(own, p.file, path)
	p.errs = append(p.errs, errs...)
	if connKey == nil {
		if !unknown {
			p.errAt(n, path, "no %s given: add one of its keys (%s)", kind, p.known(kind))
		}
		return st, false
	}

	st.Connector = connKey.Value
	st.plugin = p.env.Lookup(kind, connKey.Value)
	st.Name = joinPath(path, st.Connector)
	if conf.Has("name") {
		st.Name = conf.String("name")
	}
	if conf.Given("on_error") {
		st.OnError, _ = engine.ParsePolicy(conf.String("on_error"))
		if st.OnError == engine.DeadLetter {
			p.policyNodes = append(p.policyNodes, policyAt{joinPath(path, "on_error"), conf.Node("on_error")})
		}
	}
	if conf.Given("max_rejects") {
		st.MaxRejects, _ = ParseRejectLimit(conf.String("max_rejects"))
	}
	if key == keyStages {
		st.Workers = conf.Int("workers")
		st.Unordered = conf.Bool("unordered")
	}
	if r := conf.Object("retry"); r != nil {
		st.Retry = engine.Retry{Attempts: r.Int("attempts"), Initial: r.Duration("initial"), Max: r.Duration("max")}
	}
	parsed, errs := st.plugin.Spec.Parse(deref(connVal), p.file, joinPath(path, st.Connector))
	p.errs = append(p.errs, errs...)
	p.secrets = append(p.secrets, parsed.Secrets()...)
	st.Config = parsed
	st.node = detach(connVal)
	return st, len(p.errs) == before
}

// unknownStepKey explains a key that is neither a step key nor a connector
// of the step's kind, pointing at the likeliest mistake first.
func (p *parser) unknownStepKey(name, key string, keys *spec.Spec) string {
	kind := pluginKind[key]
	for _, other := range []string{keyStages, keySinks, keySource} {
		if other == key || stepKeys[other].Lookup(name) == nil {
			continue
		}
		if key == keyDeadLetter {
			return fmt.Sprintf("the dead_letter sink takes no %s: it has no error policy or retry of its own", name)
		}
		{
			return fmt.Sprintf("%s applies only to %s steps", name, stepKeys[other].Name())
		}
	}
	for _, other := range []string{engine.KindSource, engine.KindStage, engine.KindSink} {
		if other != kind && p.env.Lookup(other, name) != nil {
			return fmt.Sprintf("%s is a %s, not a %s (%s)", name, other, kind, p.known(kind))
		}
	}
	candidates := p.names(kind)
	for _, f := range keys.Fields() {
		candidates = append(candidates, f.Name())
	}
	if best := suggest.Closest(name, candidates); best != "" {
		return fmt.Sprintf("unknown %s or step key %q (did you mean %q? %s)", kind, name, best, p.known(kind))
	}
	return fmt.Sprintf("unknown %s %q (%s)", kind, name, p.known(kind))
}

func (p *parser) names(kind string) []string {
	var out []string
	for _, pl := range p.env.Plugins(kind) {
		out = append(out, pl.Spec.Name())
	}
	return out
}

// known lists the registered connectors of a kind for messages.
func (p *parser) known(kind string) string {
	names := p.names(kind)
	if len(names) == 0 {
		return "no " + kind + "s are registered"
	}
	return "known " + kind + "s: " + strings.Join(names, ", ")
}

// checkNames rejects two steps with one name: metrics, logs and dead
// letters identify steps by name.
func (p *parser) checkNames(f *File) {
	first := map[string]*Step{}
	for _, st := range f.Steps() {
		if st.Name == "" {
			continue
		}
		if prev := first[st.Name]; prev != nil {
			p.errAt(&yaml.Node{Line: st.Line, Column: st.Column}, st.Path, "step name %q is already used by %s (line %d)", st.Name, prev.Path, prev.Line)
			continue
		}
		first[st.Name] = st
	}
}

func nameHint(name string, known []string, label string) string {
	if best := suggest.Closest(name, known); best != "" {
		return fmt.Sprintf(" %q (did you mean %q?)", name, best)
	}
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	return fmt.Sprintf(" %q (%s: %s)", name, label, strings.Join(sorted, ", "))
}
