//go:build wasip1

package guest

import "unsafe"

//go:wasmimport dataweaver log
func dwLog(level int32, ptr unsafe.Pointer, n int32)

func hostLog(level int, msg string) {
	dwLog(int32(level), unsafe.Pointer(unsafe.StringData(msg)), int32(len(msg)))
}
