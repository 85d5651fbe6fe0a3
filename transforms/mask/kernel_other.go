//go:build !wasm

package main

// maskFast is maskFastGo where there is no assembly for it.
func maskFast(data *byte, dataLen int, offs *int32, i, n int, valid *byte, vals *byte, p, capv int, oo *int32) (next, q int) {
	return maskFastGo(data, dataLen, offs, i, n, valid, vals, p, capv, oo)
}
