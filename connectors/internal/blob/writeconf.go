package blob

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/format"
)

// WriteCompression resolves a sink's compression field against its
// format: for a text format the outer compression it returns (auto goes by
// path's suffix); for a binary one the format's own codec, set in
// wopts.Compression and checked by a probe write, and CompNone outside.
func WriteCompression(conf *spec.Parsed, fm *format.Format, path string, wopts *format.WriteOptions) (string, error) {
	comp := conf.String("compression")
	if fm.Text {
		switch comp {
		case CompAuto:
			if outer := BySuffix(path); outer != "" {
				return outer, nil
			}
			return CompNone, nil
		case CompNone, CompGzip, CompZstd:
			return comp, nil
		}
		return "", ConfigErr(conf, "compression", "%s is a text format: compression is none, gzip or zstd, not %q", fm.Name, comp)
	}
	if sfx := BySuffix(path); sfx != "" {
		return "", ConfigErr(conf, "path", "%s files compress internally and cannot be wrapped in %s; drop the suffix and set compression instead", fm.Name, sfx)
	}
	if comp != CompAuto {
		wopts.Compression = comp
		if err := Probe(fm, *wopts, probeSchema); err != nil {
			return "", ConfigErr(conf, "compression", "%v", err)
		}
	}
	return CompNone, nil
}

// probeSchema is what WriteCompression writes to io.Discard to learn
// whether a format accepts the compression given, without any I/O.
var probeSchema = arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)

// Probe builds a writer over io.Discard: it exercises the format's checks
// of options and schema with no I/O (a sink's CheckSchema).
func Probe(fm *format.Format, wopts format.WriteOptions, schema *arrow.Schema) error {
	w, err := fm.NewWriter(io.Discard, schema, wopts)
	if err != nil {
		return err
	}
	return w.Close()
}

// PartExt is the extension of a part file or object: the format's, with
// .gz or .zst for an outer compression. Arrow parts are IPC streams, so
// .arrows.
func PartExt(fm *format.Format, outer string) string {
	ext := fm.Extensions[0]
	if fm.Name == "arrow" {
		ext = ".arrows" // the writer writes the IPC stream format
	}
	switch outer {
	case CompGzip:
		ext += ".gz"
	case CompZstd:
		ext += ".zst"
	}
	return ext
}

// PartName is the name of part n: part-000001.parquet. Six digits sort
// right up to 999,999 parts, and more digits still parse.
func PartName(n int, ext string) string { return fmt.Sprintf("part-%06d%s", n, ext) }

// SplitPartBase is a name for a split's parts that is safe in a file name
// or an object key, unique and stable: the readable characters of the
// split ID's last element (cut to 48) and a hash of the whole ID.
func SplitPartBase(id string) string {
	sum := sha256.Sum256([]byte(id))
	var b strings.Builder
	for _, r := range path.Base(id) {
		if b.Len() >= 48 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String() + "-" + hex.EncodeToString(sum[:6])
}

// SplitPartName names part n of a split (see SplitPartBase): numbered
// from 1 within the split, so a second attempt at the split writes the
// same names, replacing the first attempt's parts.
func SplitPartName(base string, n int, ext string) string {
	return fmt.Sprintf("part-%s-%06d%s", base, n, ext)
}
