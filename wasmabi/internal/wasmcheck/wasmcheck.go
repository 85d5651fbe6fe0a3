// Package wasmcheck scans a WebAssembly binary for the shapes that make
// compiling it cost the host minutes and gigabytes, before wazero sees it.
//
// wazero's compiler is fast on what compilers emit, but some of its passes
// grow faster than linearly in the size of one br_table or the depth of one
// block nest: a 1 MB module whose never-called function holds a br_table of
// a million targets compiled for 3 min 17 s at 2.4 GB, and 100k nested
// blocks in 300 KB took over a minute. Bounding each of these per function
// (and the module's size) makes the cost of a compile linear in the size
// of the module, whatever its author intended.
//
// The scan decodes only what it must: section headers, the function and
// code sections, and each body's instructions (to count br_table targets
// and block depth). It does not validate; wazero still does, after it.
package wasmcheck

import (
	"errors"
	"fmt"
)

// Limits bound one module. Zero in a field means no limit on it.
type Limits struct {
	ModuleBytes    int // the whole binary
	Functions      int // functions defined in the module (imports not counted)
	BodyBytes      int // one function body
	Locals         int // locals declared by one function
	BrTableTargets int // targets of one br_table
	Nesting        int // depth of nested block, loop and if in one function
	BrTableTotal   int // br_table targets in the whole module
}

// Stats is what a scan saw: the module's totals and the largest of each
// per-function measure. A test compares real guests' Stats with Limits.
type Stats struct {
	ModuleBytes, Functions, BrTableTotal       int
	BodyBytes, Locals, BrTableTargets, Nesting int
}

// Limit is the error for a module over one of its Limits.
type Limit struct {
	Name     string // the Limits field's knob name, e.g. "br_table targets"
	Function int    // index in the code section, -1 for the whole module
	Got, Max int64
}

func (e *Limit) Error() string {
	if e.Function < 0 {
		return fmt.Sprintf("%s: %d, over the limit of %d", e.Name, e.Got, e.Max)
	}
	return fmt.Sprintf("function %d: %s: %d, over the limit of %d", e.Function, e.Name, e.Got, e.Max)
}

// ModuleSize is the Limit.Name of the module size limit.
const ModuleSize = "module size in bytes"

// ErrMalformed: the scan could not decode the binary (wazero would refuse
// it too, later and with its own message).
var ErrMalformed = errors.New("malformed module")

type reader struct {
	b   []byte
	off int
}

func (r *reader) fail(format string, args ...any) error {
	return fmt.Errorf("%w: at byte %d: %s", ErrMalformed, r.off, fmt.Sprintf(format, args...))
}

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, r.fail("unexpected end")
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

// u32 reads an unsigned LEB128 of at most 5 bytes.
func (r *reader) u32() (uint32, error) {
	var v uint32
	for i := 0; i < 5; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, r.fail("LEB128 u32 longer than 5 bytes")
}

// skipLEB skips a signed or unsigned LEB128 of at most n bytes.
func (r *reader) skipLEB(n int) error {
	for i := 0; i < n; i++ {
		c, err := r.byte()
		if err != nil {
			return err
		}
		if c&0x80 == 0 {
			return nil
		}
	}
	return r.fail("LEB128 longer than %d bytes", n)
}

func (r *reader) skip(n int) error {
	if n < 0 || len(r.b)-r.off < n {
		return r.fail("%d bytes past the end", n)
	}
	r.off += n
	return nil
}

const (
	secFunction = 3
	secCode     = 10
)

// Check returns a *Limit (wrapped) when wasm is over one of lim, an error
// wrapping ErrMalformed when it cannot be scanned, or nil. It runs in time
// linear in len(wasm) and allocates nothing that grows with it.
func Check(wasm []byte, lim Limits) (Stats, error) {
	var st Stats
	err := check(wasm, lim, &st)
	return st, err
}

