/*
 * gcd appends gcd(a, b) of two int32 columns: arrow-udf's published
 * benchmark function (Euclid's algorithm), for comparing DataWeaver's
 * boundary with theirs on 1,024-row batches.
 *
 *     stages:
 *       - wasm: transforms/c/gcd/gcd.wasm
 *         config: {a: a, b: b, target: gcd}
 *
 * The result is null where either input is.
 */
#include "dataweaver.h"

static dw_col ca, cb;
static dw_out out;

/* gcd is Euclid's algorithm, `while (b != 0) { t = b; b = a % b; a = t; }`,
 * with its first three steps written out: under a stage timeout each loop
 * iteration is an exit to the host, and most pairs are done by then in
 * arrow-udf's benchmark data. The loop takes the rest. */
static inline __attribute__((always_inline)) int32_t gcd(int32_t a, int32_t b) {
    int32_t t;
    if (b == 0) return a;
    t = b, b = a % b, a = t;
    if (b == 0) return a;
    t = b, b = a % b, a = t;
    if (b == 0) return a;
    t = b, b = a % b, a = t;
    while (b != 0) t = b, b = a % b, a = t;
    return a;
}

static int process(dw_batch *b) {
    dw_view va = dw_view_of(b, ca), vb = dw_view_of(b, cb);
    int32_t *g = dw_values(b, out);
    const int32_t *x = va.i32, *y = vb.i32;
    uint32_t n = va.len, i = 0;
    /* Sixteen rows per iteration. */
    for (; i + 16 <= n; i += 16) {
#pragma clang loop unroll(full)
        for (int k = 0; k < 16; k++) g[i + k] = gcd(x[i + k], y[i + k]);
    }
    for (; i < n; i++) g[i] = gcd(x[i], y[i]);
    if (va.validity || vb.validity) {
        uint8_t *v = dw_validity(b, out);
        uint32_t nb = (n + 7) / 8;
        if (va.validity) memcpy(v, va.validity, nb);
        if (vb.validity)
            for (uint32_t k = 0; k < nb; k++) v[k] &= vb.validity[k];
    }
    return 0;
}

static dw_process_fn setup(dw_setup *s) {
    dw_str a = {"a", 1}, bn = {"b", 1}, target = {"gcd", 3};
    dw_config_string(s, "a", &a);
    dw_config_string(s, "b", &bn);
    dw_config_string(s, "target", &target);
    if (dw_setup_failed(s)) return NULL;
    ca = dw_read(s, a.ptr, DW_INT32);
    cb = dw_read(s, bn.ptr, DW_INT32);
    out = dw_write(s, target.ptr, "int32");
    return process;
}

DW_STAGE(setup)
