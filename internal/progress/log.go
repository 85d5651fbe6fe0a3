package progress

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Attrs are s as log attributes: rows, rows_per_s, bytes and elapsed,
// then percent, bytes_left and eta when the source knows its size. They
// are numbers (durations rounded to the second), not text, so a JSON log
// carries values a collector can graph; the text handler prints them as
// key=value.
func Attrs(s Stats) []slog.Attr {
	a := []slog.Attr{
		slog.Int64("rows", s.Rows),
		slog.Int64("rows_per_s", int64(s.Rate())),
		slog.Int64("bytes", s.Bytes),
		slog.Duration("elapsed", s.Elapsed.Round(time.Second)),
	}
	frac, sized := s.Fraction()
	if !sized {
		return a
	}
	// Whole percents, as on the terminal line: 99.7 is still 99.
	a = append(a, slog.Int("percent", int(frac*100)), slog.Int64("bytes_left", max(s.Total-s.Done, 0)))
	if left, ok := s.Left(); ok {
		a = append(a, slog.Duration("eta", left.Round(time.Second)))
	}
	return a
}

// LogMessage is the message of every progress record, so a reader of the
// log can pick them out.
const LogMessage = "progress"

// Ticker logs a progress record at a fixed interval, for runs whose stderr
// is not a terminal (a service's journal, a CI log, a file): there a
// redrawn line would be noise, and silence until the summary looks like a
// hang.
type Ticker struct {
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// StartTicker logs read() to l at info level every interval until Stop.
// The first record comes after one interval: a run shorter than that logs
// none, its summary says it all.
func StartTicker(l *slog.Logger, interval time.Duration, read func() Stats) *Ticker {
	t := &Ticker{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(t.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-t.stop:
				return
			case <-tick.C:
				l.LogAttrs(context.Background(), slog.LevelInfo, LogMessage, Attrs(read())...)
			}
		}
	}()
	return t
}

// Stop ends the records; none is written after it returns. It is safe to
// call twice.
func (t *Ticker) Stop() {
	t.once.Do(func() {
		close(t.stop)
		<-t.done
	})
}
