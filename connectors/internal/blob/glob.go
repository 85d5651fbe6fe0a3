package blob

import (
	"path"
	"strings"
)

// HasMeta reports whether path is a pattern rather than a plain name.
func HasMeta(path string) bool { return strings.ContainsAny(path, `*?[`) }

// MatchSegments matches path elements against pattern elements, "**"
// standing for zero or more elements: the globs of file paths and of
// object keys.
func MatchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for skip := 0; skip <= len(name); skip++ {
				if MatchSegments(pat[1:], name[skip:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
