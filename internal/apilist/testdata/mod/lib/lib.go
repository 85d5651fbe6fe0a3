package lib

import "io"

const Version = 2

const (
	A Kind = iota
	b
)

type Kind int

type Reader struct {
	io.Reader
	Name, hidden string
	Size         int64
}

type Opener interface {
	Open(name string) (io.ReadCloser, error)
	io.Closer
	private()
}

type Pair[K comparable, V any] struct{ Key K }

type Alias = Reader

var Default = &Reader{}

func New(r io.Reader, size int64) *Reader { return &Reader{Reader: r, Size: size} }

func (r *Reader) Len() int { return int(r.Size) }

func (r *Reader) grow() {}

func (k Kind) String() string { return "" }

func (p Pair[K, V]) Get() K { return p.Key }

type unexported struct{}

func (unexported) Exported() {}

func helper() {}
