package wasmabi_test

import (
	"context"
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/wasmabi"
)

// A stage from a module file: its limits, name and guest configuration
// are one Config value. The module is the hand-written WAT filter that
// keeps rows whose id is positive.
func ExampleNewStage() {
	const path = "../transforms/wat/positive/positive.wasm"
	cfg := wasmabi.NewConfig().
		WithName("stages[0].wasm", path).
		WithMemoryLimit(16 << 20).
		WithCacheDir("")
	wasm, err := wasmabi.ReadModule(path, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	ctx := context.Background()
	stage, err := wasmabi.NewStage(ctx, wasm, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer stage.Close()

	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	if _, err := stage.Bind(ctx, schema); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues([]int64{3, -1, 0, 7}, nil)
	ids := b.NewArray()
	defer ids.Release()
	in := array.NewRecordBatch(schema, []arrow.Array{ids}, 4)
	defer in.Release()

	out, rejects, err := stage.Process(ctx, in)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer out.Release()
	fmt.Println(out.Column(0), len(rejects))
	// Output: [3 7] 0
}
