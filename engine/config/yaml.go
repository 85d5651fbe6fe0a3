package config

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/engine/spec"
)

// decodeYAML returns the document node of the single YAML document in
// data; an empty input gives a document without content.
func decodeYAML(data []byte, file string) (*yaml.Node, spec.Errors) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &yaml.Node{Kind: yaml.DocumentNode}, nil
		}
		return nil, spec.Errors{syntaxError(file, err)}
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, spec.Errors{syntaxError(file, err)}
	default:
		// Silently ignoring the rest would run half of what the user wrote.
		return nil, spec.Errors{{File: file, Line: extra.Line, Column: extra.Column,
			Msg: "a pipeline file holds one YAML document; remove the second \"---\" and what follows"}}
	}
	return &doc, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns yaml.v3's "yaml: line 3: msg" into a positioned Error.
func syntaxError(file string, err error) *spec.Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &spec.Error{File: file, Line: line, Msg: "YAML syntax: " + m[2]}
	}
	return &spec.Error{File: file, Msg: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
}

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func describe(n *yaml.Node) string {
	n = deref(n)
	switch {
	case n == nil || isNull(n):
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// detach copies n with every alias replaced by a copy of what it names, so
// the copy stands alone: a step's settings in a Recipe may be marshalled
// and parsed in another process, where the anchors elsewhere in the file
// are not. checkAliases has bounded what the copy can grow to; an anchor
// that contains itself (which yaml.v3 lets through) is cut at the cycle.
func detach(n *yaml.Node) *yaml.Node { return detachFrom(n, map[*yaml.Node]bool{}) }

func detachFrom(n *yaml.Node, open map[*yaml.Node]bool) *yaml.Node {
	n = deref(n)
	if n == nil || open[n] {
		return nil
	}
	open[n] = true
	defer delete(open, n)
	c := *n
	c.Anchor, c.Alias = "", nil
	if len(n.Content) > 0 {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, k := range n.Content {
			if c.Content[i] = detachFrom(k, open); c.Content[i] == nil {
				c.Content[i] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
			}
		}
	}
	return &c
}
