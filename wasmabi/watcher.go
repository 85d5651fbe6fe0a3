package wasmabi

import (
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
)

// wazero v1.12, for a module compiled with close-on-context-done, starts
// a goroutine and a channel on every call to watch the call's context
// (internal/wasm/module_instance.go CloseModuleOnCanceledOrTimeout), even
// when the context can never be done. On a 2-core machine that goroutine
// wakes an idle processor on every call: 2-4 µs of CPU per call, as much
// as native Go takes for a 1,024-row gcd batch (BENCHMARKS.md). The
// stopper already does that goroutine's job (one timer per instance, one
// hook per caller context), so detachWatcher turns wazero's per-call
// watcher off and lets the stopper stop a call the way the watcher would:
// by setting the module's exit code, which the checks compiled into the
// guest (loop heads, function entries) read, closing the module's
// resources and unwinding the call on the calling goroutine.
//
// There is no API for either, so both are reached by reflection into
// wazero's internals, checked field by field: when wazero's layout
// differs (an upgrade), detachWatcher returns nil and calls keep wazero's
// watcher, which is correct and only slower. TestWatcherDetached fails
// then, so an upgrade cannot lose the speed unnoticed.

// exitFlagResourceNotClosed is wazero's exitCodeFlagResourceNotClosed: the
// module is closed and FailIfClosed, on the calling goroutine, still has
// to close its resources (its memory among them: freeing it while the
// guest runs would crash the process).
const exitFlagResourceNotClosed = 2

// flipMu serialises the read-then-write of a compiled module's watcher
// flag, shared by the instances of one compiled module.
var flipMu sync.Mutex

// detachWatcher stops wazero from watching the context of mod's calls and
// returns mod's exit-code word, through which the stopper stops a call.
// It returns nil, leaving the watcher on, when wazero's layout is not the
// one expected or when the module has a start section: that runs during
// instantiation, where nothing but wazero's watcher could stop it.
func detachWatcher(mod api.Module) *atomic.Uint64 {
	v := reflect.ValueOf(mod)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	inst := v.Elem()
	closed, ok := field(inst, "Closed", reflect.TypeFor[atomic.Uint64]())
	if !ok {
		return nil
	}
	src, ok := pointee(inst, "Source")
	if !ok {
		return nil
	}
	if start := src.FieldByName("StartSection"); !start.IsValid() || start.Kind() != reflect.Pointer || !start.IsNil() {
		return nil
	}
	eng := inst.FieldByName("Engine")
	if !eng.IsValid() || eng.Kind() != reflect.Interface || eng.IsNil() {
		return nil
	}
	me := eng.Elem()
	if me.Kind() != reflect.Pointer || me.IsNil() || me.Elem().Kind() != reflect.Struct {
		return nil
	}
	cm, ok := pointee(me.Elem(), "parent")
	if !ok {
		return nil
	}
	flag, ok := field(cm, "ensureTermination", reflect.TypeFor[bool]())
	if !ok {
		return nil
	}
	word := (*atomic.Uint64)(unsafe.Pointer(closed.UnsafeAddr()))
	on := (*bool)(unsafe.Pointer(flag.UnsafeAddr()))
	flipMu.Lock()
	defer flipMu.Unlock()
	// Written only when still set: instances already running calls on this
	// compiled module (detached before) only ever read it.
	if *on {
		*on = false
	}
	return word
}

// field is s's field name when it has type t.
func field(s reflect.Value, name string, t reflect.Type) (reflect.Value, bool) {
	f := s.FieldByName(name)
	return f, f.IsValid() && f.Type() == t && f.CanAddr()
}

// pointee is the struct s's pointer field name points to.
func pointee(s reflect.Value, name string) (reflect.Value, bool) {
	f := s.FieldByName(name)
	if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() || f.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	return f.Elem(), true
}

// stopCode is the exit code a stopped call ends with: the one wazero's own
// watcher would set, so classify reads both alike.
func stopCode(timedOut bool) uint64 {
	code := sys.ExitCodeContextCanceled
	if timedOut {
		code = sys.ExitCodeDeadlineExceeded
	}
	return exitFlagResourceNotClosed | uint64(code)<<32
}
