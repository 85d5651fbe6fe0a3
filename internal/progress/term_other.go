//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package progress

// IsTerminal reports false where we have no termios: no progress line
// there, which is the safe default for logs and pipes.
func IsTerminal(fd uintptr) bool { return false }

// Width returns 0 (unknown).
func Width(fd uintptr) int { return 0 }
