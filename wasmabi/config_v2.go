package wasmabi

import "time"

// Defaults for ABI v2's limits (ABI.md, "Limits of version 2").
const (
	// DefaultMaxEmitRows bounds the rows one v2 call may emit: 1 Mi rows
	// is 16 of the engine's default batches, room for an explode of
	// every row into many, while a guest that claims 4 billion rows is
	// refused before the host allocates anything for them.
	DefaultMaxEmitRows = 1 << 20
	// DefaultMaxEmitBytes bounds the column bytes (validity, offsets,
	// values) one v2 call may hand the host: what the host copies into
	// Arrow memory per call.
	DefaultMaxEmitBytes = 256 << 20
	// DefaultMaxState bounds a v2 stage's state snapshot. It is saved
	// with the source position at every checkpoint, so it must stay
	// small enough to write every few seconds.
	DefaultMaxState = 64 << 20
)

// v2Limits are ABI v2's per-call and state limits; zero means the default.
type v2Limits struct {
	emitRows  int64
	emitBytes int64
	state     int64
	// eventTime names the event-time column, lateness how far behind the
	// latest event time the watermark stays (watermark.go).
	eventTime string
	lateness  time.Duration
	// idle is how long the stage may see no rows before its event clock
	// moves on with the wall clock (idle.go); 0: never.
	idle time.Duration
	// key names the columns a keyed stage partitions its rows by (keyed.go).
	key []string
}

// WithMaxEmit bounds what one call of a v2 module may emit: rows, and the
// bytes of its columns (validity, offsets and values). 0 keeps the
// default (DefaultMaxEmitRows, DefaultMaxEmitBytes). A call over either
// fails its batch with ErrGuestOutput naming the limit.
func (c Config) WithMaxEmit(rows, bytes int64) Config {
	c.v2.emitRows, c.v2.emitBytes = rows, bytes
	return c
}

// WithMaxState bounds a v2 stage's state snapshot, in bytes; 0 keeps
// DefaultMaxState. A snapshot over it fails the checkpoint, and with it
// the run, with ErrStateTooLarge: a state that cannot be saved cannot be
// resumed either.
func (c Config) WithMaxState(bytes int64) Config { c.v2.state = bytes; return c }

func (l v2Limits) rows() uint64 {
	if l.emitRows <= 0 {
		return DefaultMaxEmitRows
	}
	return uint64(l.emitRows)
}

func (l v2Limits) bytes() uint64 {
	if l.emitBytes <= 0 {
		return DefaultMaxEmitBytes
	}
	return uint64(l.emitBytes)
}

func (l v2Limits) maxState() uint64 {
	if l.state <= 0 {
		return DefaultMaxState
	}
	return uint64(l.state)
}
