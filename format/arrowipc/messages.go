package arrowipc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/dataweaver/dataweaver/format/internal/ipccheck"
)

// maxMetadata bounds one message's flatbuffer metadata; real ones are
// kilobytes (a schema of thousands of columns stays under a megabyte).
const maxMetadata = 64 << 20

// messageReader frames IPC messages itself instead of using
// ipc.NewMessageReader, so that each message's metadata is checked
// (ipccheck.Message) before arrow-go decodes it, and a body is allocated only
// as its bytes arrive: a corrupt length cannot demand gigabytes up front.
type messageReader struct {
	r    io.Reader
	mem  memory.Allocator
	left int64 // bytes left in a bounded region (file format), -1 if unknown
	refs int64
	msg  *ipc.Message
}

func newMessageReader(r io.Reader, size int64, mem memory.Allocator) *messageReader {
	return &messageReader{r: r, mem: mem, left: size, refs: 1}
}

func (m *messageReader) Retain() { atomic.AddInt64(&m.refs, 1) }

func (m *messageReader) Release() {
	if atomic.AddInt64(&m.refs, -1) == 0 && m.msg != nil {
		m.msg.Release()
		m.msg = nil
	}
}

func (m *messageReader) read(n int64) ([]byte, error) {
	if m.left >= 0 && n > m.left {
		return nil, fmt.Errorf("message of %d bytes overruns the %d left", n, m.left)
	}
	var b bytes.Buffer
	if _, err := io.CopyN(&b, m.r, n); err != nil {
		return nil, io.ErrUnexpectedEOF
	}
	if m.left >= 0 {
		m.left -= n
	}
	return b.Bytes(), nil
}

// Message returns the next message; io.EOF at the end-of-stream marker, at
// the end of input, or at the end of the file format's message region.
func (m *messageReader) Message() (*ipc.Message, error) {
	if m.left == 0 {
		return nil, io.EOF
	}
	head, err := m.read(4)
	if err != nil {
		if m.left < 0 {
			return nil, io.EOF // a stream may end without the marker
		}
		return nil, err
	}
	n := binary.LittleEndian.Uint32(head)
	if n == 0xFFFFFFFF { // continuation marker, then the length
		if head, err = m.read(4); err != nil {
			return nil, fmt.Errorf("message length: %w", err)
		}
		n = binary.LittleEndian.Uint32(head)
	}
	// else: a length without marker, the format before Arrow 0.15.
	if n == 0 {
		return nil, io.EOF
	}
	if n > maxMetadata {
		return nil, fmt.Errorf("message metadata of %d bytes exceeds %d", n, maxMetadata)
	}
	meta, err := m.read(int64(n))
	if err != nil {
		return nil, fmt.Errorf("message metadata: %w", err)
	}
	bodyLen, err := ipccheck.Message(meta)
	if err != nil {
		return nil, err
	}
	body, err := m.body(bodyLen)
	if err != nil {
		return nil, fmt.Errorf("message body: %w", err)
	}
	defer body.Release()
	if m.msg != nil {
		m.msg.Release()
	}
	m.msg = ipc.NewMessage(memory.NewBufferBytes(meta), body)
	return m.msg, nil
}

// body reads n bytes into a buffer from mem, growing it by doubling as data
// arrives when the input size is unknown.
func (m *messageReader) body(n int64) (*memory.Buffer, error) {
	if m.left >= 0 && n > m.left {
		return nil, fmt.Errorf("%d bytes overrun the %d left", n, m.left)
	}
	buf := memory.NewResizableBuffer(m.mem)
	const chunk = 16 << 20
	var got int64
	for got < n {
		step := min(n-got, chunk)
		if need := int(got + step); need > buf.Cap() {
			if m.left >= 0 {
				buf.Reserve(int(n)) // the size is known to be there
			} else {
				buf.Reserve(max(need, 2*buf.Cap()))
			}
		}
		buf.ResizeNoShrink(int(got + step))
		if _, err := io.ReadFull(m.r, buf.Bytes()[got:got+step]); err != nil {
			buf.Release()
			return nil, io.ErrUnexpectedEOF
		}
		got += step
	}
	if m.left >= 0 {
		m.left -= n
	}
	return buf, nil
}

// fileRegion returns where the messages of an IPC file lie: after the
// 8-byte leading magic and padding, before the footer.
func fileRegion(ra io.ReaderAt, size int64) (int64, int64, error) {
	const tail = 10 // int32 footer length + "ARROW1"
	if size < 8+tail {
		return 0, 0, errors.New("too short for an Arrow IPC file")
	}
	b := make([]byte, tail)
	if _, err := ra.ReadAt(b, size-tail); err != nil {
		return 0, 0, err
	}
	if !bytes.Equal(b[4:], fileMagic) {
		return 0, 0, errors.New("the trailing ARROW1 magic is missing (truncated file?)")
	}
	footer := int64(int32(binary.LittleEndian.Uint32(b)))
	end := size - tail - footer
	if footer <= 0 || end < 8 {
		return 0, 0, fmt.Errorf("footer length %d does not fit the file", footer)
	}
	return 8, end - 8, nil
}
