package config

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/engine/spec"
)

// applySets applies --set overrides to the document in order. It returns
// the nodes it inserted, which substitution must leave alone.
func applySets(doc *yaml.Node, sets []string) (map[*yaml.Node]bool, spec.Errors) {
	inserted := map[*yaml.Node]bool{}
	var errs spec.Errors
	for _, s := range sets {
		if err := applySet(doc, s, inserted); err != nil {
			errs = append(errs, &spec.Error{Path: "--set " + s, Msg: err.Error()})
		}
	}
	return inserted, errs
}

// segment is one step of a --set path: a key, or a list index written
// "[2]". A bare "2" is a key in a mapping and an index in a list, so both
// "sinks[0].file" and "sinks.0.file" work.
type segment struct {
	key   string
	index int // -1 unless written [n]
}

func parseSetPath(path string) ([]segment, error) {
	if path == "" {
		return nil, fmt.Errorf("empty path; want e.g. source.file.path=x.csv")
	}
	var segs []segment
	for _, part := range strings.Split(path, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key == "" && rest == "" {
			return nil, fmt.Errorf("empty key in path %q", path)
		}
		if key != "" {
			segs = append(segs, segment{key: key, index: -1})
		}
		if rest == "" && !strings.Contains(part, "[") {
			continue
		}
		// rest is "0]" or "0][1]".
		for _, ix := range strings.Split("["+rest, "[")[1:] {
			num, ok := strings.CutSuffix(ix, "]")
			n, err := strconv.Atoi(num)
			if !ok || err != nil || n < 0 {
				return nil, fmt.Errorf("bad index [%s in path %q; want [0], [1], …", ix, path)
			}
			segs = append(segs, segment{key: num, index: n})
		}
	}
	return segs, nil
}

func applySet(doc *yaml.Node, arg string, inserted map[*yaml.Node]bool) error {
	path, text, ok := strings.Cut(arg, "=")
	if !ok {
		return fmt.Errorf("want path=value, e.g. batch.rows=1000")
	}
	segs, err := parseSetPath(strings.TrimSpace(path))
	if err != nil {
		return err
	}
	val, err := parseSetValue(text)
	if err != nil {
		return err
	}
	if len(doc.Content) == 0 {
		doc.Content = []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}
	}
	n := doc.Content[0]
	where := "the file"
	for i, seg := range segs {
		n = deref(n)
		last := i == len(segs)-1
		if isNull(n) {
			// "batch:" with nothing after it, or a node --set just
			// created: it becomes whatever the path needs.
			*n = *containerFor(seg)
		}
		var slot **yaml.Node
		switch {
		case n.Kind == yaml.MappingNode && seg.index < 0:
			for j := 0; j+1 < len(n.Content); j += 2 {
				if n.Content[j].Value == seg.key {
					slot = &n.Content[j+1]
					break
				}
			}
			if slot == nil {
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: seg.key}, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"})
				slot = &n.Content[len(n.Content)-1]
			}
		case n.Kind == yaml.SequenceNode:
			ix, err := strconv.Atoi(seg.key)
			if err != nil {
				return fmt.Errorf("%s is a list; want an index, not %q", where, seg.key)
			}
			switch {
			case ix < len(n.Content):
			case ix == len(n.Content):
				// One past the end appends, so --set can add a sink.
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"})
			default:
				return fmt.Errorf("index %d is out of range: %s has %d item(s)", ix, where, len(n.Content))
			}
			slot = &n.Content[ix]
		case n.Kind == yaml.MappingNode:
			return fmt.Errorf("%s is a mapping, not a list; write .%s, not [%d]", where, seg.key, seg.index)
		default:
			return fmt.Errorf("%s is %s, which has no %q inside", where, describe(n), seg.key)
		}
		if last {
			*slot = val
			markAll(val, inserted)
			return nil
		}
		n = *slot
		where = setPathString(segs[:i+1])
	}
	return nil
}

func containerFor(seg segment) *yaml.Node {
	if seg.index >= 0 {
		return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	}
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
}

func setPathString(segs []segment) string {
	var b strings.Builder
	for _, s := range segs {
		if s.index >= 0 {
			fmt.Fprintf(&b, "[%d]", s.index)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	return b.String()
}

// parseSetValue reads the value as YAML, so "1000" is an int, "[a, b]" a
// list and "{path: x}" a mapping; an empty value is null, as "key:" is in
// the file (so "sinks[1].discard=" adds a sink without configuration). The
// nodes get no line: they did not come from the file, and a message
// pointing into it would send the reader to the wrong place.
func parseSetValue(text string) (*yaml.Node, error) {
	if strings.TrimSpace(text) == "" {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return nil, fmt.Errorf("value is not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) != 1 {
		return nil, fmt.Errorf("value is not valid YAML")
	}
	v := doc.Content[0]
	clearPositions(v)
	return v, nil
}

func clearPositions(n *yaml.Node) {
	n.Line, n.Column = 0, 0
	for _, c := range n.Content {
		clearPositions(c)
	}
}

func markAll(n *yaml.Node, m map[*yaml.Node]bool) {
	m[n] = true
	for _, c := range n.Content {
		markAll(c, m)
	}
}
