package apilist_test

import (
	"bytes"
	"testing"

	"github.com/dataweaver/dataweaver/internal/apilist"
)

// TestWrite lists a small module whose expected listing is written by
// hand below: exported funcs, methods (on pointer, value and generic
// receivers), struct fields and embedded types, interface methods, consts,
// vars and aliases; not unexported names, methods of unexported types,
// test files, other GOOSes' files, internal packages or main packages.
func TestWrite(t *testing.T) {
	var b bytes.Buffer
	if err := apilist.Write(&b, "testdata/mod", "example.com/mod", nil); err != nil {
		t.Fatal(err)
	}
	const want = `pkg example.com/mod/lib, const A Kind
pkg example.com/mod/lib, const Version
pkg example.com/mod/lib, func New(r io.Reader, size int64) *Reader
pkg example.com/mod/lib, method (*Reader) Len() int
pkg example.com/mod/lib, method (Kind) String() string
pkg example.com/mod/lib, method (Pair[K, V]) Get() K
pkg example.com/mod/lib, type Alias = Reader
pkg example.com/mod/lib, type Kind int
pkg example.com/mod/lib, type Opener interface
pkg example.com/mod/lib, type Opener, embedded io.Closer
pkg example.com/mod/lib, type Opener, method Open(name string) (io.ReadCloser, error)
pkg example.com/mod/lib, type Pair[K comparable, V any] struct
pkg example.com/mod/lib, type Pair[K comparable, V any], field Key K
pkg example.com/mod/lib, type Reader struct
pkg example.com/mod/lib, type Reader, embedded io.Reader
pkg example.com/mod/lib, type Reader, field Name string
pkg example.com/mod/lib, type Reader, field Size int64
pkg example.com/mod/lib, var Default
`
	if got := b.String(); got != want {
		t.Errorf("listing:\n%s\nwant:\n%s", got, want)
	}
}
