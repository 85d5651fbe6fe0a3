package orders

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestColumns(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		want  *arrow.Schema
	}{
		{"none", nil, arrow.NewSchema([]arrow.Field{}, nil)},
		{"reordered", []string{"amount", "id"}, arrow.NewSchema([]arrow.Field{
			{Name: "amount", Type: arrow.PrimitiveTypes.Float64},
			{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		}, nil)},
		{"keeps nullability", []string{"note"}, arrow.NewSchema([]arrow.Field{
			{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true},
		}, nil)},
		{"all", []string{"id", "customer", "email", "country", "amount", "ts", "note"}, Schema},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Columns(tt.names...); !got.Equal(tt.want) {
				t.Errorf("Columns(%q) = %v, want %v", tt.names, got, tt.want)
			}
		})
	}
}

func TestColumnsUnknown(t *testing.T) {
	defer func() {
		if r := recover(); r != `orders: no column "qty"` {
			t.Errorf("Columns(qty) panicked with %v, want the unknown column named", r)
		}
	}()
	Columns("id", "qty")
}
