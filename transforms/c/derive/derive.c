/*
 * derive adds a computed column: an int64 column holding round(source ×
 * factor), halves away from zero. The C version of transforms/derive,
 * with the same output; the default turns an amount into cents.
 *
 *     stages:
 *       - wasm: transforms/c/derive/derive.wasm
 *         config: {source: amount, target: amount_cents, factor: 100}
 *
 * A product that rounds outside int64 (or is NaN) rejects its row with a
 * message naming the column; nulls stay null.
 */
#include "dataweaver.h"

static dw_col src;
static dw_out dst;
static const char *source = "amount";
static double factor = 100;

/* round is Go's math.Round as transforms/derive computes it, from
 * single instructions (f64.trunc, f64.abs, f64.copysign) and no branch:
 * x-t is exact, and for |x| ≥ 2^52, ±Inf and NaN it is 0 or NaN, so t
 * (x itself) comes back; -0 and small negatives keep their sign. */
static inline double round_half_away(double x) {
    double t = __builtin_trunc(x);
    return t + __builtin_copysign((double)(__builtin_fabs(x - t) >= 0.5), x);
}

/* 0x1p63 is 2^63: rounded values in [-2^63, 2^63) fit in int64. */
static inline uint64_t outside(double y) { return !(y < 0x1p63 && y >= -0x1p63); }

static void reject(dw_batch *b, uint32_t i, double x) {
    char xs[32], fs[32];
    dw_format_float(xs, x);
    dw_format_float(fs, factor);
    dw_rejectf(b, i, "%s: %s \xc3\x97 %s does not fit in int64", source, xs, fs);
}

/* Rows per loop iteration: 32 measured best (guest-only CPU time per
 * row, 8/16/32/64: 3.5/3.4/3.4/4.6 ns without a timeout, 6.7/5.2/4.5/5.8
 * with one: fewer exits, until the block no longer fits the registers). */
#define BLOCK 32

static int process(dw_batch *b) {
    dw_view in = dw_view_of(b, src);
    int64_t *out = dw_values(b, dst);
    /* Locals, not the view's fields or the global: the compiler must
     * otherwise reload them after every store to out, which may alias. */
    const double *x = in.f64, f = factor;
    const uint8_t *valid = in.validity;
    uint32_t n = in.len, j = 0;
    if (valid != NULL) memcpy(dw_validity(b, dst), valid, (n + 7) / 8);
    /* BLOCK rows per iteration (one loop exit under a timeout), each
     * a value (0 for nulls and rows that do not fit) and a bit of bad; a
     * block with a bad row is redone per row to reject exactly the rows Go
     * rejects, in order. */
    for (; j + BLOCK <= n; j += BLOCK) {
        uint64_t ok = ~0ull, bad = 0;
        if (valid) memcpy(&ok, valid + j / 8, BLOCK / 8);
#pragma clang loop unroll(full)
        for (int k = 0; k < BLOCK; k++) {
            double y = round_half_away(x[j + k] * f);
            uint64_t keep = (ok >> k & 1) & !outside(y);
            out[j + k] = (int64_t)y & -(int64_t)keep;
            bad |= ((ok >> k & 1) & outside(y)) << k;
        }
        for (int k = 0; bad != 0; k++, bad >>= 1)
            if (bad & 1) reject(b, j + (uint32_t)k, x[j + k]);
    }
    for (; j < n; j++) {
        if (valid != NULL && !(valid[j / 8] >> (j % 8) & 1)) continue;
        double y = round_half_away(x[j] * f);
        if (outside(y)) {
            reject(b, j, x[j]);
            continue;
        }
        out[j] = (int64_t)y;
    }
    return 0;
}

static dw_process_fn setup(dw_setup *s) {
    dw_str src_name = {"amount", 6}, target = {"amount_cents", 12};
    dw_config_string(s, "source", &src_name);
    dw_config_string(s, "target", &target);
    dw_config_number(s, "factor", &factor);
    if (dw_setup_failed(s)) return NULL;
    if (target.len == 0) {
        dw_errorf(s, "config: target must name the new column");
        return NULL;
    }
    source = src_name.ptr;
    src = dw_read(s, source, DW_FLOAT64);
    dst = dw_write(s, target.ptr, "int64");
    return process;
}

DW_STAGE(setup)
