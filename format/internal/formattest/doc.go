// Package formattest holds what the tests and benchmarks of the row-based
// text formats (format/csv and format/jsonl) have in common: the orders
// benchmark data, reading a whole input into comparable strings, and the
// checks every such reader and writer must pass (round trips, reject line
// numbers under parallel decoding, I/O errors, early Close).
//
// Each helper takes the *format.Format under test and names its files after
// it ("in.csv", "rt.jsonl"), so error messages in a failing test say which
// format failed. Format-specific inputs and expectations stay in the
// format's own tests.
//
// It is a normal package, not a _test file, so that both formats' test
// binaries can import it; nothing outside tests should.
package formattest
