// Command hostile is a guest that breaks the ABI on purpose, one way per
// config "mode", to check that the host survives and says what went wrong.
// It speaks the raw ABI, not through the SDK.
//
// It reads utf8 column "s" and writes "out" = "ok <n>" on every row, n
// counting the batches this instance has processed, so a test can tell a
// fresh instance from one the host kept after a failure. The dw_process
// modes misbehave only on a batch whose first value is "boom" (or on every
// batch with config "always": true), so one stage gets a bad batch between
// good ones; the dw_reserve modes
// misbehave only when asked for more than 64 KiB (a big batch: the bind
// request and a small batch need far less). The log modes and "escape"
// misbehave on every batch; "bind-escape" at bind.
package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"
)

var (
	arena   []byte
	resp    []byte
	conf    config
	batches int
	result  [10]uint32
	desc    [8]uint32
	offs    []int32
	vals    []byte
	hoard   [][]byte
	sink    int
	rowErr  [3]uint32
	reason  string // rowErr's message, kept alive until the host reads it
)

// escapes is what a terminal would act on: an OSC that sets the window
// title, a BEL, a colour change, and a C1 CSI (which slog's JSON handler
// passes through raw). The "escape" modes put it in every string a guest
// can hand the host.
const escapes = "\x1b]0;pwned\x07\x1b[31m\u009b1m"

// FloodLogs is how many times the "log-flood" mode logs per batch.
const FloodLogs = 200_000

// LongLog is the length of the message the "log-long" mode logs.
const LongLog = 10_000

type config struct {
	Mode string `json:"mode"`
	// Path is a host file the "sandbox" mode tries to read, and whose
	// directory it tries to write to.
	Path string `json:"path"`
	// Always makes the dw_process modes misbehave on every batch, as a
	// pipeline file's stage does (testdata/pipelines/wasm_trap.yaml).
	Always bool `json:"always"`
}

// Sandbox is what the "sandbox" mode saw of the host, written as JSON to
// every row of "out".
type Sandbox struct {
	Environ   []string `json:"environ"`
	Secret    string   `json:"secret"` // $DW_HOSTILE_SECRET
	Args      []string `json:"args"`
	Read      string   `json:"read"` // the error reading Path ("" if it was read)
	ReadBytes int      `json:"read_bytes"`
	ListRoot  string   `json:"list_root"` // the error listing "/"
	ListDot   string   `json:"list_dot"`  // the error listing "."
	Create    string   `json:"create"`    // the error creating a file beside Path
}

const bigReserve = 64 << 10

func addr[T any](p *T) uint32 { return uint32(uintptr(unsafe.Pointer(p))) }

//go:wasmimport dataweaver log
func hostLog(level int32, ptr, n uint32)

//go:wasmexport dw_abi_version
func abiVersion() int32 { return 1 }

//go:wasmexport dw_reserve
func reserve(n int32) int32 {
	arena = make([]byte, n+64)
	p := addr(&arena[0])
	p += (64 - p%64) % 64
	if n > bigReserve {
		switch conf.Mode {
		case "reserve-zero":
			return 0
		case "reserve-misaligned":
			return int32(p + 8)
		case "reserve-oob":
			return int32(-64) // 0xffffffc0: aligned, far past a 64 MiB memory
		}
	}
	return int32(p)
}

//go:wasmexport dw_bind
func bind(p, n int32) int32 {
	var req struct {
		Config config `json:"config"`
	}
	_ = json.Unmarshal(inArena(uint32(p), uint32(n)), &req)
	conf = req.Config
	body := `{"reads":["s"],"writes":[{"name":"out","type":"utf8","nullable":true}]}`
	switch conf.Mode {
	case "bind-error":
		body = `{"error":"config: mode bind-error always fails"}`
	case "bind-escape":
		b, _ := json.Marshal(map[string]string{"error": "bind " + escapes})
		body = string(b)
	}
	resp = binary.LittleEndian.AppendUint32(resp[:0], uint32(len(body)))
	resp = append(resp, body...)
	return int32(addr(&resp[0]))
}

