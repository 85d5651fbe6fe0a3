package conformance_test

// conf is a transform's configuration as the pipeline file gives it.
type conf = map[string]any

// tcase is one configuration of a transform, run on every input.
type tcase struct {
	name string
	conf conf
	// bindErr: every implementation must refuse this configuration at
	// bind time (the messages may differ between languages).
	bindErr bool
}

var cases = map[string][]tcase{
	"filter": {
		{name: "int64-ge", conf: conf{"column": "id", "op": ">=", "value": 10}},
		{name: "float64-lt", conf: conf{"column": "amount", "op": "<", "value": 2.5}},
		{name: "float64-eq-default-op", conf: conf{"column": "amount", "value": 2.5}},
		{name: "float64-ne", conf: conf{"column": "amount", "op": "!=", "value": -2.5}},
		{name: "float64-le", conf: conf{"column": "amount", "op": "<=", "value": 0}},
		{name: "float64-gt", conf: conf{"column": "amount", "op": ">", "value": -1.125}},
		{name: "int32-gt", conf: conf{"column": "qty", "op": ">", "value": 3}},
		{name: "int32-ne", conf: conf{"column": "qty", "op": "!=", "value": 0}},
		{name: "int32-lt-fraction", conf: conf{"column": "qty", "op": "<", "value": 0.5}},
		{name: "utf8-eq", conf: conf{"column": "country", "op": "==", "value": "FR"}},
		{name: "utf8-ne", conf: conf{"column": "country", "op": "!=", "value": "FR"}},
		{name: "utf8-eq-empty", conf: conf{"column": "country", "value": ""}},
		{name: "utf8-in", conf: conf{"column": "country", "value": []any{"FR", "Ünï", "日本"}}},
		{name: "utf8-not-in", conf: conf{"column": "country", "op": "!=", "value": []any{"FR", "DE"}}},
		{name: "large-utf8-eq", conf: conf{"column": "note", "value": "a@b"}},
		{name: "binary-eq", conf: conf{"column": "data", "value": "ab"}},
		{name: "binary-ne-empty", conf: conf{"column": "data", "op": "!=", "value": ""}},
		{name: "none-kept", conf: conf{"column": "id", "op": ">", "value": 1e18}},
		{name: "err-no-column", conf: conf{}, bindErr: true},
		{name: "err-unknown-column", conf: conf{"column": "nope", "value": 1}, bindErr: true},
		{name: "err-string-order", conf: conf{"column": "country", "op": "<", "value": "FR"}, bindErr: true},
		{name: "err-number-not-number", conf: conf{"column": "amount", "value": "x"}, bindErr: true},
		{name: "err-unknown-op", conf: conf{"column": "amount", "op": "~", "value": 1}, bindErr: true},
		{name: "err-list-not-strings", conf: conf{"column": "country", "value": []any{"FR", 1}}, bindErr: true},
	},
	"mask": {
		{name: "email", conf: conf{"columns": []any{"email"}}},
		{name: "two-columns", conf: conf{"columns": []any{"email", "country"}}},
		{name: "large-utf8", conf: conf{"columns": []any{"note"}}},
		{name: "err-no-columns", conf: conf{}, bindErr: true},
		{name: "err-not-string", conf: conf{"columns": []any{"id"}}, bindErr: true},
		{name: "err-unknown-column", conf: conf{"columns": []any{"nope"}}, bindErr: true},
	},
	"derive": {
		{name: "defaults", conf: conf{}},
		{name: "half", conf: conf{"source": "amount", "target": "half", "factor": 0.5}},
		{name: "replace-source", conf: conf{"source": "amount", "target": "amount", "factor": 1}},
		{name: "err-empty-target", conf: conf{"target": ""}, bindErr: true},
		{name: "err-not-float64", conf: conf{"source": "country"}, bindErr: true},
	},
	"positive": {
		{name: "fixed", conf: conf{"ignored": true}},
	},
	"gcd": {
		{name: "defaults", conf: conf{}},
		{name: "named", conf: conf{"a": "b", "b": "a", "target": "g"}},
		{name: "err-not-int32", conf: conf{"a": "id"}, bindErr: true},
	},
}
