//go:build !unix

package file

import (
	"context"
	"os"
)

// openFile opens a named input for reading. Only Unix has named pipes
// whose open blocks (open_unix.go); elsewhere it is a plain os.Open.
func openFile(_ context.Context, name string, _ bool) (*os.File, error) {
	return os.Open(name)
}
