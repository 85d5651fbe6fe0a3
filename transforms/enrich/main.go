// Command enrich is a Wasm stage that adds a column looked up from a table
// in its configuration, e.g. country → region. Keys missing from the table
// get the default, or null when there is none.
//
//	stages:
//	  - wasm: transforms/enrich/enrich.wasm
//	    config:
//	      key: country
//	      target: region
//	      table: {FR: EMEA, DE: EMEA, US: AMER, JP: APAC}
//	      default: OTHER
package main

import (
	"errors"

	"github.com/dataweaver/dataweaver/guest-sdk/go/guest"
)

func main() {}

func init() { guest.Stage(setup) }

func setup(s *guest.Setup) (guest.ProcessFunc, error) {
	var conf struct {
		Key     string            `json:"key"`
		Target  string            `json:"target"`
		Table   map[string]string `json:"table"`
		Default *string           `json:"default"`
	}
	if err := s.Config(&conf); err != nil {
		return nil, err
	}
	if conf.Key == "" || conf.Target == "" {
		return nil, errors.New("config: key and target are required")
	}
	key := guest.ReadString(s, conf.Key)
	out := guest.WriteString(s, conf.Target)
	return func(b *guest.Batch) error {
		v, w := key.View(b), out.Builder(b)
		for i := range b.Len() {
			val, ok := "", false
			if v.Valid(i) {
				val, ok = conf.Table[v.Value(i)]
			}
			switch {
			case ok:
				w.Append(val)
			case conf.Default != nil:
				w.Append(*conf.Default)
			default:
				w.AppendNull(b)
			}
		}
		return nil
	}, nil
}
