package config

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/engine/spec"
)

// substitute expands ${VAR} and ${VAR:-default} in every scalar value of
// the tree, in place, so each value keeps its line. Keys are left alone:
// a connector name or field name taken from the environment would make a
// file unreadable on its own. Nodes in skip (--set values) are literal.
func substitute(doc *yaml.Node, lookup func(string) (string, bool), file string, skip map[*yaml.Node]bool) spec.Errors {
	var errs spec.Errors
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if n == nil || skip[n] {
			return
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], joinPath(path, n.Content[i].Value))
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, indexPath(path, i))
			}
		case yaml.ScalarNode:
			if !strings.Contains(n.Value, "${") {
				return
			}
			v, err := expand(n.Value, lookup)
			if err != nil {
				errs = append(errs, &spec.Error{File: file, Line: n.Line, Column: n.Column, Path: path, Msg: err.Error()})
				return
			}
			n.Value = v
			retag(n)
		}
		// Aliases are skipped: the anchored node they name was walked
		// where it is defined, and walking it twice would expand the
		// result of an escaped "$${" a second time.
	}
	walk(doc, "")
	return errs
}

// retag lets a plain scalar be read by what it now holds: "${ROWS}" was a
// string to the YAML parser, but "1000" is an int. Quoted scalars stay
// strings, as written; an empty result is an empty string rather than
// YAML's null, since that is what `path: ${OUT}` with OUT="" means.
func retag(n *yaml.Node) {
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle|yaml.TaggedStyle) != 0 {
		return
	}
	if n.Value == "" {
		n.Tag = "!!str"
		return
	}
	n.Tag = ""
	n.Tag = n.ShortTag()
}

// MaxNesting bounds how deep ${…} may nest inside defaults, as in
// ${A:-${B:-${C:-d}}} (three deep). A fallback chain a person writes is a
// few levels; the bound keeps a hostile value from recursing once per
// "${" of a 4 MiB line.
const MaxNesting = 8

// expand substitutes the references in s, with the shell's rules: "$${"
// is a literal "${"; a variable that is unset (or empty) takes the default
// after ":-", which may itself hold references; a default is expanded only
// when it is used, so ${X:-${Y}} with X set does not need Y. An unset
// variable without default is an error, since running with a hole in the
// configuration is worse than stopping. A default ends at the first "}"
// not closing a reference inside it, so it cannot hold a literal "}".
func expand(s string, lookup func(string) (string, bool)) (string, error) {
	x := expander{s: s, lookup: lookup}
	out, _, err := x.word(0, 0, true)
	return out, err
}

type expander struct {
	s      string
	lookup func(string) (string, bool)
	outer  int // where the outermost reference being expanded starts, for messages
}

// word expands s from i to its end or, inside a default (depth > 0), to
// the "}" that closes the default, whose index it returns unconsumed.
// With eval false it only checks the syntax: that default is not used.
func (x *expander) word(i, depth int, eval bool) (string, int, error) {
	var b strings.Builder
	for i < len(x.s) {
		switch {
		case strings.HasPrefix(x.s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(x.s[i:], "${"):
			v, next, err := x.ref(i, depth, eval)
			if err != nil {
				return "", 0, err
			}
			b.WriteString(v)
			i = next
		case depth > 0 && x.s[i] == '}':
			return b.String(), i, nil
		default:
			b.WriteByte(x.s[i])
			i++
		}
	}
	return b.String(), i, nil
}

// ref expands the reference whose "${" starts at start and returns the
// index after its closing "}".
func (x *expander) ref(start, depth int, eval bool) (string, int, error) {
	if depth == 0 {
		x.outer = start
	}
	if depth == MaxNesting {
		return "", 0, fmt.Errorf("${…} nested more than %d deep in %s: use fewer fallbacks, or set the variable", MaxNesting, clip(x.s[x.outer:]))
	}
	i := start + 2
	j := i
	for j < len(x.s) && x.s[j] != '}' && !strings.HasPrefix(x.s[j:], ":-") {
		j++
	}
	name := x.s[i:j]
	if j == len(x.s) {
		return "", 0, x.unterminated()
	}
	if !validVarName(name) {
		expr := x.s[start:]
		if end := strings.IndexByte(expr, '}'); end >= 0 {
			expr = expr[:end+1]
		}
		return "", 0, fmt.Errorf("bad variable reference %s: want ${NAME} or ${NAME:-default}", clip(expr))
	}
	var v string
	var set bool
	if eval {
		v, set = x.lookup(name)
	}
	if x.s[j] == '}' {
		if eval && !set {
			return "", 0, fmt.Errorf("environment variable %s is not set (give a default with ${%s:-default})", name, name)
		}
		return v, j + 1, nil
	}
	def, end, err := x.word(j+2, depth+1, eval && v == "")
	if err != nil {
		return "", 0, err
	}
	if end == len(x.s) {
		return "", 0, x.unterminated()
	}
	if eval && v == "" {
		v = def
	}
	return v, end + 1, nil
}

func (x *expander) unterminated() error {
	return fmt.Errorf("unterminated %s (write $${ for a literal ${)", clip(x.s[x.outer:]))
}

// clip shortens an expression quoted in a message: the value may be a
// whole file's worth of text.
func clip(s string) string {
	const n = 60
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