// inArena is n bytes at guest address p, which the host put in the arena.
func inArena(p, n uint32) []byte {
	off := p - addr(&arena[0])
	return arena[off : off+n]
}

func u32(p uint32) uint32 { return binary.LittleEndian.Uint32(inArena(p, 4)) }

// firstValue is row 0 of the batch's one column ("s"), "" when null or empty.
func firstValue(batch uint32) string {
	n, d := u32(batch), batch+16
	if n == 0 {
		return ""
	}
	if valid := u32(d + 12); valid != 0 && inArena(valid, 1)[0]&1 == 0 {
		return ""
	}
	offsets, values := u32(d+16), u32(d+20)
	start, end := u32(offsets), u32(offsets+4)
	return string(inArena(values, end-start))
}

//go:wasmexport dw_process
func process(p int32) int32 {
	batches++
	n := int(u32(uint32(p)))
	msg := "ok " + strconv.Itoa(batches)
	switch conf.Mode {
	case "log":
		msg = "logged " + strconv.Itoa(batches)
		logString(0, msg)
		hostLog(8, 0xfffffff0, 100) // past the end of memory
		hostLog(4, 0xffffffff, 2)   // wraps past 2^32
	case "log-flood":
		for range FloodLogs {
			logString(0, "flood")
		}
	case "log-long":
		logString(0, strings.Repeat("x", LongLog))
		hostLog(0, 0, 100<<20) // more than its memory holds
	case "sandbox":
		b, _ := json.Marshal(snoop())
		msg = string(b)
	}
	out(n, msg)
	if conf.Mode == "escape" {
		logString(0, "log "+escapes)
		reason = "reject " + escapes
		rowErr = [3]uint32{0, uint32(uintptr(unsafe.Pointer(unsafe.StringData(reason)))), uint32(len(reason))}
		result[8], result[9] = 1, addr(&rowErr[0])
	}
	if !conf.Always && firstValue(uint32(p)) != "boom" {
		return int32(addr(&result[0]))
	}
	switch conf.Mode {
	case "trap":
		var m map[string]int
		//lint:ignore SA5000 the panic is the point: a trap inside dw_process
		m["boom"] = 1
	case "loop":
		logString(0, "looping") // tells a test the call is under way
		for {
			sink++
		}
	case "escape":
		os.Stderr.WriteString("stderr " + escapes + "\n")
		panic("panic " + escapes)
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

// out fills the result: n rows of "out", each msg.
func out(n int, msg string) {
	offs = make([]int32, n+1)
	vals = make([]byte, 0, n*len(msg)+1)
	for i := 1; i <= n; i++ {
		vals = append(vals, msg...)
		offs[i] = int32(len(vals))
	}
	vals = append(vals, 0) // a non-empty buffer even for n = 0, for &vals[0]
	result = [10]uint32{}
	desc = [8]uint32{0, 12, 0, 0, addr(&offs[0]), addr(&vals[0]), uint32(len(vals) - 1), 0}
	result[6], result[7] = 1, addr(&desc[0])
}

func logString(level int32, s string) {
	hostLog(level, uint32(uintptr(unsafe.Pointer(unsafe.StringData(s)))), uint32(len(s)))
}

// snoop tries to see the host: its environment, arguments and files.
func snoop() Sandbox {
	errText := func(err error) string {
		if err == nil {
			return ""
		}
		return err.Error()
	}
	s := Sandbox{Environ: os.Environ(), Secret: os.Getenv("DW_HOSTILE_SECRET"), Args: os.Args}
	b, err := os.ReadFile(conf.Path)
	s.Read, s.ReadBytes = errText(err), len(b)
	_, err = os.ReadDir("/")
	s.ListRoot = errText(err)
	_, err = os.ReadDir(".")
	s.ListDot = errText(err)
	s.Create = errText(os.WriteFile(filepath.Join(filepath.Dir(conf.Path), "written-by-guest"), []byte("x"), 0o644))
	return s
}

func main() {}