func check(wasm []byte, lim Limits, st *Stats) error {
	st.ModuleBytes = len(wasm)
	over := func(name string, fn int, got, max int) error {
		if max > 0 && got > max {
			return &Limit{Name: name, Function: fn, Got: int64(got), Max: int64(max)}
		}
		return nil
	}
	if err := over(ModuleSize, -1, len(wasm), lim.ModuleBytes); err != nil {
		return err
	}
	r := &reader{b: wasm}
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return r.fail("invalid magic number (not a WebAssembly binary)")
	}
	r.off = 8
	for r.off < len(wasm) {
		id, err := r.byte()
		if err != nil {
			return err
		}
		size, err := r.u32()
		if err != nil {
			return err
		}
		start := r.off
		if err := r.skip(int(size)); err != nil {
			return err
		}
		sec := &reader{b: wasm[:start+int(size)], off: start}
		switch id {
		case secFunction:
			n, err := sec.u32()
			if err != nil {
				return err
			}
			if err := over("functions", -1, int(n), lim.Functions); err != nil {
				return err
			}
		case secCode:
			n, err := sec.u32()
			if err != nil {
				return err
			}
			if err := over("functions", -1, int(n), lim.Functions); err != nil {
				return err
			}
			st.Functions = int(n)
			for i := 0; i < int(n); i++ {
				bsize, err := sec.u32()
				if err != nil {
					return err
				}
				if err := over("function body bytes", i, int(bsize), lim.BodyBytes); err != nil {
					return err
				}
				bstart := sec.off
				if err := sec.skip(int(bsize)); err != nil {
					return err
				}
				st.BodyBytes = max(st.BodyBytes, int(bsize))
				body := &reader{b: wasm[:bstart+int(bsize)], off: bstart}
				targets, err := checkBody(body, i, lim, over, st)
				if err != nil {
					return err
				}
				st.BrTableTotal += targets
				if err := over("br_table targets in the module", -1, st.BrTableTotal, lim.BrTableTotal); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkBody scans one function body (locals, then instructions up to the
// end that closes the function) and returns its br_table target count.
func checkBody(r *reader, fn int, lim Limits, over func(string, int, int, int) error, st *Stats) (int, error) {
	groups, err := r.u32()
	if err != nil {
		return 0, err
	}
	locals := 0
	for range groups {
		n, err := r.u32()
		if err != nil {
			return 0, err
		}
		if _, err := r.byte(); err != nil {
			return 0, err
		}
		locals += int(n)
		st.Locals = max(st.Locals, locals)
		if err := over("locals", fn, locals, lim.Locals); err != nil {
			return 0, err
		}
	}
	depth, targets := 0, 0
	for {
		op, err := r.byte()
		if err != nil {
			return 0, err
		}
		switch {
		case op == 0x02 || op == 0x03 || op == 0x04: // block, loop, if
			// The block type: 0x40, a value type, or an s33 type index.
			if err := r.skipLEB(5); err != nil {
				return 0, err
			}
			depth++
			st.Nesting = max(st.Nesting, depth)
			if err := over("block nesting depth", fn, depth, lim.Nesting); err != nil {
				return 0, err
			}
		case op == 0x0b: // end
			if depth == 0 {
				return targets, nil
			}
			depth--
		case op == 0x0e: // br_table
			n, err := r.u32()
			if err != nil {
				return 0, err
			}
			if err := over("br_table targets", fn, int(n)+1, lim.BrTableTargets); err != nil {
				return 0, err
			}
			for range int(n) + 1 { // n+1 in uint32 wraps to 0 at n = 2^32-1
				if err := r.skipLEB(5); err != nil {
					return 0, err
				}
			}
			// Stats count what was read; the limit, above, what was claimed.
			targets += int(n) + 1
			st.BrTableTargets = max(st.BrTableTargets, int(n)+1)
		default:
			if err := skipImmediates(r, op); err != nil {
				return 0, err
			}
		}
	}
}

// skipImmediates skips the immediates of every other instruction wazero
// accepts (WebAssembly 2.0: MVP, sign extension, saturating conversions,
// bulk memory, reference types, multi-value, SIMD).
func skipImmediates(r *reader, op byte) error {
	switch {
	case op <= 0x01, op == 0x05, op == 0x0f, op == 0x1a, op == 0x1b, op == 0xd1,
		op >= 0x45 && op <= 0xc4:
		return nil
	case op == 0x0c, op == 0x0d, op == 0x10, op >= 0x20 && op <= 0x26, op == 0xd2, op == 0x3f, op == 0x40:
		return r.skipLEB(5)
	case op == 0x11: // call_indirect: type, table
		if err := r.skipLEB(5); err != nil {
			return err
		}
		return r.skipLEB(5)
	case op == 0x1c: // select t*
		n, err := r.u32()
		if err != nil {
			return err
		}
		for range n {
			if _, err := r.byte(); err != nil {
				return err
			}
		}
		return nil
	case op >= 0x28 && op <= 0x3e: // memarg
		if err := r.skipLEB(5); err != nil {
			return err
		}
		return r.skipLEB(10)
	case op == 0x41:
		return r.skipLEB(5)
	case op == 0x42:
		return r.skipLEB(10)
	case op == 0x43:
		return r.skip(4)
	case op == 0x44:
		return r.skip(8)
	case op == 0xd0:
		_, err := r.byte()
		return err
	case op == 0xfc:
		sub, err := r.u32()
		if err != nil {
			return err
		}
		switch {
		case sub <= 7:
			return nil
		case sub == 8: // memory.init data, mem
			if err := r.skipLEB(5); err != nil {
				return err
			}
			return r.skip(1)
		case sub == 9, sub == 13, sub >= 15 && sub <= 17:
			return r.skipLEB(5)
		case sub == 10:
			return r.skip(2)
		case sub == 11:
			return r.skip(1)
		case sub == 12, sub == 14:
			if err := r.skipLEB(5); err != nil {
				return err
			}
			return r.skipLEB(5)
		}
		return r.fail("unknown instruction 0xfc %d", sub)
	case op == 0xfd:
		sub, err := r.u32()
		if err != nil {
			return err
		}
		switch {
		case sub <= 11, sub == 92, sub == 93: // loads and stores: memarg
			if err := r.skipLEB(5); err != nil {
				return err
			}
			return r.skipLEB(10)
		case sub == 12, sub == 13: // v128.const, i8x16.shuffle
			return r.skip(16)
		case sub >= 21 && sub <= 34: // lane extract and replace
			return r.skip(1)
		case sub >= 84 && sub <= 91: // load/store lane: memarg, lane
			if err := r.skipLEB(5); err != nil {
				return err
			}
			if err := r.skipLEB(10); err != nil {
				return err
			}
			return r.skip(1)
		case sub <= 0xff:
			return nil
		}
		return r.fail("unknown instruction 0xfd %d", sub)
	}
	return r.fail("unknown instruction %#x", op)
}
