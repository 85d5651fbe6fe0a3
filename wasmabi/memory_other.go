//go:build !unix

package wasmabi

import "github.com/tetratelabs/wazero/experimental"

// linearMemory is nil off Unix: wazero's default allocator (memory_unix.go
// says why Unix maps each instance's memory instead).
var linearMemory experimental.MemoryAllocator
