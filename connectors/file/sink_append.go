package file

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// openAppend opens path for appending, creating it (and its parents with
// mkdir) if needed, and returns it with the size of its complete rows.
//
// A flush hands the file whole batches in one write, but a process killed
// during that write, or a power cut before the fsync, can still leave the
// file ending halfway through a row. Those rows were never acknowledged and
// will be read again, so the incomplete tail is cut off here: appending
// after it would glue the next row onto a fragment.
func openAppend(path, formatName string, mkdir bool) (f *os.File, size int64, cut int64, err error) {
	dir := filepath.Dir(path)
	if mkdir {
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return nil, 0, 0, err
		}
	}
	_, statErr := os.Lstat(path)
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o666)
	if err != nil {
		return nil, 0, 0, err
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	if errors.Is(statErr, fs.ErrNotExist) {
		// The new file's name must survive a crash as its rows will.
		return f, 0, 0, syncDir(dir)
	}
	info, err := f.Stat()
	if err != nil {
		return nil, 0, 0, err
	}
	size = info.Size()
	end, err := completeEnd(f, size, formatName)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: find the last complete row: %w", path, err)
	}
	if end < size {
		if err := f.Truncate(end); err != nil {
			return nil, 0, 0, fmt.Errorf("%s: cut an incomplete last row: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			return nil, 0, 0, err
		}
	}
	return f, end, size - end, nil
}

// completeEnd returns the offset just past the last complete row of an
// appended text file: its last line break, or for CSV its last line break
// outside quotes (a quoted field may hold line breaks; the writer quotes
// every field with a quote in it and doubles those quotes, so quote parity
// from the start of the file tells inside from outside).
func completeEnd(f io.ReaderAt, size int64, formatName string) (int64, error) {
	const chunk = 1 << 16
	buf := make([]byte, chunk)
	if formatName != "csv" {
		// JSON Lines escapes line breaks inside values: scan back.
		for end := size; end > 0; {
			start := max(end-chunk, 0)
			n, err := f.ReadAt(buf[:end-start], start)
			if err != nil && !(errors.Is(err, io.EOF) && int64(n) == end-start) {
				return 0, err
			}
			if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
				return start + int64(i) + 1, nil
			}
			end = start
		}
		return 0, nil
	}
	var last int64
	quoted := false
	for off := int64(0); off < size; {
		n, err := f.ReadAt(buf[:min(chunk, size-off)], off)
		for i, c := range buf[:n] {
			switch {
			case c == '"':
				quoted = !quoted
			case c == '\n' && !quoted:
				last = off + int64(i) + 1
			}
		}
		off += int64(n)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if n == 0 {
			break
		}
	}
	return last, nil
}
