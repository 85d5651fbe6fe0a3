package wasmabi

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dataweaver/dataweaver/internal/guesttext"
	"github.com/tetratelabs/wazero/api"
)

// Limits on what a guest may log, per stage (all its instances together).
const (
	// LogBurst messages may be logged at once, then LogRate a second. A
	// guest that logs once per batch, or a handful of lines at start-up,
	// never meets the limit; one that logs per row is cut to about
	// LogRate lines a second (at most LogRate × MaxLogMessage bytes)
	// instead of flooding stderr. The bucket refills with time rather than
	// per batch so that the bound on output holds however small the
	// batches are.
	LogBurst = 100
	LogRate  = 10
	// MaxLogMessage bytes of one message are logged; the rest is counted
	// and dropped without being read from guest memory.
	MaxLogMessage = 4 << 10
)

// guestLog is the dataweaver.log import of one stage: a token bucket
// shared by the stage's instances, and the count of messages it dropped
// since the last one it let through.
type guestLog struct {
	logger *slog.Logger
	now    func() time.Time

	mu         sync.Mutex
	tokens     float64
	last       time.Time
	suppressed int64
}

func newGuestLog(logger *slog.Logger) *guestLog {
	return &guestLog{logger: logger, now: time.Now, tokens: LogBurst}
}

// allow takes a token, or counts the message as suppressed. When it lets a
// message through after suppressing some, it returns how many, to be
// reported before the message.
func (g *guestLog) allow() (ok bool, dropped int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if !g.last.IsZero() {
		g.tokens = min(LogBurst, g.tokens+now.Sub(g.last).Seconds()*LogRate)
	}
	g.last = now
	if g.tokens < 1 {
		g.suppressed++
		return false, 0
	}
	g.tokens--
	dropped, g.suppressed = g.suppressed, 0
	return true, dropped
}

// flush reports messages suppressed since the last one logged; the stage
// calls it when it closes, so a guest that floods to the end of the run
// still has its count reported.
func (g *guestLog) flush(ctx context.Context) {
	g.mu.Lock()
	dropped := g.suppressed
	g.suppressed = 0
	g.mu.Unlock()
	g.reportSuppressed(ctx, dropped)
}

func (g *guestLog) reportSuppressed(ctx context.Context, n int64) {
	if n > 0 {
		g.logger.Log(ctx, slog.LevelWarn, fmt.Sprintf("guest log: %d messages suppressed", n),
			"burst", LogBurst, "per_second", LogRate)
	}
}

// hostFunc is the import: log(level i32, ptr i32, len i32).
func (g *guestLog) hostFunc(ctx context.Context, m api.Module, stack []uint64) {
	level, ptr, n := int32(stack[0]), uint32(stack[1]), uint32(stack[2])
	ok, dropped := g.allow()
	if !ok {
		return
	}
	g.reportSuppressed(ctx, dropped)
	mem := m.Memory()
	// The whole claimed message must lie in memory, though only its first
	// MaxLogMessage bytes are read: a call that claims 100 MB is refused,
	// not logged in part.
	if uint64(ptr)+uint64(n) > uint64(mem.Size()) {
		g.logger.Warn("guest log call pointed outside its memory", "ptr", ptr, "len", n)
		return
	}
	msg, _ := mem.Read(ptr, min(n, MaxLogMessage))
	text := guesttext.Escape(string(msg))
	if n > MaxLogMessage {
		text += fmt.Sprintf("… (truncated, %d bytes)", n)
	}
	g.logger.Log(ctx, slog.Level(level), text)
}
