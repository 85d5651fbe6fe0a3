// Package columns provides the native stages that reshape a batch's columns
// without touching its data: `select` keeps or drops columns and `rename`
// renames them.
//
// # Zero copy
//
// Both build the output record from the input's own arrays (retained, not
// copied), so they cost the same for a batch of ten rows or ten million.
// All the work that depends on the schema — finding column indices,
// checking names — happens once in Bind; Process only picks arrays, so the
// stages are safe to run with several workers.
//
// # Errors
//
// A column the input does not have, or a rename that would make two
// columns share a name, is a schema error (wrapping engine.ErrSchema) at
// Bind, so `weave validate` reports it before any data is read. The message
// lists the columns the input does have.
package columns
