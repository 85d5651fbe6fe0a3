package main

// maskFast is maskFastGo as one wasm loop (kernel_wasm.s).
//
//go:noescape
func maskFast(data *byte, dataLen int, offs *int32, i, n int, valid *byte, vals *byte, p, capv int, oo *int32) (next, q int)
