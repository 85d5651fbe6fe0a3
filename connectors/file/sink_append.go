package file

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/format"
)

// openAppend opens the file for appending and settles the CSV header: the
// header is written only into an empty file, and must match an existing one.
func (s *Sink) openAppend(schema *arrow.Schema) (*os.File, format.WriteOptions, error) {
	wopts := s.wopts
	f, size, cut, err := openAppend(s.path, s.format.Name, s.mkdir)
	if err != nil {
		return nil, wopts, err
	}
	if cut > 0 && s.logger != nil {
		s.logger.Warn("file sink: cut an incomplete last row (left by a crash) before appending",
			"path", s.path, "bytes", cut)
	}
	if size == 0 {
		return f, wopts, nil
	}
	if s.format.Name == "csv" && !wopts.NoHeader {
		if err := checkHeader(f, s.format, schema, wopts); err != nil {
			f.Close()
			return nil, wopts, err
		}
	}
	wopts.NoHeader = true // the file has its header already
	return f, wopts, nil
}

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
	if end < size && formatName == "jsonl" && size-end <= maxCut {
		// A whole JSON value without its line break (a file from another
		// tool) is a row, not a fragment: end its line instead.
		tail := make([]byte, size-end)
		if _, err := f.ReadAt(tail, end); err != nil {
			return nil, 0, 0, err
		}
		if json.Valid(tail) {
			if _, err := f.Write([]byte("\n")); err != nil {
				return nil, 0, 0, err
			}
			return f, size + 1, 0, f.Sync()
		}
	}
	if size-end > maxCut {
		return nil, 0, 0, fmt.Errorf("%s: its last %d bytes are not whole rows, more than a crash during a write leaves: "+
			"the file has an unbalanced quote or was not written by weave; fix it or append elsewhere (nothing was changed)", path, size-end)
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

// maxCut is the most openAppend cuts off a file: more than a crash during a
// write leaves (a fragment of one row), so a file it would lose more of was
// not left by a crash, and is refused rather than cut.
const maxCut = 1 << 20

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

// checkHeader refuses to append CSV rows under another table's header: the
// file would then hold two tables that no reader can tell apart.
func checkHeader(f *os.File, fm *format.Format, schema *arrow.Schema, wopts format.WriteOptions) error {
	var want bytes.Buffer
	w, err := fm.NewWriter(&want, schema, wopts)
	if err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	got := make([]byte, want.Len())
	n, err := f.ReadAt(got, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if !bytes.Equal(got[:n], want.Bytes()) {
		first, _, _ := bytes.Cut(got[:n], []byte("\n"))
		return fmt.Errorf("%s starts with the header %q but this run writes %q: appending would mix two tables; write to a new file",
			wopts.Name, first, bytes.TrimSuffix(want.Bytes(), []byte("\n")))
	}
	return nil
}
