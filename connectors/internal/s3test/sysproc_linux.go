package s3test

import "syscall"

// sysProcAttr has the kernel kill the server when the test process dies
// (a panic, go test's -timeout) instead of leaving it running.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
