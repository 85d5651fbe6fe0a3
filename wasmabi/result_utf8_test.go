package wasmabi

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// TestResultUTF8: a utf8 column is accepted only when every row is UTF-8
// on its own, though the host checks the values as a whole plus where
// each row starts: a character split across two rows (valid as a whole),
// a row starting with a continuation byte, and a bad byte inside a row are
// refused naming the first bad row; bytes past the last row are not data;
// and offsets running past the values do not make the start test read
// outside them.
func TestResultUTF8(t *testing.T) {
	tests := []struct {
		name   string
		offs   []uint32 // 3 rows
		values string
		msg    string // "": accepted
	}{
		{name: "ascii and empty", offs: []uint32{0, 2, 2, 3}, values: "abc"},
		{name: "multi-byte rows", offs: []uint32{0, 2, 5, 9}, values: "é€😀"},
		{name: "offsets from a base", offs: []uint32{4, 6, 6, 9}, values: "é€"},
		{name: "character split across rows", offs: []uint32{0, 1, 2, 3}, values: "\xc3\xa9a", msg: "row 0 is not valid UTF-8"},
		{name: "row starts with a continuation byte", offs: []uint32{0, 1, 2, 3}, values: "a\xa9b", msg: "row 1 is not valid UTF-8"},
		{name: "empty row before a split", offs: []uint32{0, 1, 1, 2}, values: "\xe2\x82", msg: "row 0 is not valid UTF-8"},
		{name: "bad byte in the last row", offs: []uint32{0, 1, 2, 4}, values: "ab\xffc", msg: "row 2 is not valid UTF-8"},
		{name: "continuation byte past the last row", offs: []uint32{0, 1, 2, 2}, values: "ab\xa9"},
		{name: "empty row at the values' end, offsets past it", offs: []uint32{0, 2, 2, 5}, values: "ab",
			msg: "row 2 ends at value byte 5, past the 2 bytes given"},
	}
	writes := []outCol{{name: "s", code: codeUTF8}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := make([]byte, 512)
			put := func(off int, v ...uint32) {
				for i, x := range v {
					binary.LittleEndian.PutUint32(mem[off+4*i:], x)
				}
			}
			put(64, statusOK, 0, 0, selAll, 0, 0, 1, 128, 0, 0)              // header
			put(128, 0, codeUTF8, 0, 0, 160, 192, uint32(len(tc.values)), 0) // descriptor
			put(160, tc.offs...)
			copy(mem[192:], tc.values)
			var r result
			err := readResult(mem, 64, 3, writes, &r)
			if tc.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrGuestOutput) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want ErrGuestOutput saying %q", err, tc.msg)
			}
		})
	}
}
