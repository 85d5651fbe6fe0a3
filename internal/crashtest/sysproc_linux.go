package crashtest

import "syscall"

// sysProcAttr has the kernel kill a child when the test process dies (a
// panic on go test's -timeout, say) instead of leaving it running.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
