package guest

// Log levels, as the host's log/slog numbers them.
const (
	LevelDebug = -4
	LevelInfo  = 0
	LevelWarn  = 4
	LevelError = 8
)

// Log writes one line to the host's log, tagged with the stage's name.
func Log(level int, msg string) { hostLog(level, msg) }

// Logf writes one formatted info line to the host's log (package doc,
// "Messages", for the verbs it takes).
func Logf(format string, args ...any) { hostLog(LevelInfo, sprintf(format, args...)) }
