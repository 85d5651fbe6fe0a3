package arrowcheck

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func int32Buf(vals ...int32) *memory.Buffer {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
	return memory.NewBufferBytes(b)
}

func TestArray(t *testing.T) {
	strData := func(offs ...int32) arrow.Array {
		d := array.NewData(arrow.BinaryTypes.String, len(offs)-1, []*memory.Buffer{nil, int32Buf(offs...), memory.NewBufferBytes([]byte("abcdef"))}, nil, 0, 0)
		defer d.Release()
		return array.MakeFromData(d)
	}
	listData := func(childLen int, offs ...int32) arrow.Array {
		child := array.NewData(arrow.PrimitiveTypes.Int32, childLen, []*memory.Buffer{nil, int32Buf(make([]int32, childLen)...)}, nil, 0, 0)
		defer child.Release()
		d := array.NewData(arrow.ListOf(arrow.PrimitiveTypes.Int32), len(offs)-1, []*memory.Buffer{nil, int32Buf(offs...)}, []arrow.ArrayData{child}, 0, 0)
		defer d.Release()
		return array.MakeFromData(d)
	}
	dictData := func(size int, idx ...int32) arrow.Array {
		values := array.NewData(arrow.PrimitiveTypes.Int32, size, []*memory.Buffer{nil, int32Buf(make([]int32, size)...)}, nil, 0, 0)
		defer values.Release()
		dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.PrimitiveTypes.Int32}
		d := array.NewDataWithDictionary(dt, len(idx), []*memory.Buffer{nil, int32Buf(idx...)}, 0, 0, values)
		defer d.Release()
		return array.MakeFromData(d)
	}
	tests := []struct {
		name string
		arr  arrow.Array
		want string // "" for valid
	}{
		{name: "strings ok", arr: strData(0, 2, 2, 6)},
		{name: "strings decreasing", arr: strData(0, 4, 2, 6), want: "offset 2"},
		{name: "strings negative start", arr: strData(-1, 2, 6), want: "offset -1"},
		{name: "list ok", arr: listData(3, 0, 1, 3)},
		{name: "list past child", arr: listData(3, 0, 1, 5), want: "with 3 values"},
		{name: "dictionary ok", arr: dictData(2, 0, 1, 1)},
		{name: "dictionary index out of range", arr: dictData(2, 0, 2), want: "dictionary index 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer tt.arr.Release()
			err := Array(tt.arr)
			if tt.want == "" && err != nil {
				t.Fatalf("valid array rejected: %v", err)
			}
			if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
