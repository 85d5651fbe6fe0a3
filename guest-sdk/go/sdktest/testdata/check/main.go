// Command check is the Go SDK's whole-API check stage: every exported
// function, method, field and constant of guest-sdk/go/guest is called or
// used here (TestCheckGuestCoversAPI enforces it), in modes chosen by the
// `mode` key of its configuration, and sdktest drives each mode through
// the real host and recomputes every output value itself.
package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dataweaver/dataweaver/guest-sdk/go/guest"
)

func main() {}

func init() {
	var f guest.SetupFunc = setup
	guest.Stage(f)
}

type config struct {
	Mode  string   `json:"mode"`
	Name  string   `json:"name"`
	N     float64  `json:"n"`
	Tags  []string `json:"tags"`
	Every int      `json:"every"`
}

func setup(s *guest.Setup) (guest.ProcessFunc, error) {
	if p, err, ok := keys(s); ok {
		return p, err
	}
	var c config
	if err := s.Config(&c); err != nil {
		return nil, err
	}
	var p guest.ProcessFunc
	switch c.Mode {
	case "", "all":
		p = all(s)
	case "drop", "keepbits", "mixed", "reject":
		p = selection(s, c.Mode)
	case "dropcol":
		s.DropColumn("s")
		s.DropColumn("list")
		p = func(*guest.Batch) error { return nil }
	case "log":
		p = logs(s)
	case "windows":
		p = windows(s)
	case "config":
		var f guest.Field
		f, ok := s.Field("dec")
		_, missing := s.Field("nope")
		s.Errorf("echo: name=%s n=%g tags=%s stage=%s columns=%d dec=%s/%s/%t found=%t,%t",
			c.Name, c.N, strings.Join(c.Tags, "+"), s.StageName, len(s.Schema), f.Name, f.Type, f.Nullable, ok, missing)
	case "badsetup":
		guest.Read[int32](s, "i64")
		guest.Read[float64](s, "nope")
		guest.ReadBool(s, "s")
		guest.ReadString(s, "i8")
		guest.Write[float64](s, "x", "int64")
		guest.WriteString(s, "y")
		guest.WriteBinary(s, "y")
		s.DropColumn("gone")
	case "setuperr":
		return nil, errors.New("setup refused on purpose")
	case "fail", "panic", "unwritten", "short":
		p = failures(s, c.Mode)
	default:
		return nil, fmt.Errorf("config: unknown mode %q", c.Mode)
	}
	// The SDK checks Err after setup returns too; checking it here, with
	// a prefix, shows the stage's own call (and its wording) reached the host.
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	return p, nil
}

// fixed replaces column name with f of each value, nulls kept null.
func fixed[T guest.Fixed](s *guest.Setup, name, typ string, f func(T) T) func(b *guest.Batch) error {
	in, out := guest.Read[T](s, name), guest.Write[T](s, name, typ)
	return func(b *guest.Batch) error {
		v := in.View(b)
		if len(v.Values) != b.Len() {
			return fmt.Errorf("column %s: view has %d values for %d rows", name, len(v.Values), b.Len())
		}
		o := out.Values(b)
		for i, x := range v.Values {
			if v.Valid(i) {
				o[i] = f(x)
			} else {
				out.SetNull(b, i)
			}
		}
		return nil
	}
}

// bit reports bit i of a validity bitmap as Validity returns it (nil: no nulls).
func bit(bm []byte, i int) bool { return bm == nil || bm[i>>3]&(1<<(i&7)) != 0 }

