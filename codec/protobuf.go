package codec

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/linker"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// ProtobufConfig configures the protobuf codec: the message type every message
// holds, from a .proto file compiled when the pipeline starts or from a
// compiled descriptor set.
type ProtobufConfig struct {
	File          string   // a .proto file
	DescriptorSet string   // or a FileDescriptorSet (protoc --descriptor_set_out, buf build)
	Message       string   // full name of the message type: "shop.v1.Order"
	ImportPaths   []string // where File's imports are found; File's own directory is tried last
	// TimestampUnit is the unit of the columns google.protobuf.Timestamp
	// and Duration fields become: arrow.Microsecond (default) or
	// arrow.Nanosecond.
	TimestampUnit arrow.TimeUnit

	desc protoreflect.MessageDescriptor // resolved once by FromConfig
}

// MessageDescriptor returns the configured message type (loaded by
// FromConfig, or now).
func (p *ProtobufConfig) MessageDescriptor() (protoreflect.MessageDescriptor, error) {
	return p.messageDescriptor()
}

// messageDescriptor returns the configured message type, loading the
// .proto file or descriptor set unless FromConfig already did.
func (p *ProtobufConfig) messageDescriptor() (protoreflect.MessageDescriptor, error) {
	if p.desc != nil {
		return p.desc, nil
	}
	name := protoreflect.FullName(strings.TrimPrefix(p.Message, "."))
	if name == "" || !name.IsValid() {
		return nil, fmt.Errorf("%w: protobuf.message %q is not a full message name such as shop.v1.Order", ErrConfig, p.Message)
	}
	var (
		find func(protoreflect.FullName) (protoreflect.Descriptor, error)
		from string
	)
	switch {
	case p.File != "" && p.DescriptorSet != "":
		return nil, fmt.Errorf("%w: give protobuf.proto_file or protobuf.descriptor_set, not both", ErrConfig)
	case p.File != "":
		f, err := compileProto(p.File, p.ImportPaths)
		if err != nil {
			return nil, err
		}
		find, from = linker.ResolverFromFile(f).FindDescriptorByName, p.File+" and its imports"
	case p.DescriptorSet != "":
		files, err := readDescriptorSet(p.DescriptorSet)
		if err != nil {
			return nil, err
		}
		find, from = files.FindDescriptorByName, p.DescriptorSet
	default:
		return nil, fmt.Errorf("%w: codec protobuf needs protobuf.proto_file or protobuf.descriptor_set", ErrConfig)
	}
	d, err := find(name)
	if err != nil {
		return nil, fmt.Errorf("%w: protobuf message %s is not in %s", ErrConfig, name, from)
	}
	md, ok := d.(protoreflect.MessageDescriptor)
	if !ok {
		return nil, fmt.Errorf("%w: protobuf %s in %s is not a message", ErrConfig, name, from)
	}
	p.desc = md
	return md, nil
}

// compileProto parses a .proto file and its imports. Like protoc, it
// names the file relative to the import path that holds it, so that
// imports between the user's files resolve; when none does, the file's
// directory becomes the last import path. The google/protobuf/*.proto
// files protoc ships with need no import path.
func compileProto(file string, importPaths []string) (linker.File, error) {
	paths := slices.Clone(importPaths)
	name := ""
	for _, ip := range paths {
		if rel, err := filepath.Rel(ip, file); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			name = filepath.ToSlash(rel)
			break
		}
	}
	if name == "" {
		paths = append(paths, filepath.Dir(file))
		name = filepath.Base(file)
	}
	c := protocompile.Compiler{
		Resolver:       protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: paths}),
		MaxParallelism: 1, // a handful of small files; no goroutines to leak or race
	}
	files, err := c.Compile(context.Background(), name)
	if err != nil {
		return nil, fmt.Errorf("%w: protobuf.proto_file %s (import paths %v): %w", ErrConfig, file, paths, err)
	}
	return files[0], nil
}

// readDescriptorSet loads a FileDescriptorSet. Imports missing from the
// set are looked up among the descriptors linked into this binary, which
// hold google/protobuf/*.proto: so a set built without --include_imports
// works as long as it only imports those.
func readDescriptorSet(path string) (*protoregistry.Files, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: protobuf.descriptor_set: %w", ErrConfig, err)
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("%w: protobuf.descriptor_set %s is not a FileDescriptorSet (protoc --descriptor_set_out, buf build -o): %w", ErrConfig, path, err)
	}
	files := new(protoregistry.Files)
	r := withGlobalFiles{files}
	pending := set.File
	// protoc writes dependencies first, but nothing requires it: add
	// what resolves and go round again until nothing does.
	for len(pending) > 0 {
		var left []*descriptorpb.FileDescriptorProto
		var lastErr error
		for _, fdp := range pending {
			f, err := protodesc.NewFile(fdp, r)
			if err == nil {
				err = files.RegisterFile(f)
			}
			if err != nil {
				left, lastErr = append(left, fdp), err
			}
		}
		if len(left) == len(pending) {
			return nil, fmt.Errorf("%w: protobuf.descriptor_set %s: %w (if an import is missing, build the set with --include_imports)", ErrConfig, path, lastErr)
		}
		pending = left
	}
	return files, nil
}

// withGlobalFiles resolves in files, then in protoregistry.GlobalFiles.
type withGlobalFiles struct{ files *protoregistry.Files }

func (r withGlobalFiles) FindFileByPath(p string) (protoreflect.FileDescriptor, error) {
	f, err := r.files.FindFileByPath(p)
	if errors.Is(err, protoregistry.NotFound) {
		return protoregistry.GlobalFiles.FindFileByPath(p)
	}
	return f, err
}

func (r withGlobalFiles) FindDescriptorByName(n protoreflect.FullName) (protoreflect.Descriptor, error) {
	d, err := r.files.FindDescriptorByName(n)
	if errors.Is(err, protoregistry.NotFound) {
		return protoregistry.GlobalFiles.FindDescriptorByName(n)
	}
	return d, err
}
