package wasmabi

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// TestResultLengths: every length a result gives (sel_len of a bitmap,
// values_len of a fixed-width column, the failure's and each row error's
// msg_len) must lie inside guest memory, though the host reads only what
// the row count needs (or the first 4 KiB of a message). A lying length
// near 4 GiB was accepted before; ABI.md says every length is checked.
func TestResultLengths(t *testing.T) {
	const lie = 0xfffffff0
	// 3 rows, a bitmap selection and one int64 column "v", one row error;
	// each case changes one length.
	base := func() []byte {
		mem := make([]byte, 8192)
		put := func(off int, v ...uint32) {
			for i, x := range v {
				binary.LittleEndian.PutUint32(mem[off+4*i:], x)
			}
		}
		put(64, statusOK, 0, 0, selBitmap, 200, 1, 1, 128, 1, 220) // header
		put(128, 0, codeInt64, 0, 0, 0, 256, 24, 0)                // descriptor
		mem[200] = 0b101                                           // selection
		put(220, 2, 240, 4)                                        // row error
		copy(mem[240:], "oops")
		return mem
	}
	set := func(off int, v uint32) func([]byte) {
		return func(m []byte) { binary.LittleEndian.PutUint32(m[off:], v) }
	}
	tests := []struct {
		name   string
		change func([]byte)
		msg    string // "" : accepted
	}{
		{name: "exact lengths", change: func([]byte) {}},
		{name: "lengths past what is read, inside memory", change: func(m []byte) {
			set(84, 100)(m)  // sel_len
			set(152, 800)(m) // values_len
		}},
		{name: "sel_len near 4 GiB", change: set(84, lie),
			msg: "selection bitmap: 4294967280 bytes at 0xc8 are outside the guest's 8192-byte memory"},
		{name: "values_len near 4 GiB", change: set(152, lie),
			msg: `column "v": values: 4294967280 bytes at 0x100 are outside the guest's 8192-byte memory`},
		{name: "row error msg_len near 4 GiB", change: set(228, lie),
			msg: "row error message: 4294967280 bytes at 0xf0 are outside the guest's 8192-byte memory"},
		{name: "failure msg_len near 4 GiB", change: func(m []byte) {
			set(64, statusFailed)(m)
			set(68, 240)(m)
			set(72, lie)(m)
		}, msg: "failure message: 4294967280 bytes at 0xf0 are outside the guest's 8192-byte memory"},
	}
	writes := []outCol{{name: "v", code: codeInt64}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := base()
			tc.change(mem)
			var r result
			err := readResult(mem, 64, 3, writes, &r)
			if tc.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(r.selBits) != 1 || len(r.cols[0].values) != 24 || len(r.errs) != 1 || r.errs[0].msg != "oops" {
					t.Errorf("read %d selection bytes, %d value bytes, errors %v; want 1, 24 and oops",
						len(r.selBits), len(r.cols[0].values), r.errs)
				}
				return
			}
			if !errors.Is(err, ErrGuestOutput) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want ErrGuestOutput saying %q", err, tc.msg)
			}
		})
	}
	t.Run("long message in memory is cut at 4 KiB", func(t *testing.T) {
		mem := base()
		set(228, 6000)(mem)
		var r result
		if err := readResult(mem, 64, 3, writes, &r); err != nil {
			t.Fatal(err)
		}
		// The zero bytes after "oops" are escaped, 4 characters each.
		if want := "oops" + strings.Repeat(`\x00`, maxMessage-4); r.errs[0].msg != want {
			t.Errorf("message of %d bytes, want the first 4 KiB (%d bytes escaped)", len(r.errs[0].msg), len(want))
		}
	})
}
