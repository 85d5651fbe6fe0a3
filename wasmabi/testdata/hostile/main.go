// Command hostile is a guest that breaks the ABI on purpose, one way per
// config "mode", to check that the host survives and says what went wrong.
// It speaks the raw ABI, not through the SDK. Build with
// -ldflags=-X=main.version=2 for a version mismatch.
package main

import (
	"encoding/binary"
	"encoding/json"
	"strconv"
	"unsafe"
)

var version = "1"

var (
	arena  []byte
	resp   []byte
	mode   string
	result [10]uint32
	desc   [8]uint32
	offs   []int32
	vals   []byte
	hoard  [][]byte
	sink   int
)

func addr[T any](p *T) uint32 { return uint32(uintptr(unsafe.Pointer(p))) }

//go:wasmexport dw_abi_version
func abiVersion() int32 { v, _ := strconv.Atoi(version); return int32(v) }

//go:wasmexport dw_reserve
func reserve(n int32) int32 {
	arena = make([]byte, n+64)
	p := addr(&arena[0])
	return int32(p + (64-p%64)%64)
}

//go:wasmexport dw_bind
func bind(p, n int32) int32 {
	base := addr(&arena[0])
	var req struct {
		Config struct {
			Mode string `json:"mode"`
		} `json:"config"`
	}
	_ = json.Unmarshal(arena[uint32(p)-base:uint32(p)-base+uint32(n)], &req)
	mode = req.Config.Mode
	body := `{"reads":["s"],"writes":[{"name":"out","type":"utf8","nullable":true}]}`
	if mode == "bind-error" {
		body = `{"error":"config: mode bind-error always fails"}`
	}
	resp = binary.LittleEndian.AppendUint32(resp[:0], uint32(len(body)))
	resp = append(resp, body...)
	return int32(addr(&resp[0]))
}

//go:wasmexport dw_process
func process(p int32) int32 {
	n := int(binary.LittleEndian.Uint32(arena[uint32(p)-addr(&arena[0]):]))
	offs = make([]int32, n+1)
	vals = []byte("x")
	for i := 1; i <= n; i++ {
		offs[i] = 1
	}
	result = [10]uint32{}
	desc = [8]uint32{0, 12, 0, 0, addr(&offs[0]), addr(&vals[0]), uint32(len(vals)), 0}
	result[6], result[7] = 1, addr(&desc[0])
	switch mode {
	case "trap":
		var m map[string]int
		m["boom"] = 1
	case "loop":
		for {
			sink++
		}
	case "bomb":
		for {
			hoard = append(hoard, make([]byte, 16<<20))
		}
	case "oob-header":
		return -64
	case "oob-column":
		desc[5] = 0xfffffff0
	case "nonmonotonic":
		if n > 1 {
			offs[1] = 1
			offs[n] = 0
		}
	case "lying-length":
		desc[6] = 1 << 30
	case "bad-utf8":
		vals[0] = 0xff
	case "bad-status":
		result[0] = 7
	case "wrong-count":
		result[6] = 3
	case "bad-selection":
		result[3], result[4], result[5] = 2, addr(&desc[0]), 2 // indices 0,12: 12 ≥ n
	case "bad-error-row":
		result[8], result[9] = 1, addr(&desc[4]) // row = a pointer value
	}
	return int32(addr(&result[0]))
}

func main() {}
