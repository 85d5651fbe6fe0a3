package wasmcheck

import (
	"errors"
	"testing"
)

// A module of one function () -> () whose body (after "no locals") is
// block; i32.const 0; br_table 0 0 0; end; end: 3 targets, depth 1.
var small = []byte("\x00asm\x01\x00\x00\x00" +
	"\x01\x04\x01\x60\x00\x00" + // type section: () -> ()
	"\x03\x02\x01\x00" + // function section: one function of type 0
	"\x0a\x0e\x01\x0c\x00\x02\x40\x41\x00\x0e\x02\x00\x00\x00\x0b\x0b") // code

// TestCheck: each limit is enforced at its boundary (equal passes, one
// less fails naming the function and the measure), and Stats are right.
func TestCheck(t *testing.T) {
	st, err := Check(small, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{ModuleBytes: len(small), Functions: 1, BrTableTotal: 3, BodyBytes: 12, BrTableTargets: 3, Nesting: 1}
	if st != want {
		t.Fatalf("Stats %+v, want %+v", st, want)
	}
	tests := []struct {
		name string
		lim  Limits
		msg  string
	}{
		{"module", Limits{ModuleBytes: len(small) - 1}, "module size in bytes: 34, over the limit of 33"},
		{"functions", Limits{Functions: 0}, ""},
		{"body", Limits{BodyBytes: 11}, "function 0: function body bytes: 12, over the limit of 11"},
		{"targets", Limits{BrTableTargets: 2}, "function 0: br_table targets: 3, over the limit of 2"},
		{"nesting", Limits{Nesting: 1}, ""},
		{"total", Limits{BrTableTotal: 2}, "br_table targets in the module: 3, over the limit of 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Check(small, tc.lim)
			var l *Limit
			switch {
			case tc.msg == "" && err != nil:
				t.Fatalf("limit equal to the module's measure: %v", err)
			case tc.msg != "" && (!errors.As(err, &l) || err.Error() != tc.msg):
				t.Fatalf("error %v, want %q", err, tc.msg)
			}
		})
	}
	// Cut anywhere inside the code section (from byte 19), the module is
	// malformed (cut between sections it is a valid prefix to the scan;
	// wazero refuses it for its missing code).
	for cut := 19; cut < len(small); cut++ {
		if _, err := Check(small[:cut], Limits{}); !errors.Is(err, ErrMalformed) {
			t.Errorf("cut at %d bytes: %v, want ErrMalformed", cut, err)
		}
	}
}

// FuzzCheck: the scan never panics or loops on any input, and what it
// reports stays within the input.
func FuzzCheck(f *testing.F) {
	f.Add(small)
	f.Add(small[:20])
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x0a\x05\x01\x03\x00\xfd\x0c"))
	f.Fuzz(func(t *testing.T, wasm []byte) {
		st, _ := Check(wasm, Limits{})
		if st.BodyBytes > len(wasm) || st.BrTableTargets > len(wasm) || st.Nesting > len(wasm) || st.Locals < 0 {
			t.Fatalf("Stats %+v for %d bytes", st, len(wasm))
		}
	})
}
