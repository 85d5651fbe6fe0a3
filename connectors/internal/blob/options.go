package blob

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/format"
)

// IOBuffer is the read and write buffer size: large enough that syscalls,
// requests and decompressor refills stay off the profile at hundreds of
// MB/s.
const IOBuffer = 1 << 20

var errClosed = errors.New("already closed")

// DelimiterField is the csv.delimiter field of sources and sinks.
func DelimiterField() *spec.Field {
	return spec.String("delimiter").Default(",").
		Desc(`Field separator: one character; "\t" or tab for tabs.`).
		Example(`";"`).
		Validate(func(v any) error { _, err := ParseDelimiter(v.(string)); return err })
}

// HeaderField is the csv.header field, for reading or for writing.
func HeaderField(read bool) *spec.Field {
	f := spec.Bool("header").Default(true)
	if read {
		return f.Desc("Whether the first line names the columns. Without one, columns are f0, f1, … unless schema names them.")
	}
	return f.Desc("Whether to write a first line with the column names.")
}

// ParseDelimiter checks a csv.delimiter value.
func ParseDelimiter(s string) (rune, error) {
	switch s {
	case `\t`, "tab":
		return '\t', nil
	}
	r, size := utf8.DecodeRuneInString(s)
	switch {
	case s == "" || size != len(s):
		return 0, fmt.Errorf("delimiter %q must be a single character", s)
	case r == '"' || r == '\n' || r == '\r' || r == utf8.RuneError:
		return 0, fmt.Errorf("delimiter %q cannot be a quote, a line break or invalid UTF-8", s)
	}
	return r, nil
}

// LookupFormat resolves the format field, or the path's extension when
// the field is empty.
func LookupFormat(conf *spec.Parsed, path string) (*format.Format, error) {
	if name := conf.String("format"); name != "" {
		f, err := format.Lookup(name)
		if err != nil {
			return nil, ConfigErr(conf, "format", "%v", err)
		}
		return f, nil
	}
	if path == "-" {
		return nil, ConfigErr(conf, "format", "format is required with path - (stdin/stdout has no extension); one of %v", format.Names())
	}
	f, err := format.ForPath(path)
	if err != nil {
		return nil, ConfigErr(conf, "format", "%v", err)
	}
	return f, nil
}

// ConfigErr is a configuration error at a field, wrapping
// engine.ErrInvalidConfig.
func ConfigErr(conf *spec.Parsed, field, msg string, args ...any) error {
	return fmt.Errorf("%w: %w", engine.ErrInvalidConfig, conf.Errorf(field, msg, args...))
}
