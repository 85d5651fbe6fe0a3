package wasmcheck

import (
	"errors"
	"fmt"

	"github.com/dataweaver/dataweaver/internal/leb128"
	"github.com/dataweaver/dataweaver/internal/wasmdata"
)

// The loop checks wazero compiles in for close-on-context-done leave the
// guest's code at every loop iteration for a Go function that reads the
// module's exit code and returns (wazevo's ExitCodeCheckModuleExitCode):
// about 30-35 ns per iteration on this project's machine, a ninth of the C
// gcd stage's whole batch (BENCHMARKS.md). LoopChecks instead writes a
// cheap check into the module itself, at the head of every loop:
//
//	global.get $fuel; i32.const 1; i32.lt_s
//	if                                  ;; every FuelPerYield iterations
//	  i32.const 0; memory.grow 0; drop  ;; back to Go, and back
//	  global.get $stop; if unreachable end
//	  i32.const FuelPerYield; global.set $fuel
//	end
//	global.get $fuel; i32.const 1; i32.sub; global.set $fuel
//
// $fuel and $stop are two mutable i32 globals appended to the module and
// exported as FuelExport and StopExport. The host stops a running call by
// setting $stop to 1 and $fuel to 0: the next loop head traps. The test
// is fuel < 1, not fuel == 0: the host's 0 may land between a loop
// head's test and its decrement, which then stores -1. The trip
// to Go every FuelPerYield iterations (memory.grow leaves the compiled
// code for a Go function, as wazero's own check does) is what keeps a
// long call preemptible: without it a looping guest would hold its thread
// where the Go scheduler cannot stop it, so with one P nothing could run
// the timer that stops it, and a collection's stop-the-world would wait
// for it forever. It also bounds how late a stop is seen when the guest's
// own write of $fuel overwrites the host's 0: FuelPerYield iterations.
//
// Loops are where a call can run unbounded: recursion ends in a stack
// overflow trap and straight-line code in the module's size, which is
// the argument wazero makes for checking loop heads only.

// FuelExport and StopExport name the globals LoopChecks adds.
const (
	FuelExport = "dw__loop_fuel"
	StopExport = "dw__loop_stop"
)

// FuelPerYield is how many loop iterations run between two trips to Go.
// At ~1-2 ns per iteration for tight loops a trip (~35 ns) every 1,024
// costs ~2%; a loop iteration that takes long (a huge straight-line body)
// still returns to Go within 1,024 of them.
const FuelPerYield = 1024

// ErrNoLoopChecks says why LoopChecks left a module alone; the host then
// falls back to wazero's checks, which cover every case.
var ErrNoLoopChecks = errors.New("loop checks not added")

const (
	secType   = 1
	secImport = 2
	secMemory = 5
	secGlobal = 6
	secExport = 7
	secStart  = 8
)

