package file

import (
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/connectors/internal/blob"
	"github.com/dataweaver/dataweaver/format"
)

// Compression names as pipeline files write them.
const (
	compAuto = blob.CompAuto
	compNone = blob.CompNone
	compGzip = blob.CompGzip
	compZstd = blob.CompZstd
)

// The options and helpers the file connector shares with the s3 one live
// in connectors/internal/blob; these names keep this package's code short.
var (
	delimiterField = blob.DelimiterField
	headerField    = blob.HeaderField
	parseDelimiter = blob.ParseDelimiter
	lookupFormat   = blob.LookupFormat
	configErr      = blob.ConfigErr
)

// syncDir makes the entries of dir (a file created, renamed or removed
// there) durable: a rename is on disk only once its directory is.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// newStream starts the format on file (stdout when file is nil), fsyncing
// at every flush with fsync. It closes nothing on error: the caller owns
// file.
func newStream(name string, file *os.File, c *sinkConfig, schema *arrow.Schema, wopts format.WriteOptions, hold, fsync bool) (*blob.Stream, error) {
	var out = os.Stdout
	if file != nil {
		out = file
	}
	var sync func() error
	if fsync && file != nil {
		sync = file.Sync
	}
	return blob.NewStream(name, out, sync, c.format, c.outer, schema, wopts, hold)
}
