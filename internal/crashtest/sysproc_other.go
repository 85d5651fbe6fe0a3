//go:build !linux

package crashtest

import "syscall"

// sysProcAttr: only Linux can tie a child's life to its parent's; elsewhere
// t.Cleanup is all that kills a child.
func sysProcAttr() *syscall.SysProcAttr { return nil }
