package redact

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

func TestSet(t *testing.T) {
	var s Set
	if got := s.String("nothing to hide"); got != "nothing to hide" {
		t.Errorf("empty set changed text: %q", got)
	}
	s.Add("pw") // too short to redact
	s.Add("hunter2")
	s.Add("hunter2-longer")
	s.Add("hunter2") // twice is once
	for _, tc := range []struct{ in, want string }{
		{"dial: password hunter2 refused", "dial: password [redacted] refused"},
		{"token=hunter2-longer;", "token=[redacted];"},
		{"pw stays: a pwd", "pw stays: a pwd"},
		{"hunter2hunter2", "[redacted][redacted]"},
	} {
		if got := s.String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestWriter: a slog handler writing through the Set's writer never
// prints a secret, whether it sits in the message, an attribute or an
// error value; concurrent Adds and writes are safe (run under -race).
func TestWriter(t *testing.T) {
	var s Set
	var buf bytes.Buffer
	var mu sync.Mutex
	w := s.Writer(lockedWriter{&mu, &buf})
	log := slog.New(slog.NewJSONHandler(w, nil))
	s.Add("s3cr3t-token")
	log.Info("connecting with s3cr3t-token", "dsn", "postgres://u:s3cr3t-token@h/db", "err", fmt.Errorf("auth s3cr3t-token: refused"))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Add(fmt.Sprintf("secret-number-%d", i))
			log.Info(fmt.Sprintf("secret-number-%d", i))
		}()
	}
	wg.Wait()
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	for _, bad := range []string{"s3cr3t", "secret-number"} {
		if strings.Contains(out, bad) {
			t.Errorf("output holds %q:\n%s", bad, out)
		}
	}
	if n := strings.Count(out, "[redacted]"); n != 11 {
		t.Errorf("%d redactions, want 11:\n%s", n, out)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// TestWriterSerialises: writes from many goroutines to one plain buffer
// through the writer never race (run under -race) and none is lost.
func TestWriterSerialises(t *testing.T) {
	var s Set
	var buf bytes.Buffer
	w := s.Writer(&buf)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				fmt.Fprintf(w, "line from %d\n", i)
			}
		}()
	}
	wg.Wait()
	if n := strings.Count(buf.String(), "\n"); n != 800 {
		t.Errorf("%d lines, want 800", n)
	}
}