// all reads every column type through its view and writes a function of it
// back in place (or, for the validity checks, into new columns); the test
// computes the same functions from the input.
func all(s *guest.Setup) guest.ProcessFunc {
	steps := []func(b *guest.Batch) error{
		fixed(s, "i8", "int8", func(x int8) int8 { return x + 1 }),
		fixed(s, "i16", "int16", func(x int16) int16 { return x + 1 }),
		fixed(s, "i32", "int32", func(x int32) int32 { return x + 1 }),
		fixed(s, "i64", "int64", func(x int64) int64 { return x + 1 }),
		fixed(s, "u8", "uint8", func(x uint8) uint8 { return x + 1 }),
		fixed(s, "u16", "uint16", func(x uint16) uint16 { return x + 1 }),
		fixed(s, "u32", "uint32", func(x uint32) uint32 { return x + 1 }),
		fixed(s, "u64", "uint64", func(x uint64) uint64 { return x + 1 }),
		// Negation only flips the sign bit, in Wasm as natively, NaNs included.
		fixed(s, "f32", "float32", func(x float32) float32 { return -x }),
		fixed(s, "f64", "float64", func(x float64) float64 { return -x }),
		fixed(s, "d32", "date32", func(x int32) int32 { return x - 1 }),
		fixed(s, "ts", "timestamp[ms]", func(x int64) int64 { return x + 1000 }),
		fixed(s, "tsz", "timestamp[us,UTC]", func(x int64) int64 { return x - 1 }),
		fixed(s, "dec", "decimal128(10,2)", func(x guest.Decimal128) guest.Decimal128 {
			return guest.Decimal128{Lo: ^x.Lo, Hi: ^x.Hi} // -x-1
		}),
	}

	// b: negated; b_set_true: every valid row Set to true then to its value,
	// so both of Set's branches run on every row.
	bIn, bOut := guest.ReadBool(s, "b"), guest.WriteBool(s, "b")
	steps = append(steps, func(b *guest.Batch) error {
		v := bIn.View(b)
		for i := range b.Len() {
			if !v.Valid(i) {
				bOut.SetNull(b, i)
				continue
			}
			bOut.Set(b, i, true)
			bOut.Set(b, i, !v.Value(i))
		}
		return nil
	})

	// i32_valid, s_valid: the validity bitmaps as Validity returns them.
	i32, i32Valid := guest.Read[int32](s, "i32"), guest.WriteBool(s, "i32_valid")
	str, sValid := guest.ReadString(s, "s"), guest.WriteBool(s, "s_valid")
	steps = append(steps, func(b *guest.Batch) error {
		iv, sv := i32.View(b).Validity(), str.View(b).Validity()
		for i := range b.Len() {
			i32Valid.Set(b, i, bit(iv, i))
			sValid.Set(b, i, bit(sv, i))
		}
		return nil
	})

	// s: upper-cased with Append.
	sOut := guest.WriteString(s, "s")
	steps = append(steps, func(b *guest.Batch) error {
		v, w := str.View(b), sOut.Builder(b)
		for i := range b.Len() {
			if v.Valid(i) {
				w.Append(strings.ToUpper(v.Value(i)))
			} else {
				w.AppendNull(b)
			}
		}
		return nil
	})

	// bin: reversed with AppendBytes (after Reserve).
	bin, binOut := guest.ReadString(s, "bin"), guest.WriteBinary(s, "bin")
	steps = append(steps, func(b *guest.Batch) error {
		v, w := bin.View(b), binOut.Builder(b)
		w.Reserve(64 * b.Len())
		for i := range b.Len() {
			if !v.Valid(i) {
				w.AppendNull(b)
				continue
			}
			r := slices.Clone(v.Bytes(i))
			slices.Reverse(r)
			w.AppendBytes(r)
		}
		return nil
	})

	// ls: AppendConcat with 2, 3, 4 and 1 parts by row.
	ls, lsOut := guest.ReadString(s, "ls"), guest.WriteString(s, "ls")
	steps = append(steps, func(b *guest.Batch) error {
		v, w := ls.View(b), lsOut.Builder(b)
		for i := range b.Len() {
			if !v.Valid(i) {
				w.AppendNull(b)
				continue
			}
			x := v.Value(i)
			switch i % 4 {
			case 0:
				w.AppendConcat(x, "|")
			case 1:
				w.AppendConcat("<", x, ">")
			case 2:
				w.AppendConcat("[", x, "]", x)
			default:
				w.AppendConcat(x)
			}
		}
		return nil
	})

	// lb: read through Raw (offsets and bytes) and written through the
	// builder's Raw: each value followed by its length as one byte.
	lb, lbOut := guest.ReadString(s, "lb"), guest.WriteBinary(s, "lb")
	steps = append(steps, func(b *guest.Batch) error {
		v := lb.View(b)
		offs32, offs64, data := v.Raw()
		at := func(i int) int64 {
			if offs32 != nil {
				return int64(offs32[i])
			}
			return offs64[i]
		}
		w := lbOut.Builder(b)
		for i := range b.Len() {
			if !v.Valid(i) {
				w.AppendNull(b)
				continue
			}
			vals, offs := w.Raw()
			x := data[at(i):at(i+1)]
			*vals = append(append(*vals, x...), byte(len(x)))
			*offs = append(*offs, int32(len(*vals)))
		}
		return nil
	})

	// dict_len: the length of each value of the dictionary column, which
	// the host decodes to utf8.
	dict, dictLen := guest.ReadString(s, "dict"), guest.Write[int32](s, "dict_len", "int32")
	steps = append(steps, func(b *guest.Batch) error {
		v, o := dict.View(b), dictLen.Values(b)
		for i := range o {
			if v.Valid(i) {
				o[i] = int32(len(v.Bytes(i)))
			} else {
				dictLen.SetNull(b, i)
			}
		}
		return nil
	})

	return func(b *guest.Batch) error {
		for _, step := range steps {
			if err := step(b); err != nil {
				return err
			}
		}
		return nil
	}
}

