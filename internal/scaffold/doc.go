// Package scaffold writes a new transform's source directory for
// `weave new transform NAME --lang L`: a working stage in the chosen
// language, a pipeline that runs it on sample input, and the output that
// run must produce, so the first thing a user does (build, run, compare)
// is also the transform's test.
//
// Every language gets the same transform, "scale": it multiplies a float64
// column by a configured factor into a new column, passes nulls through
// and rejects negative values with a per-row error. That is one of each
// thing a stage does (config, read, write, null, reject) and small enough
// to replace.
package scaffold
