package c_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// guestCol is one input column laid out as the ABI's descriptor says.
type guestCol struct {
	name, typ string
	code      byte
	offs      []byte
	vals      []byte
}

// BenchmarkGuestOnly times the guests' own code: dw_process called
// directly through wazero on one batch already in guest memory, without
// the host's copy in, validation and Arrow assembly (BenchmarkGuests has
// those). It reports thread CPU time per row, which stays steady on a
// machine shared with other builds where wall time does not.
//
//	go test ./transforms/c -run '^$' -bench GuestOnly -count 3
func BenchmarkGuestOnly(b *testing.B) {
	const n = 1 << 16
	amount := make([]byte, 8*n)
	emails, emailOffs := []byte{}, binary.LittleEndian.AppendUint32(nil, 0)
	countries, countryOffs := []byte{}, binary.LittleEndian.AppendUint32(nil, 0)
	for i := range n {
		binary.LittleEndian.PutUint64(amount[8*i:], math.Float64bits(float64(i%1000)/7-7))
		emails = fmt.Appendf(emails, "user%d@example%d.com", i, i%50)
		emailOffs = binary.LittleEndian.AppendUint32(emailOffs, uint32(len(emails)))
		countries = append(countries, []string{"FR", "DE", "US", "JP", "XX", "GB"}[i%6]...)
		countryOffs = binary.LittleEndian.AppendUint32(countryOffs, uint32(len(countries)))
	}
	amountCol := guestCol{"amount", "float64", 11, nil, amount}
	emailCol := guestCol{"email", "utf8", 12, emailOffs, emails}
	countryCol := guestCol{"country", "utf8", 12, countryOffs, countries}
	for _, tc := range []struct {
		name string
		conf any
		col  guestCol
	}{
		{"filter_amount", conf{"column": "amount", "op": ">=", "value": 0}, amountCol},
		{"filter_country", conf{"column": "country", "op": "!=", "value": "XX"}, countryCol},
		{"filter_in", conf{"column": "country", "value": []string{"FR", "DE", "JP"}}, countryCol},
		{"mask", conf{"columns": []string{"email"}}, emailCol},
		{"derive", nil, amountCol},
	} {
		module, _, _ := strings.Cut(tc.name, "_")
		for _, lang := range []string{"c", "go"} {
			wasm := cWasm[module]
			if lang == "go" {
				wasm = goWasm[module]
			}
			for _, timeout := range []bool{true, false} {
				b.Run(fmt.Sprintf("%s/%s/timeout=%v", tc.name, lang, timeout), func(b *testing.B) {
					guestOnly(b, wasm, timeout, tc.conf, n, tc.col)
				})
			}
		}
	}
}

// guestOnly binds wasm to col's schema, lays one batch of n rows out in
// its memory and calls dw_process b.N times. timeout compiles in the
// checks a stage timeout needs, as the host does.
func guestOnly(b *testing.B, wasm []byte, timeout bool, conf any, n int, col guestCol) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCloseOnContextDone(timeout))
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	nolog := api.GoModuleFunc(func(context.Context, api.Module, []uint64) {})
	i32 := api.ValueTypeI32
	if _, err := rt.NewHostModuleBuilder("dataweaver").NewFunctionBuilder().
		WithGoModuleFunction(nolog, []api.ValueType{i32, i32, i32}, nil).Export("log").Instantiate(ctx); err != nil {
		b.Fatal(err)
	}
	mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStartFunctions("_initialize").WithName(""))
	if err != nil {
		b.Fatal(err)
	}
	call := func(name string, args ...uint64) uint32 {
		r, err := mod.ExportedFunction(name).Call(ctx, args...)
		if err != nil {
			b.Fatal(err)
		}
		return uint32(r[0])
	}
	req, _ := json.Marshal(map[string]any{"abi": 1, "stage": "bench", "config": conf,
		"schema": []map[string]any{{"name": col.name, "type": col.typ, "nullable": false}}})
	base := call("dw_reserve", uint64(len(col.offs)+len(col.vals)+1<<20))
	mem := mod.Memory()
	mem.Write(base, req)
	resp := call("dw_bind", uint64(base), uint64(len(req)))
	size, _ := mem.ReadUint32Le(resp)
	if body, _ := mem.Read(resp+4, size); strings.Contains(string(body), `"error"`) {
		b.Fatalf("bind: %s", body)
	}
	// Header, one descriptor, then the buffers 64-byte aligned.
	hdr := make([]byte, 48)
	binary.LittleEndian.PutUint32(hdr, uint32(n))
	binary.LittleEndian.PutUint32(hdr[4:], 1)
	hdr[16+4] = col.code
	pos := base + 1024
	place := func(p []byte) uint32 {
		if len(p) == 0 {
			return 0
		}
		at := pos
		mem.Write(at, p)
		pos += (uint32(len(p)) + 63) &^ 63
		return at
	}
	binary.LittleEndian.PutUint32(hdr[16+16:], place(col.offs))
	binary.LittleEndian.PutUint32(hdr[16+20:], place(col.vals))
	binary.LittleEndian.PutUint32(hdr[16+24:], uint32(len(col.vals)))
	mem.Write(base, hdr)

	process := mod.ExportedFunction("dw_process")
	stack := make([]uint64, 1)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var before, after syscall.Rusage
	b.ResetTimer()
	_ = syscall.Getrusage(1 /* RUSAGE_THREAD */, &before)
	for range b.N {
		stack[0] = uint64(base)
		if err := process.CallWithStack(ctx, stack); err != nil {
			b.Fatal(err)
		}
		if status, _ := mem.ReadUint32Le(uint32(stack[0])); status != 0 {
			b.Fatalf("dw_process failed the batch")
		}
	}
	_ = syscall.Getrusage(1, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/row")
}
