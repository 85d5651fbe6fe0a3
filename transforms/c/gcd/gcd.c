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
 * for the rows that do not fit a whole group below. */
static int32_t gcd(int32_t a, int32_t b) {
    while (b != 0) {
        int32_t t = b;
        b = a % b;
        a = t;
    }
    return a;
}

/* step is one Euclid step on every row of a group, branch-free: a row
 * whose b is 0 is done and stays as it is (it divides by 1 and keeps a). */
#define GROUP 16
static inline __attribute__((always_inline)) int32_t step(int32_t *a, int32_t *b) {
    int32_t any = 0;
#pragma clang loop unroll(full)
    for (int k = 0; k < GROUP; k++) {
        int32_t live = -(int32_t)(b[k] != 0);
        int32_t r = a[k] % (b[k] | (b[k] == 0));
        a[k] = (b[k] & live) | (a[k] & ~live);
        b[k] = r & live;
        any |= b[k];
    }
    return any;
}

/* gcd_group runs Euclid on GROUP rows: two steps per row written out,
 * then, if any row is unfinished, steps on all of them in lockstep until
 * every one is. Under a stage timeout each loop iteration is an exit to
 * the host, so a group costs the most steps one of its rows needs, not
 * their sum (random 31-bit pairs take ~18 steps: 4x faster than a loop
 * per row); arrow-udf's benchmark pairs all finish in the first two, with
 * no loop at all. */
static inline __attribute__((always_inline)) void gcd_group(const int32_t *x, const int32_t *y, int32_t *g) {
    int32_t a[GROUP], b[GROUP], any = 0;
#pragma clang loop unroll(full)
    for (int k = 0; k < GROUP; k++) {
        int32_t p = x[k], q = y[k], t;
        if (q != 0) {
            t = q, q = p % q, p = t;
            if (q != 0) t = q, q = p % q, p = t;
        }
        a[k] = p;
        b[k] = q;
        any |= q;
    }
    if (any)
        while (step(a, b)) {
        }
    memcpy(g, a, sizeof a);
}

static int process(dw_batch *b) {
    dw_view va = dw_view_of(b, ca), vb = dw_view_of(b, cb);
    int32_t *g = dw_values(b, out);
    const int32_t *x = va.i32, *y = vb.i32;
    uint32_t n = va.len, i = 0;
    /* 64 rows per iteration. */
    for (; i + 4 * GROUP <= n; i += 4 * GROUP) {
        gcd_group(x + i, y + i, g + i);
        gcd_group(x + i + GROUP, y + i + GROUP, g + i + GROUP);
        gcd_group(x + i + 2 * GROUP, y + i + 2 * GROUP, g + i + 2 * GROUP);
        gcd_group(x + i + 3 * GROUP, y + i + 3 * GROUP, g + i + 3 * GROUP);
    }
    for (; i < n; i++) g[i] = gcd(x[i], y[i]);
    if (va.validity || vb.validity) {
        uint8_t *v = dw_validity(b, out);
        uint32_t nw = (n + 63) / 64; /* whole words: see DW_PAD, dw_validity */
        static const uint64_t ones = ~0ull;
        for (uint32_t k = 0; k < nw; k++) {
            uint64_t wa, wb;
            memcpy(&wa, va.validity ? va.validity + 8 * k : (const uint8_t *)&ones, 8);
            memcpy(&wb, vb.validity ? vb.validity + 8 * k : (const uint8_t *)&ones, 8);
            wa &= wb;
            memcpy(v + 8 * k, &wa, 8);
        }
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
