package generate_test

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/generate"
)

// Orders gives every benchmark and test the same rows for a seed. The
// output below pins them: benchmark numbers are comparable across commits
// only while the data stays the same.
func ExampleOrders() {
	rec := generate.Orders(memory.NewGoAllocator(), 3, 42)
	defer rec.Release()
	for c := range int(rec.NumCols()) {
		fmt.Printf("%-8s %s\n", rec.ColumnName(c), rec.Column(c))
	}
	// Output:
	// id       [1 2 3]
	// customer ["Barbara Matsumoto" "Priya Johnson" "Carl Bartik"]
	// email    ["barbara.matsumoto@example.com" "priya.johnson@example.com" "carl.bartik@corp.example"]
	// country  ["AU" "JP" "CA"]
	// amount   [108.42 460.09 580.09]
	// ts       [1704067200138675 1704067200721838 1704067201073621]
	// note     [(null) (null) (null)]
}
