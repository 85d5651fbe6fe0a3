/*
 * hostile is a C stage that hands the host real out-of-bounds pointers,
 * computed by compiled code, to check that the host refuses them
 * (wasmabi/hostile_c_test.go). It is built like any C transform:
 *
 *     weave build wasmabi/testdata/hostile/c -o wasmabi/testdata/hostile/c/hostile.wasm
 *
 * It reads utf8 column "s" and writes "out" = "ok <n>", n counting the
 * batches this instance has processed, so a test can tell a fresh
 * instance. A batch whose first value is "boom" instead makes the SDK
 * describe a corrupted builder, the kind of bug a stage writing the
 * builder's public fields directly can have; config "mode" says how:
 *
 *     values   (default) values pointer 4 bytes before the end of memory,
 *              with more bytes than that behind it
 *     offsets  offsets pointer at the end of memory
 *     wrap     values pointer whose end wraps past 2^32
 */
#include <stdio.h>

#include "dataweaver.h"

static dw_col s;
static dw_out out;
static dw_str mode = {"values", 6};
static unsigned batches;

static int process(dw_batch *b) {
    dw_view v = dw_view_of(b, s);
    dw_builder *w = dw_builder_of(b, out);
    batches++;
    for (uint32_t i = 0; i < v.len; i++) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "ok %u", batches);
        dw_append(w, buf, (uint32_t)n);
    }
    dw_str first = v.len ? dw_string(&v, 0) : (dw_str){"", 0};
    if (first.len != 4 || memcmp(first.ptr, "boom", 4) != 0) return 0;
    uintptr_t end = __builtin_wasm_memory_size(0) * 65536;
    if (strcmp(mode.ptr, "offsets") == 0) {
        w->offsets = (int32_t *)end;
    } else if (strcmp(mode.ptr, "wrap") == 0) {
        w->data = (uint8_t *)(uintptr_t)0xfffffff0u;
        w->len = 0x20;
    } else {
        w->data = (uint8_t *)(end - 4);
    }
    return 0;
}

static dw_process_fn setup(dw_setup *st) {
    dw_config_string(st, "mode", &mode);
    s = dw_read(st, "s", DW_STRING);
    out = dw_write(st, "out", "utf8");
    return process;
}

DW_STAGE(setup)
