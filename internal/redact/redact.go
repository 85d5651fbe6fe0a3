// Package redact keeps the secrets a process was given (passwords, tokens,
// keys from pipeline files) and takes them out of what it prints.
//
// Connectors mark their secret fields in their specs (spec.Field.Secret);
// config.Options.Secret hands every such value to a Set as the file is
// parsed, before anything about the file is printed. The Set's writers
// wrap stdout and stderr, so a secret quoted by a client library's error,
// a log record or a --sample table is replaced too: one place to get right
// instead of every message.
package redact

import (
	"io"
	"strings"
	"sync"

	"github.com/dataweaver/dataweaver/engine/spec"
)

// MinLen is the shortest value redacted. Shorter "secrets" (a test
// password "pw") would rewrite ordinary words and JSON keys everywhere.
const MinLen = 4

// Set is a set of secrets, safe for concurrent use. The zero value is empty
// and ready.
type Set struct {
	mu      sync.RWMutex
	secrets map[string]bool
	r       *strings.Replacer
}

// Add adds a secret. Values shorter than MinLen are ignored.
func (s *Set) Add(secret string) {
	if len(secret) < MinLen {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets[secret] {
		return
	}
	if s.secrets == nil {
		s.secrets = map[string]bool{}
	}
	s.secrets[secret] = true
	pairs := make([]string, 0, 2*len(s.secrets))
	for sec := range s.secrets {
		pairs = append(pairs, sec, spec.Redacted)
	}
	// strings.Replacer tries its old strings in argument order at each
	// position; longest first, so a secret containing another is replaced
	// whole.
	sortLongestFirst(pairs)
	s.r = strings.NewReplacer(pairs...)
}

// String returns text with every secret replaced by spec.Redacted.
func (s *Set) String(text string) string {
	s.mu.RLock()
	r := s.r
	s.mu.RUnlock()
	if r == nil {
		return text
	}
	return r.Replace(text)
}

// Writer returns a writer that redacts what it passes to w. Each Write is
// redacted on its own: a secret split across two writes passes through,
// which is why it wraps writers that get whole lines or records (slog
// handlers, fmt.Fprintf of a line). Writes are serialised, so records
// from several loggers (weave serve's pipelines) never interleave, whatever
// w is.
func (s *Set) Writer(w io.Writer) io.Writer { return &writer{set: s, w: w} }

type writer struct {
	set *Set
	mu  sync.Mutex
	w   io.Writer
}

func (w *writer) Write(p []byte) (int, error) {
	w.set.mu.RLock()
	r := w.set.r
	w.set.mu.RUnlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if r == nil {
		return w.w.Write(p)
	}
	if _, err := io.WriteString(w.w, r.Replace(string(p))); err != nil {
		return 0, err
	}
	// The caller wrote all of p, whatever length it became.
	return len(p), nil
}

// sortLongestFirst orders old/new pairs by the old string's length,
// longest first (insertion sort: a process holds a handful of secrets).
func sortLongestFirst(pairs []string) {
	for i := 2; i < len(pairs); i += 2 {
		for j := i; j >= 2 && len(pairs[j]) > len(pairs[j-2]); j -= 2 {
			pairs[j], pairs[j-2] = pairs[j-2], pairs[j]
			pairs[j+1], pairs[j-1] = pairs[j-1], pairs[j+1]
		}
	}
}
