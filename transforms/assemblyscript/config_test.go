package assemblyscript_test

import (
	"encoding/json"
	"testing"

	"github.com/dataweaver/dataweaver/internal/wasmtesting"
)

// TestConfigLikeGo binds the Go and the AssemblyScript transform to the
// same configuration, given as raw JSON so that duplicate keys, case,
// escapes and nulls reach the guests as written: both must refuse it, or
// both must produce the same output, reject messages included.
func TestConfigLikeGo(t *testing.T) {
	tests := []struct {
		transform, conf string
	}{
		{"filter", `{"column":"amount","op":">=","value":0}`},
		{"filter", `{"COLUMN":"amount","Op":"<","vAlUe":2.5}`},
		{"filter", `{"column":"amount","column":"country","value":"FR"}`},
		{"filter", `{"column":"country","op":"<","op":null,"value":"FR"}`},
		{"filter", `{"column":"country","value":"FR","value":null}`},
		{"filter", `{"column":"country","value":null}`},
		{"filter", `{"column":"amount","value":1,"extra":1}`},
		{"filter", `{"column":5,"value":1}`},
		{"filter", `{"column":"amount","op":1,"value":1}`},
		{"filter", `{"column":"country","value":["FR",null]}`},
		{"filter", `{"column":"country","value":["FR","DE","FR"]}`},
		{"filter", `{"column":"country","value":["FR"]}`},
		{"filter", `{"column":"country","value":[]}`},
		{"filter", `{"column":"country","op":"!=","value":[]}`},
		{"filter", `{"column":"country","value":"\u0046\u0052"}`},
		{"filter", `{"column":"country","value":"\u00dcn\u00ef"}`},
		{"filter", `{"column":"country","value":"\ud83d\ude00"}`},
		{"filter", `{"column":"country","value":"\ud83d"}`},
		{"filter", `{"column":"country","op":"!=","value":"\ud83dx"}`},
		{"filter", `{"column":"country","value":""}`},
		{"filter", `{"column":"country","value":"123456789"}`},
		{"filter", `{"column":"email","value":"alice@example.com"}`},
		{"filter", `{"column":"email","op":"!=","value":["a","@","x@@y"]}`},
		{"filter", `{"column":"amount","value":1E2}`},
		{"filter", `{"column":"amount","value":-0.0}`},
		{"filter", `{"column":"amount","op":"!=","value":0}`},
		{"filter", `{"column":"amount","value":1e400}`},
		{"filter", `{"column":"id","op":"<=","value":10.5}`},
		{"filter", `{"column":"id","op":">","value":"3"}`},
		{"filter", `{"column":"flag","value":true}`},
		{"filter", `{"column":"country","value":{"a":1}}`},
		{"filter", `{"column":"","value":1}`},
		{"filter", `null`},
		{"filter", `{}`},
		{"filter", `[1]`},
		{"mask", `{"columns":["email"]}`},
		{"mask", `{"Columns":["email","country"]}`},
		{"mask", `{"columns":["email","email"]}`},
		{"mask", `{"columns":"email"}`},
		{"mask", `{"columns":null}`},
		{"mask", `{"columns":["email"],"columns":null}`},
		{"mask", `{"columns":[]}`},
		{"mask", `{"columns":["email",null]}`},
		{"mask", `{"columns":["flag"]}`},
		{"mask", `{"column\u017f":["email"]}`},
		{"derive", `{}`},
		{"derive", `null`},
		{"derive", `{"factor":null,"target":null}`},
		{"derive", `{"factor":"2"}`},
		{"derive", `{"factor":true}`},
		{"derive", `{"source":"amount","target":"x","factor":1e300}`},
		{"derive", `{"factor":1e-300}`},
		{"derive", `{"factor":-3.5,"target":"neg"}`},
		{"derive", `{"target":"amount"}`},
		{"derive", `{"source":"id"}`},
		{"derive", `{"source":"nope"}`},
		{"derive", `{"target":""}`},
		{"derive", `{"\u017fource":"amount","ta\u0072get":"\u212a"}`},
	}
	for _, tt := range tests {
		t.Run(tt.transform+"/"+tt.conf, func(t *testing.T) {
			mem := wasmtesting.Allocator(t)
			rec := wasmtesting.Release(t, testBatch(mem, 100, true))
			want, goErr := run(t, modules["go/"+tt.transform], raw(tt.conf), rec, mem)
			got, asErr := run(t, modules["as/"+tt.transform], raw(tt.conf), rec, mem)
			switch {
			case goErr != nil && asErr != nil:
				t.Logf("both refuse it:\n  go: %v\n  as: %v", goErr, asErr)
			case goErr != nil || asErr != nil:
				t.Fatalf("Go bind error %v, AssemblyScript bind error %v", goErr, asErr)
			case got != want:
				t.Fatalf("outputs differ:\nGo:\n%s\nAssemblyScript:\n%s", want, got)
			}
		})
	}
}

// FuzzConfigLikeGo is TestConfigLikeGo on arbitrary JSON configurations
// (the seeds are the table's filter, mask and derive cases).
func FuzzConfigLikeGo(f *testing.F) {
	for _, s := range []string{
		`{"column":"country","op":"!=","value":["FR","\u00dcn\u00ef"]}`,
		`{"columns":["email","country"]}`,
		`{"source":"amount","target":"c","factor":0.5}`,
		`{"column":"id","op":"<","value":-1e3}`,
	} {
		for i := range 3 {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, conf string) {
		if !json.Valid([]byte(conf)) {
			t.Skip("the host only sends valid JSON")
		}
		name := names[int(which)%len(names)]
		mem := wasmtesting.Allocator(t)
		rec := wasmtesting.Release(t, testBatch(mem, 30, true))
		want, goErr := run(t, modules["go/"+name], raw(conf), rec, mem)
		got, asErr := run(t, modules["as/"+name], raw(conf), rec, mem)
		if (goErr != nil) != (asErr != nil) {
			t.Fatalf("%s %s: Go bind error %v, AssemblyScript bind error %v", name, conf, goErr, asErr)
		}
		if got != want {
			t.Fatalf("%s %s: outputs differ:\nGo:\n%s\nAssemblyScript:\n%s", name, conf, want, got)
		}
	})
}
