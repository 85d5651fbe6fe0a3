package leb128

import (
	"bytes"
	"testing"
)

// TestAppend checks the encodings against the WebAssembly specification's
// examples and the boundaries of each byte count.
func TestAppend(t *testing.T) {
	for _, c := range []struct {
		v    uint32
		want []byte
	}{
		{0, []byte{0x00}},
		{127, []byte{0x7f}},
		{128, []byte{0x80, 0x01}},
		{624485, []byte{0xe5, 0x8e, 0x26}},
		{1<<32 - 1, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}},
	} {
		if got := AppendU32([]byte{0xaa}, c.v); !bytes.Equal(got, append([]byte{0xaa}, c.want...)) {
			t.Errorf("AppendU32(%d) = % x, want aa % x", c.v, got, c.want)
		}
	}
	for _, c := range []struct {
		v    int32
		want []byte
	}{
		{0, []byte{0x00}},
		{63, []byte{0x3f}},
		{64, []byte{0xc0, 0x00}},
		{-1, []byte{0x7f}},
		{-64, []byte{0x40}},
		{-65, []byte{0xbf, 0x7f}},
		{-123456, []byte{0xc0, 0xbb, 0x78}},
		{-1 << 31, []byte{0x80, 0x80, 0x80, 0x80, 0x78}},
		{1<<31 - 1, []byte{0xff, 0xff, 0xff, 0xff, 0x07}},
	} {
		if got := AppendS32(nil, c.v); !bytes.Equal(got, c.want) {
			t.Errorf("AppendS32(%d) = % x, want % x", c.v, got, c.want)
		}
	}
}
