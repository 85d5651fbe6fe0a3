// Package guest is the Go SDK for DataWeaver Wasm stages.
//
// A transform is a Go main package built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o x.wasm .
//
// (or `weave build`). It registers one function from init(); main stays
// empty because a c-shared Wasm module is a reactor whose main is never run.
//
//	func init() {
//		guest.Stage(func(s *guest.Setup) (guest.ProcessFunc, error) {
//			min := 0.0
//			if err := s.ConfigKeys(guest.ConfNumber("min", &min)); err != nil {
//				return nil, err
//			}
//			amount := guest.Read[float64](s, "amount")
//			s.Filter()
//			return func(b *guest.Batch) error {
//				v := amount.View(b)
//				for i, x := range v.Values {
//					if x < min {
//						b.Drop(i)
//					}
//				}
//				return nil
//			}, nil
//		})
//	}
//
// # What the SDK hides
//
// The setup function runs at bind time, once per instance, with the stage's
// configuration and the input schema. What it declares (the columns it reads
// with Read, the columns it produces with Write, Filter, DropColumn) is the
// stage's answer to the handshake: the host derives the output schema from
// it and copies only the read columns into the guest for every batch.
//
// Column views are zero-copy: View returns slices over the host-written
// buffers, valid until the ProcessFunc returns. Output columns are buffers
// the SDK reuses from batch to batch. See wasmabi/ABI.md for the wire format.
//
// # Module size, and messages
//
// A Go guest carries the Go runtime (about 1.8 MB of Wasm), and the host
// decodes and validates the whole module at every start, so what a guest
// links costs start time in every pipeline run (BENCHMARKS.md, "Go
// guests' size and start"). The SDK links neither encoding/json nor fmt:
// ConfigKeys reads the configuration with no reflect (Config, which fills
// a struct by its json tags, links reflect: about 0.4 MB more), and
// Setup.Errorf, Batch.Rejectf and Logf format with fmt's common verbs
// (%v %s %q %d %x %X %c %t %g %e %f %%, with a precision such as %.2f;
// flags and widths are ignored) for strings, []byte, bools, integers,
// floats, errors and values with a String method; other arguments print
// as %!v(unsupported). A stage that calls fmt itself pays about 0.7 MB
// (fmt links reflect, os and time).
//
// # Nested columns (ABI v2)
//
// ReadList, ReadStruct and ReadListOfStructs view lists of v1 items,
// structs of v1 fields and lists of structs; WriteNested declares a list,
// struct or map output column whose children (Node.Child, Node.Field) are
// filled like columns between their parent's Node.Begin and Node.End
// (PutList puts a whole list, PutNull a null at any level).
// transforms/explode and transforms/nest use them.
//
// # Performance under a stage timeout
//
// With a timeout (the default) the runtime makes every taken jump in a Go
// guest — each loop iteration, each non-inlined call, each branch around
// an if — leave compiled code for a check, so a stage's cost is roughly
// its jumps per row (wasmabi/BENCH_NOTES.md, session 4). For hot loops the
// SDK exposes the raw buffers: Batch.KeepBits fills the selection 8 or 64
// rows at a time instead of one Drop call per row, Validity tells once per
// batch whether a column has nulls, StrView.Raw gives offsets and bytes,
// and StrBuilder.Raw lets a stage write output values without a call per
// row. transforms/filter, derive and mask show the patterns.
package guest
