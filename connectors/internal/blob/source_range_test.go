package blob

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

// readRanges cuts data into ranges of size bytes and reads each as a
// byte-range split does (from its start on, through r), returning what
// each range read.
func readRanges(t testing.TB, data []byte, size int64, oneByte bool) [][]byte {
	t.Helper()
	var out [][]byte
	for start := int64(0); start < int64(len(data)) || start == 0; start += size {
		var r io.Reader = bytes.NewReader(data[start:])
		if oneByte {
			r = iotest.OneByteReader(r)
		}
		got, err := io.ReadAll(newLineRange(r, start, min(start+size, int64(len(data)))))
		if err != nil {
			t.Fatalf("range at %d: %v", start, err)
		}
		out = append(out, got)
		if len(data) == 0 {
			break
		}
	}
	return out
}

// checkTiles fails t unless the ranges put end to end are data, each
// holding whole lines: it starts where a line starts and ends with a
// newline or at the end of data.
func checkTiles(t testing.TB, data []byte, ranges [][]byte) {
	t.Helper()
	if got := bytes.Join(ranges, nil); !bytes.Equal(got, data) {
		t.Fatalf("ranges put together are %q, want %q (each line exactly once)", got, data)
	}
	at := 0
	for i, r := range ranges {
		if len(r) == 0 {
			continue
		}
		if at > 0 && data[at-1] != '\n' {
			t.Errorf("range %d starts at byte %d, inside a line", i, at)
		}
		at += len(r)
		if at < len(data) && r[len(r)-1] != '\n' {
			t.Errorf("range %d ends at byte %d, inside a line", i, at)
		}
	}
}

func TestLineRange(t *testing.T) {
	tests := []struct {
		name string
		data string
		size int64
		want []string // what each range reads
	}{
		{name: "empty file", data: "", size: 4, want: []string{""}},
		{name: "lines exactly on the boundaries", data: "abc\ndef\nghi\n", size: 4,
			want: []string{"abc\ndef\n", "ghi\n", ""}},
		{name: "newline just before the boundary", data: "ab\ncd\nef\n", size: 3,
			want: []string{"ab\ncd\n", "ef\n", ""}},
		{name: "boundary inside a line", data: "abcde\nfg\nhijkl\n", size: 4,
			want: []string{"abcde\n", "fg\n", "hijkl\n", ""}},
		{name: "a line longer than a range", data: "a\nbbbbbbbbbbbbbbb\nc\n", size: 4,
			want: []string{"a\nbbbbbbbbbbbbbbb\n", "", "", "", "c\n"}},
		{name: "no trailing newline", data: "ab\ncd\nef", size: 4,
			want: []string{"ab\ncd\n", "ef"}},
		{name: "CRLF", data: "ab\r\ncd\r\nef\r\n", size: 4,
			want: []string{"ab\r\ncd\r\n", "ef\r\n", ""}},
		{name: "one range", data: "ab\ncd\n", size: 100, want: []string{"ab\ncd\n"}},
		{name: "empty lines", data: "\n\n\n\n\n", size: 2, want: []string{"\n\n\n", "\n\n", ""}},
		{name: "one long line without newline", data: "abcdefghij", size: 3,
			want: []string{"abcdefghij", "", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, oneByte := range []bool{false, true} {
				got := readRanges(t, []byte(tt.data), tt.size, oneByte)
				checkTiles(t, []byte(tt.data), got)
				if len(got) != len(tt.want) {
					t.Fatalf("%d ranges %q, want %d %q", len(got), got, len(tt.want), tt.want)
				}
				for i := range got {
					if string(got[i]) != tt.want[i] {
						t.Errorf("range %d read %q, want %q", i, got[i], tt.want[i])
					}
				}
			}
		})
	}
}

// FuzzLineRange: whatever the bytes and the range size, the ranges read
// every byte once, in order, and cut only after newlines.
func FuzzLineRange(f *testing.F) {
	f.Add([]byte("abc\ndef\nghi\n"), uint16(4), false)
	f.Add([]byte("a\r\nbbbbbbbbbbbbbbbbbbbb\n\nc"), uint16(3), true)
	f.Add([]byte(""), uint16(1), false)
	f.Fuzz(func(t *testing.T, data []byte, size uint16, oneByte bool) {
		if size == 0 {
			size = 1
		}
		checkTiles(t, data, readRanges(t, data, int64(size), oneByte))
	})
}
