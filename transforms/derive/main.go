// Command derive is a Wasm stage that adds a computed column: an integer
// column holding round(source × factor) (half away from zero). The default
// turns an amount into cents.
//
//	stages:
//	  - wasm: transforms/derive/derive.wasm
//	    config: {source: amount, target: amount_cents, factor: 100}
package main

import (
	"fmt"
	"math"

	"github.com/dataweaver/dataweaver/guest-sdk/go/guest"
)

func main() {}

func init() { guest.Stage(setup) }

func setup(s *guest.Setup) (guest.ProcessFunc, error) {
	conf := struct {
		Source string  `json:"source"`
		Target string  `json:"target"`
		Factor float64 `json:"factor"`
	}{Source: "amount", Target: "amount_cents", Factor: 100}
	if err := s.Config(&conf); err != nil {
		return nil, err
	}
	if conf.Target == "" {
		return nil, fmt.Errorf("config: target must name the new column")
	}
	src := guest.Read[float64](s, conf.Source)
	dst := guest.Write[int64](s, conf.Target, "int64")
	lim := float64(math.MaxInt64)
	return func(b *guest.Batch) error {
		in := src.View(b)
		out := dst.Values(b)
		for i, x := range in.Values {
			y := math.Round(x * conf.Factor)
			if !in.Valid(i) {
				dst.SetNull(b, i)
				continue
			}
			if math.IsNaN(y) || y >= lim || y < -lim {
				b.Rejectf(i, "%s: %v × %v does not fit in int64", conf.Source, x, conf.Factor)
				continue
			}
			out[i] = int64(y)
		}
		return nil
	}, nil
}
