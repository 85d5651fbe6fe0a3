package config

import (
	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/engine/spec"
)

// DecodeDocument decodes data as one YAML document under the limits a
// pipeline file gets (size, alias expansion), for other files written in
// the same style: weave test files hold rows the way a memory source does,
// and an alias bomb there would cost as much. It returns the document
// node, or an *Error wrapping engine.ErrInvalidConfig whose problems name
// file and line.
func DecodeDocument(data []byte, file string, opts Options) (*yaml.Node, error) {
	if limit := opts.maxFileSize(); int64(len(data)) > limit {
		return nil, invalid(spec.Errors{tooLarge(file, int64(len(data)), limit)})
	}
	doc, errs := decodeYAML(data, file)
	if len(errs) > 0 {
		return nil, invalid(errs)
	}
	if err := checkAliases(doc, file); err != nil {
		return nil, invalid(spec.Errors{err})
	}
	return doc, nil
}
