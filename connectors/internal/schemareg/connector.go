package schemareg

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/codec"
)

// What a message connector calls in place of the codec package's
// constructors: with c nil (no schema_registry) they are the codec's own.

// Schema is the schema the connector's decoder will return, without I/O:
// a source calls it when built, so a bad codec setting fails validation.
func Schema(c *Config, base codec.Config, mem memory.Allocator) (*arrow.Schema, error) {
	if c != nil {
		return Target(base, mem)
	}
	dec, err := codec.NewDecoder(base, mem)
	if err != nil {
		return nil, err
	}
	return dec.Schema(), nil
}

// NewDecoder is a source's decoder, made when it opens.
func NewDecoder(c *Config, base codec.Config, mem memory.Allocator) (codec.Decoder, error) {
	if c == nil {
		return codec.NewDecoder(base, mem)
	}
	r, err := c.Open()
	if err != nil {
		return nil, err
	}
	return r.NewDecoder(base, mem)
}

// NewEncoder is a sink's encoder of records of schema, made when it opens;
// with a registry it registers (or looks up) their schema under the
// subject named after topic.
func NewEncoder(ctx context.Context, c *Config, base codec.Config, topic string, schema *arrow.Schema, mem memory.Allocator) (codec.Encoder, error) {
	if c == nil {
		return codec.NewEncoder(base, schema, mem)
	}
	r, err := c.Open()
	if err != nil {
		return nil, err
	}
	return r.NewEncoder(ctx, base, topic, schema, mem)
}
