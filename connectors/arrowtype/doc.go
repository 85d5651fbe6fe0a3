// Package arrowtype reads the Arrow type names pipeline files use in
// `schema:` mappings (int64, utf8, timestamp[us, UTC], decimal128(10,2),
// list<int64>, …) so every connector that takes a schema accepts the same
// spelling and reports the same errors.
//
// # Syntax
//
// A type is one of the names in [Names], optionally followed by
// "not null". Names follow arrow-go's own DataType.String() where it is
// readable (so a schema printed by `weave` can be pasted back), with the
// common aliases string, boolean, double, date and decimal accepted too.
// Parameterised types take their parameters in brackets (timestamp[us],
// timestamp[ms, UTC], timestamp[ns, tz=Europe/Paris], time64[ns],
// duration[ms]) or parentheses (decimal128(10,2)); nested types use
// angle brackets: list<utf8>, struct<name: utf8, score: float64 not null>,
// map<utf8, int64>.
package arrowtype