// LoopChecks returns wasm with the loop checks above written in, or an
// error wrapping ErrNoLoopChecks (or ErrMalformed) when it cannot: the
// module has a start section (which runs while the module is
// instantiated, where only wazero's own checks can stop it), no memory,
// an export named like the ones it adds, an instruction the scan does not
// know, or code or exports that name a global past the module's own (an
// invalid module, which must not get to use the new ones). It does not
// validate otherwise; wazero does, on the result. It also merges the data
// section's small segments (wasmdata.Merge, for modules `weave build` did
// not already merge): the rewrite is cached, and every later start
// decodes and applies far fewer of them.
func LoopChecks(wasm []byte) ([]byte, error) {
	r := &reader{b: wasm}
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return nil, r.fail("invalid magic number (not a WebAssembly binary)")
	}
	type section struct {
		id         byte
		start, end int // the contents
		hdr        int // where its id byte is
	}
	var secs []section
	r.off = 8
	for r.off < len(wasm) {
		hdr := r.off
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		start := r.off
		if err := r.skip(int(size)); err != nil {
			return nil, err
		}
		secs = append(secs, section{id, start, r.off, hdr})
	}
	globals, memory := 0, false
	globalSec, exportSec := -1, -1
	for i, s := range secs {
		sr := &reader{b: wasm[:s.end], off: s.start}
		switch s.id {
		case secStart:
			return nil, fmt.Errorf("%w: the module has a start section", ErrNoLoopChecks)
		case secImport:
			g, m, err := importCounts(sr)
			if err != nil {
				return nil, err
			}
			globals, memory = globals+g, memory || m
		case secMemory:
			n, err := sr.u32()
			if err != nil {
				return nil, err
			}
			memory = memory || n > 0
		case secGlobal:
			n, err := sr.u32()
			if err != nil {
				return nil, err
			}
			globals += int(n)
			globalSec = i
		case secExport:
			exportSec = i
		}
	}
	if !memory {
		return nil, fmt.Errorf("%w: the module has no memory", ErrNoLoopChecks)
	}
	if exportSec < 0 {
		return nil, fmt.Errorf("%w: the module exports nothing", ErrNoLoopChecks)
	}
	fuel, stop := uint32(globals), uint32(globals+1)
	check := loopCheck(fuel, stop)

	out := make([]byte, 0, len(wasm)+len(wasm)/16+64)
	out = append(out, wasm[:8]...)
	newGlobals := func(count uint32, entries []byte) []byte {
		body := leb128.AppendU32(nil, count+2)
		body = append(body, entries...)
		body = append(body, 0x7f, 0x01, 0x41)
		body = leb128.AppendS32(body, FuelPerYield)
		body = append(body, 0x0b, 0x7f, 0x01, 0x41, 0x00, 0x0b)
		return body
	}
	for i, s := range secs {
		sr := &reader{b: wasm[:s.end], off: s.start}
		if globalSec < 0 && s.id != 0 && after(s.id, secGlobal) {
			out = appendSection(out, secGlobal, newGlobals(0, nil))
			globalSec = i // inserted once
		}
		switch {
		case i == globalSec && s.id == secGlobal:
			n, _ := sr.u32()
			out = appendSection(out, secGlobal, newGlobals(n, wasm[sr.off:s.end]))
		case s.id == secExport:
			body, err := exports(sr, uint32(globals), fuel, stop)
			if err != nil {
				return nil, err
			}
			out = appendSection(out, secExport, body)
		case s.id == secCode:
			body, err := codeWithChecks(sr, uint32(globals), check)
			if err != nil {
				return nil, err
			}
			out = appendSection(out, secCode, body)
		default:
			out = append(out, wasm[s.hdr:s.end]...)
		}
	}
	// The data section passes through the rewrite above as it was.
	if merged, ok := wasmdata.Merge(out, wasmdata.Gap); ok {
		out = merged
	}
	return out, nil
}

// order is the position of each known section id in a module (the tag
// section, 13, sits between memory and global).
var order = map[byte]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}

// after reports whether section id comes after section than in a module.
func after(id, than byte) bool {
	o, ok := order[id]
	return ok && o > order[than]
}

// importCounts counts the imported globals and whether a memory is one.
func importCounts(r *reader) (globals int, memory bool, err error) {
	n, err := r.u32()
	if err != nil {
		return 0, false, err
	}
	for range n {
		for range 2 { // module and field names
			l, err := r.u32()
			if err != nil {
				return 0, false, err
			}
			if err := r.skip(int(l)); err != nil {
				return 0, false, err
			}
		}
		kind, err := r.byte()
		if err != nil {
			return 0, false, err
		}
		switch kind {
		case 0x00: // function: type index
			err = r.skipLEB(5)
		case 0x01: // table: reference type, limits
			if _, err = r.byte(); err == nil {
				err = r.skipLimits()
			}
		case 0x02: // memory: limits
			memory = true
			err = r.skipLimits()
		case 0x03: // global: value type, mutability
			globals++
			err = r.skip(2)
		default:
			err = fmt.Errorf("%w: import of kind %d", ErrNoLoopChecks, kind)
		}
		if err != nil {
			return 0, false, err
		}
	}
	return globals, memory, nil
}

func (r *reader) skipLimits() error {
	flags, err := r.byte()
	if err != nil {
		return err
	}
	if err := r.skipLEB(10); err != nil {
		return err
	}
	if flags&1 != 0 {
		return r.skipLEB(10)
	}
	return nil
}

