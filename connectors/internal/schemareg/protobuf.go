package schemareg

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/linker"
	"github.com/twmb/franz-go/pkg/sr"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// registryFile is the name the registry's schema text is compiled under.
const registryFile = "registry.proto"

// protoIndex compiles a registered Protobuf schema and returns the message
// index of the pipeline's message md in it (Confluent's path of indexes
// from the file's top-level messages down). The id's message must be md's
// full name, and agree with md on the kind and cardinality of every field
// number both declare, which is what decoding with md needs: fields only
// one of them has are skipped or left null, protobuf's own evolution rule.
func protoIndex(s sr.Schema, md protoreflect.MessageDescriptor) ([]int, error) {
	f, err := compileText(s.Schema)
	if err != nil {
		return nil, err
	}
	d := f.FindDescriptorByName(md.FullName())
	wm, ok := d.(protoreflect.MessageDescriptor)
	if !ok {
		return nil, fmt.Errorf("it does not declare message %s, the pipeline's", md.FullName())
	}
	if err := sameFields(wm, md); err != nil {
		return nil, err
	}
	return messageIndex(wm), nil
}

// compileText compiles one .proto file's text; its imports may only be
// Google's well-known types (references to other subjects are not
// resolved).
func compileText(text string) (linker.File, error) {
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
		Accessor: protocompile.SourceAccessorFromMap(map[string]string{registryFile: text}),
	})}
	files, err := c.Compile(context.Background(), registryFile)
	if err != nil {
		return nil, fmt.Errorf("compiling it (imports other than google/protobuf are not resolved): %w", err)
	}
	return files[0], nil
}

// sameFields checks the fields w and p both number the same way.
func sameFields(w, p protoreflect.MessageDescriptor) error {
	fs := p.Fields()
	for i := range fs.Len() {
		pf := fs.Get(i)
		wf := w.Fields().ByNumber(pf.Number())
		if wf == nil {
			continue
		}
		if wf.Kind() != pf.Kind() || wf.Cardinality() != pf.Cardinality() || wf.IsMap() != pf.IsMap() {
			return fmt.Errorf("field %d is %s %s in the writer's %s, %s %s (%s) in the pipeline's",
				pf.Number(), wf.Cardinality(), wf.Kind(), w.FullName(), pf.Cardinality(), pf.Kind(), pf.Name())
		}
	}
	return nil
}

// messageIndex is md's path from its file's top-level messages.
func messageIndex(md protoreflect.MessageDescriptor) []int {
	var path []int
	var d protoreflect.Descriptor = md
	for {
		m, ok := d.(protoreflect.MessageDescriptor)
		if !ok {
			break
		}
		path = append(path, m.Index())
		d = m.Parent()
	}
	slices.Reverse(path)
	return path
}

// appendIndex appends the Confluent encoding of a message index: zig-zag
// varints, the count first; [0] is the single byte 0.
func appendIndex(b []byte, index []int) []byte {
	if len(index) == 1 && index[0] == 0 {
		return append(b, 0)
	}
	b = binary.AppendVarint(b, int64(len(index)))
	for _, i := range index {
		b = binary.AppendVarint(b, int64(i))
	}
	return b
}

// matchIndex reads the message index at the start of b without
// allocating: the bytes after it, whether it is want, and whether it was
// well formed.
func matchIndex(b []byte, want []int) (rest []byte, same, ok bool) {
	n, k := binary.Varint(b)
	if k <= 0 || n < 0 || n > int64(len(b)) {
		return nil, false, false
	}
	b = b[k:]
	if n == 0 { // the shortcut for [0]
		return b, len(want) == 1 && want[0] == 0, true
	}
	same = int(n) == len(want)
	for i := range int(n) {
		v, k := binary.Varint(b)
		if k <= 0 {
			return nil, false, false
		}
		b = b[k:]
		same = same && int64(want[i]) == v
	}
	return b, same, true
}
