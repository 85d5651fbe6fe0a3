package config

import (
	"fmt"
	"strings"

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

// expand substitutes the references in s. "$${" is a literal "${"; a
// variable that is unset (or empty) takes the default after ":-"; an unset
// variable without default is an error, since running with a hole in the
// configuration is worse than stopping.
func expand(s string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", fmt.Errorf("unterminated ${ (write $${ for a literal ${)")
			}
			expr := s[i+2 : i+2+end]
			name, def, hasDef := strings.Cut(expr, ":-")
			if !validVarName(name) {
				return "", fmt.Errorf("bad variable reference ${%s}: want ${NAME} or ${NAME:-default}", expr)
			}
			v, ok := lookup(name)
			switch {
			case hasDef && v == "":
				v = def
			case !ok:
				return "", fmt.Errorf("environment variable %s is not set (give a default with ${%s:-default})", name, name)
			}
			b.WriteString(v)
			i += 2 + end + 1
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), nil
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