// selection leaves rows out by Drop, KeepBits, both, or Reject/Rejectf
// (with a few Drops), by row index.
func selection(s *guest.Setup, mode string) guest.ProcessFunc {
	s.Filter()
	return func(b *guest.Batch) error {
		switch mode {
		case "drop":
			for i := range b.Len() {
				if i%3 == 0 {
					b.Drop(i)
				}
			}
		case "keepbits":
			keep := b.KeepBits()
			for i := range b.Len() {
				if i%3 != 0 {
					keep[i>>3] |= 1 << (i & 7)
				}
			}
		case "mixed":
			for i := range b.Len() {
				if i%3 == 0 {
					b.Drop(i)
				}
			}
			keep := b.KeepBits()
			for i := range b.Len() {
				if i%5 == 0 {
					keep[i>>3] &^= 1 << (i & 7)
				}
			}
		case "reject":
			for i := range b.Len() {
				switch {
				case i%3 == 0:
					b.Reject(i, fmt.Errorf("row %d is a multiple of 3", i))
				case i%5 == 0:
					b.Rejectf(i, "row %d is a multiple of %d", i, 5)
				case i%7 == 0:
					b.Drop(i)
				}
			}
		}
		return nil
	}
}

// logs logs one line per level and one with Logf, per batch.
func logs(s *guest.Setup) guest.ProcessFunc {
	stage := s.StageName
	return func(b *guest.Batch) error {
		guest.Log(guest.LevelDebug, "debug line")
		guest.Log(guest.LevelInfo, "info line")
		guest.Log(guest.LevelWarn, "warn line ünïcode")
		guest.Log(guest.LevelError, "error line")
		guest.Logf("%s: %d rows", stage, b.Len())
		return nil
	}
}

// failures are batches the SDK or the host must refuse.
func failures(s *guest.Setup, mode string) guest.ProcessFunc {
	out := guest.WriteString(s, "out")
	return func(b *guest.Batch) error {
		switch mode {
		case "fail":
			return fmt.Errorf("failing a batch of %d rows as asked", b.Len())
		case "panic":
			panic("boom ünïcode")
		case "short":
			w := out.Builder(b)
			for i := range b.Len() - 1 {
				w.Append(fmt.Sprint(i))
			}
		}
		return nil // "unwritten": out is never touched
	}
}

// keys is the "keys" mode: the configuration read with ConfigKeys (no
// reflect) and echoed as the bind error. ok is false in the other modes,
// which read it with Config.
func keys(s *guest.Setup) (p guest.ProcessFunc, err error, ok bool) {
	var (
		mode, str = "", "def"
		num       = -1.0
		n         = int64(-1)
		flag      bool
		list      = []string{"d"}
		m         map[string]string
		v         any
	)
	err = s.ConfigKeys(guest.ConfString("mode", &mode), guest.ConfString("str", &str), guest.ConfNumber("num", &num),
		guest.ConfInt("int", &n), guest.ConfBool("flag", &flag), guest.ConfStrings("list", &list),
		guest.ConfStringMap("map", &m), guest.ConfAny("any", &v))
	if mode != "keys" {
		return nil, nil, false
	}
	if err != nil {
		return nil, err, true
	}
	pairs := make([]string, 0, len(m))
	for k, x := range m {
		pairs = append(pairs, k+":"+x)
	}
	slices.Sort(pairs)
	s.Errorf("keys: str=%s num=%g int=%d flag=%t list=%s map=%s any=%v",
		str, num, n, flag, strings.Join(list, "+"), strings.Join(pairs, ","), v)
	return nil, s.Err(), true
}