// exports returns the export section's contents with the two globals
// added, after checking no export takes their names or names a global
// the module does not have.
func exports(r *reader, globals, fuel, stop uint32) ([]byte, error) {
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	start := r.off
	for range n {
		l, err := r.u32()
		if err != nil {
			return nil, err
		}
		nameAt := r.off
		if err := r.skip(int(l)); err != nil {
			return nil, err
		}
		if name := string(r.b[nameAt:r.off]); name == FuelExport || name == StopExport {
			return nil, fmt.Errorf("%w: the module already exports %q", ErrNoLoopChecks, name)
		}
		kind, err := r.byte()
		if err != nil {
			return nil, err
		}
		idx, err := r.u32()
		if err != nil {
			return nil, err
		}
		if kind == 0x03 && idx >= globals {
			return nil, fmt.Errorf("%w: an export names global %d of %d", ErrNoLoopChecks, idx, globals)
		}
	}
	body := leb128.AppendU32(nil, n+2)
	body = append(body, r.b[start:r.off]...)
	for _, g := range []struct {
		name string
		idx  uint32
	}{{FuelExport, fuel}, {StopExport, stop}} {
		body = leb128.AppendU32(body, uint32(len(g.name)))
		body = append(body, g.name...)
		body = append(body, 0x03)
		body = leb128.AppendU32(body, g.idx)
	}
	return body, nil
}

// loopCheck is the code inserted after every loop's block type.
func loopCheck(fuel, stop uint32) []byte {
	c := append([]byte{0x23}, leb128.AppendU32(nil, fuel)...) // global.get $fuel
	c = append(c, 0x41, 0x01, 0x48, 0x04, 0x40)               // i32.const 1; i32.lt_s; if
	c = append(c, 0x41, 0x00, 0x40, 0x00, 0x1a)               // i32.const 0; memory.grow 0; drop
	c = append(c, 0x23)                                       // global.get $stop
	c = leb128.AppendU32(c, stop)
	c = append(c, 0x04, 0x40, 0x00, 0x0b) // if unreachable end
	c = append(c, 0x41)                   // i32.const FuelPerYield
	c = leb128.AppendS32(c, FuelPerYield)
	c = append(c, 0x24) // global.set $fuel
	c = leb128.AppendU32(c, fuel)
	c = append(c, 0x0b, 0x23) // end; global.get $fuel
	c = leb128.AppendU32(c, fuel)
	c = append(c, 0x41, 0x01, 0x6b, 0x24) // i32.const 1; i32.sub; global.set $fuel
	return leb128.AppendU32(c, fuel)
}

// codeWithChecks returns the code section's contents with check after
// every loop head, each body's size rewritten.
func codeWithChecks(r *reader, globals uint32, check []byte) ([]byte, error) {
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	out := leb128.AppendU32(make([]byte, 0, len(r.b)-r.off+len(r.b)/16), n)
	var body []byte
	for range n {
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		start := r.off
		if err := r.skip(int(size)); err != nil {
			return nil, err
		}
		br := &reader{b: r.b[:r.off], off: start}
		if body, err = bodyWithChecks(body[:0], br, globals, check); err != nil {
			return nil, err
		}
		out = leb128.AppendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	return out, nil
}

func bodyWithChecks(out []byte, r *reader, globals uint32, check []byte) ([]byte, error) {
	start := r.off
	groups, err := r.u32()
	if err != nil {
		return nil, err
	}
	for range groups {
		if err := r.skipLEB(5); err != nil {
			return nil, err
		}
		if _, err := r.byte(); err != nil {
			return nil, err
		}
	}
	copied := start
	for r.off < len(r.b) {
		op, err := r.byte()
		if err != nil {
			return nil, err
		}
		switch op {
		case 0x02, 0x03, 0x04: // block, loop, if: a block type
			if err := r.skipLEB(5); err != nil {
				return nil, err
			}
			if op == 0x03 {
				out = append(out, r.b[copied:r.off]...)
				out = append(out, check...)
				copied = r.off
			}
		case 0x0b:
		case 0x0e: // br_table
			n, err := r.u32()
			if err != nil {
				return nil, err
			}
			for range uint64(n) + 1 {
				if err := r.skipLEB(5); err != nil {
					return nil, err
				}
			}
		case 0x23, 0x24: // global.get, global.set
			idx, err := r.u32()
			if err != nil {
				return nil, err
			}
			if idx >= globals {
				return nil, fmt.Errorf("%w: code names global %d of %d", ErrNoLoopChecks, idx, globals)
			}
		default:
			if err := skipImmediates(r, op); err != nil {
				return nil, err
			}
		}
	}
	return append(out, r.b[copied:r.off]...), nil
}

func appendSection(out []byte, id byte, body []byte) []byte {
	out = append(out, id)
	out = leb128.AppendU32(out, uint32(len(body)))
	return append(out, body...)
}
