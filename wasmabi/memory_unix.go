//go:build unix

package wasmabi

import (
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// linearMemory gives each instance's linear memory its own anonymous
// mapping of the memory limit, reserved (MAP_NORESERVE) but backed only as
// the guest touches pages. wazero's default keeps the memory in the Go heap
// and grows it by copying into a larger slice, so a guest that grew to its
// limit and trapped held old and new copies until the collector ran: a
// 256 MiB memory_limit reached 831 MB of RSS with one worker and 5 GB with
// eight. Here growing never copies, the guest's memory is never more than
// the limit, and it is returned to the system when the instance closes
// (wazero frees it only after a running call has unwound).
var linearMemory experimental.MemoryAllocator = experimental.MemoryAllocatorFunc(allocateLinearMemory)

func allocateLinearMemory(capacity, max uint64) experimental.LinearMemory {
	if max > 0 && max <= 4<<30 {
		buf, err := syscall.Mmap(-1, 0, int(max), syscall.PROT_READ|syscall.PROT_WRITE,
			syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
		if err == nil {
			return &mappedMemory{buf: buf}
		}
	}
	return &heapMemory{buf: make([]byte, 0, capacity)}
}

// mappedMemory is a linear memory in its own mapping: it grows in place.
type mappedMemory struct{ buf []byte }

func (m *mappedMemory) Reallocate(size uint64) []byte {
	if size > uint64(len(m.buf)) {
		return nil // past the limit: memory.grow fails, as the ABI expects
	}
	return m.buf[:size:size]
}

func (m *mappedMemory) Free() {
	if m.buf != nil {
		_ = syscall.Munmap(m.buf)
		m.buf = nil
	}
}
