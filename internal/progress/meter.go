package progress

import (
	"io"
	"sync"
	"time"
)

// Meter redraws the progress line on w at a fixed interval until Stop.
type Meter struct {
	w     io.Writer
	read  func() Stats
	width func() int

	mu    sync.Mutex
	shown bool // a line is on screen and must be cleared before other output

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// clearLine returns the cursor to column 0 and erases to the end of line.
const clearLine = "\r\x1b[K"

// Start draws read() on w every interval; width reports the terminal's
// columns (0 if unknown) and is asked at each redraw, so resizing works.
func Start(w io.Writer, interval time.Duration, read func() Stats, width func() int) *Meter {
	m := &Meter{w: w, read: read, width: width, stop: make(chan struct{}), done: make(chan struct{})}
	go m.loop(interval)
	return m
}

func (m *Meter) loop(interval time.Duration) {
	defer close(m.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.mu.Lock()
			m.draw()
			m.mu.Unlock()
		}
	}
}

// draw must be called with mu held.
func (m *Meter) draw() {
	_, _ = io.WriteString(m.w, clearLine+Line(m.read(), m.width()))
	m.shown = true
}

func (m *Meter) clear() {
	if m.shown {
		_, _ = io.WriteString(m.w, clearLine)
		m.shown = false
	}
}

// Stop ends the redraws and erases the line, leaving the cursor where the
// line began so the summary prints in its place. It is safe to call twice.
func (m *Meter) Stop() {
	m.once.Do(func() {
		close(m.stop)
		<-m.done
		m.mu.Lock()
		m.clear()
		m.mu.Unlock()
	})
}

// Writer returns a writer to the same terminal that moves the progress
// line out of the way of what it writes (log records, one per Write).
func (m *Meter) Writer() io.Writer { return meterWriter{m} }

type meterWriter struct{ m *Meter }

func (w meterWriter) Write(p []byte) (int, error) {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	redraw := w.m.shown
	w.m.clear()
	n, err := w.m.w.Write(p)
	select {
	case <-w.m.stop:
		// Stopped: leave the screen to whoever writes next.
	default:
		if redraw {
			w.m.draw()
		}
	}
	return n, err
}
