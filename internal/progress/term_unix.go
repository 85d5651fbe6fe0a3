//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package progress

import "golang.org/x/sys/unix"

// IsTerminal reports whether fd is a terminal: the termios ioctl only
// succeeds on one. (golang.org/x/term does the same; x/sys is already a
// dependency, x/term would be one more module for two functions.)
func IsTerminal(fd uintptr) bool {
	_, err := unix.IoctlGetTermios(int(fd), ioctlReadTermios)
	return err == nil
}

// Width returns the terminal's columns, or 0 when unknown.
func Width(fd uintptr) int {
	ws, err := unix.IoctlGetWinsize(int(fd), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}
