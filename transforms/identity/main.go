// Command identity is a Wasm stage that changes nothing. It reads the
// columns named in its config (so they cross the boundary) and hands the
// batch back untouched: its cost is the price of the boundary itself,
// which the benchmarks compare with a native pass-through and a memcpy.
//
//	stages:
//	  - wasm: transforms/identity/identity.wasm
//	    config: {floats: [amount], strings: [email]}
package main

import "github.com/dataweaver/dataweaver/guest-sdk/go/guest"

func main() {}

func init() { guest.Stage(setup) }

func setup(s *guest.Setup) (guest.ProcessFunc, error) {
	var conf struct{ Floats, Strings []string }
	if err := s.ConfigKeys(guest.ConfStrings("floats", &conf.Floats), guest.ConfStrings("strings", &conf.Strings)); err != nil {
		return nil, err
	}
	for _, name := range conf.Floats {
		guest.Read[float64](s, name)
	}
	for _, name := range conf.Strings {
		guest.ReadString(s, name)
	}
	return func(*guest.Batch) error { return nil }, nil
}
