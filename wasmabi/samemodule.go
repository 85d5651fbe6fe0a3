package wasmabi

import (
	"crypto/sha256"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"
)

// A pipeline often runs one module in several stages (the orders job's two
// filters), and each stage's constructor read its file and hashed it
// (runtimeKey, the checked record, the cached rewrite): for a 2 MB Go
// guest ~1.4 ms of CPU each, on the start-up's critical path. So
// ReadModule hands stages that name the same unchanged file (same file,
// size and modification time) the bytes it read for the first, and keyOf
// hashes those once. Only bytes ReadModule returned are remembered, and
// only while they are alive (weak pointers): a stage drops them once its
// module has compiled, so a file changed later (weave serve reloading a
// pipeline) is read again, and nothing is held for long.

// moduleRead is one file ReadModule read.
type moduleRead struct {
	path string
	info os.FileInfo
	wasm weak.Pointer[byte]
	n    int
	// sum is the bytes' sha256, once a stage has hashed them.
	summed bool
	sum    [sha256.Size]byte
}

// sharedSums counts the hashes of bytes ReadModule returned, for
// TestSameModuleRead.
var sharedSums atomic.Int64

var (
	readsMu sync.Mutex
	byPath  = map[string]*moduleRead{}
	byBytes = map[weak.Pointer[byte]]*moduleRead{}
)

// sameRead returns the bytes read before from path when the file is still
// the one they came from, or nil.
func sameRead(path string, info os.FileInfo) []byte {
	readsMu.Lock()
	defer readsMu.Unlock()
	r, ok := byPath[path]
	if !ok || !os.SameFile(r.info, info) || r.info.Size() != info.Size() || !r.info.ModTime().Equal(info.ModTime()) {
		return nil
	}
	p := r.wasm.Value()
	if p == nil {
		return nil
	}
	return unsafe.Slice(p, r.n)
}

// rememberRead records wasm as what path held while info described it,
// and forgets the reads whose bytes are gone.
func rememberRead(path string, info os.FileInfo, wasm []byte) {
	if len(wasm) == 0 {
		return
	}
	readsMu.Lock()
	defer readsMu.Unlock()
	for k, r := range byBytes {
		if k.Value() == nil {
			delete(byBytes, k)
			if byPath[r.path] == r {
				delete(byPath, r.path)
			}
		}
	}
	r := &moduleRead{path: path, info: info, wasm: weak.Make(&wasm[0]), n: len(wasm)}
	byPath[path], byBytes[r.wasm] = r, r
}

// sumOf is sha256.Sum256(wasm), computed once for bytes ReadModule
// handed to several stages.
func sumOf(wasm []byte) [sha256.Size]byte {
	if len(wasm) == 0 {
		return sha256.Sum256(wasm)
	}
	readsMu.Lock()
	r, ok := byBytes[weak.Make(&wasm[0])]
	ok = ok && r.n == len(wasm)
	summed, sum := ok && r.summed, [sha256.Size]byte{}
	if summed {
		sum = r.sum
	}
	readsMu.Unlock()
	if !ok {
		return sha256.Sum256(wasm)
	}
	if summed {
		return sum
	}
	sum = sha256.Sum256(wasm)
	sharedSums.Add(1)
	readsMu.Lock()
	r.summed, r.sum = true, sum
	readsMu.Unlock()
	return sum
}
