package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/engine/spec"
)

// DefaultMaxFileSize bounds a pipeline file. Parsing keeps a yaml.Node of
// about 200 bytes per value, so a 50 MB file of inline rows took 1.18 GB;
// at 4 MiB the peak stays near 100 MB. A pipeline file is configuration:
// the largest real ones are a few KiB, and 4 MiB still leaves room for
// tens of thousands of inline rows for tests and small lookup tables.
// Anything bigger is data, and belongs in a file a source reads.
const DefaultMaxFileSize = 4 << 20

// MaxAliasExpansion bounds how many YAML values aliases may add to a file
// once each alias stands for the whole value its anchor names. Anchors
// share a step's settings (a few dozen values each); nested anchors make
// the count grow exponentially ("billion laughs": 9 levels of 9 aliases
// stand for 387 million values in under 1 KiB), and the fields that
// decode a whole subtree (a memory source's rows, a wasm stage's config)
// would build every one of them.
const MaxAliasExpansion = 100_000

// readFile reads the pipeline file at path, refusing one over limit bytes
// before it is read whole: a regular file by its size, anything else
// (a pipe, a device) by reading at most limit+1 bytes.
func readFile(path string, limit int64) ([]byte, *spec.Error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fileError(path, err)
	}
	defer f.Close()
	var size int64 = -1
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	if size > limit {
		return nil, tooLarge(path, size, limit)
	}
	// io.ReadAll's doubling costs at most twice the limit, small beside
	// the node tree the parser builds from it.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fileError(path, err)
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(path, -1, limit)
	}
	return data, nil
}

func fileError(path string, err error) *spec.Error {
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = pe.Err.Error() // the path is already the message's prefix
	}
	return &spec.Error{File: path, Msg: msg}
}

// tooLarge reports a file over the limit; size is -1 when only reading
// past the limit told us (a pipe has no size to stat).
func tooLarge(file string, size, limit int64) *spec.Error {
	got := "more than " + spec.FormatValue(limit)
	if size >= 0 {
		got = fmt.Sprintf("%.1f MiB (%d bytes)", float64(size)/(1<<20), size)
	}
	return &spec.Error{File: file, Msg: fmt.Sprintf("pipeline file is %s, over the %s limit for pipeline files: "+
		"put inline data (memory rows, long lists) in a data file and read it with a file source", got, spec.FormatValue(limit))}
}

// checkAliases refuses a document whose aliases stand for more than
// MaxAliasExpansion values, naming the alias that stands for the most. It
// counts each node once (memoised), so it takes time linear in the file
// however far the aliases would expand.
func checkAliases(doc *yaml.Node, file string) *spec.Error {
	const limit = MaxAliasExpansion
	// expanded[n] is the number of values n stands for, aliases followed,
	// capped at capAt so nested anchors cannot overflow an int.
	const capAt = 1 << 40
	expanded := map[*yaml.Node]int64{}
	var size func(n *yaml.Node) int64
	size = func(n *yaml.Node) int64 {
		if n == nil {
			return 0
		}
		if n.Kind == yaml.AliasNode {
			return size(n.Alias)
		}
		if s, ok := expanded[n]; ok {
			return s
		}
		// yaml.v3 refuses an anchor that contains itself, but a
		// zero entry ends a cycle here anyway.
		expanded[n] = 0
		s := int64(1)
		for _, c := range n.Content {
			s = min(s+size(c), capAt)
		}
		expanded[n] = s
		return s
	}
	// The document expands to size(doc) values, of which literal are
	// written out; an alias counts once among the written ones.
	var literal int64
	var worst *yaml.Node
	var worstSize int64
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		literal++
		if n.Kind == yaml.AliasNode {
			if s := size(n.Alias); s > worstSize {
				worst, worstSize = n, s
			}
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(doc)
	if size(doc)-literal <= limit {
		return nil
	}
	biggest := fmt.Sprintf("%d", worstSize)
	if worstSize >= capAt {
		biggest = "more than " + fmt.Sprint(int64(capAt))
	}
	return &spec.Error{File: file, Line: worst.Line, Column: worst.Column, Msg: fmt.Sprintf(
		"YAML aliases expand to more than %d values (*%s here stands for %s): write the values out, or reuse smaller anchors",
		limit, worst.Value, biggest)}
}
