package ipccheck

import (
	"encoding/binary"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestStream(t *testing.T) {
	md := arrow.NewMetadata([]string{"k"}, []string{"v"})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.ListOf(arrow.StructOf(arrow.Field{Name: "b", Type: &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}}))},
		{Name: "u", Type: arrow.DenseUnionOf([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int8}}, []arrow.UnionTypeCode{3})},
	}, &md)
	good := flight.SerializeSchema(schema, memory.NewGoAllocator())
	if err := Stream(good); err != nil {
		t.Fatalf("valid schema rejected: %v", err)
	}
	if err := Stream(good[:12]); err == nil {
		t.Error("truncated message accepted")
	}
	// Every vector length in the metadata made huge must be caught: find
	// the uint32 values that are small counts and inflate them one by one.
	caught := 0
	for i := 8; i+4 <= len(good); i += 4 {
		v := binary.LittleEndian.Uint32(good[i:])
		if v == 0 || v > 8 {
			continue
		}
		bad := append([]byte(nil), good...)
		binary.LittleEndian.PutUint32(bad[i:], 0x7ffffff0)
		if Stream(bad) != nil {
			caught++
		}
	}
	if caught == 0 {
		t.Error("no inflated length was caught")
	}
}
