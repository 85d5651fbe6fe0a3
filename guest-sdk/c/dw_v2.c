/*
 * dw_v2.c — ABI v2 (wasmabi/ABI.md, "Version 2"): the rows a call emits,
 * each with its input row of origin, into growable per-column buffers;
 * the v2 result header; dw_finish, dw_snapshot and dw_restore behind
 * the DW_FINISH and DW_STATE macros.
 */
#include <stdlib.h>
#include <string.h>

#include "dw_internal.h"

#define v2col dw__v2col

static struct {
    struct v2col *cols;
    uint32_t ncols;
    uint32_t *origins;
    uint32_t rows, origins_cap;
    bool any_origin;
    uint32_t result[10];
    uint32_t *desc, desc_cap;
    uint32_t *errs, errs_cap;
} v2;

void dw__v2_grow(void **p, uint32_t *cap, uint64_t need, uint32_t size) {
    if (need <= *cap) return;
    uint64_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    if (c * size > INT32_MAX) dw__die("dataweaver: emitted column over 2 GiB");
    *p = dw__xrealloc(*p, (size_t)(c * size) + DW_PAD);
    *cap = (uint32_t)c;
}
#define grow dw__v2_grow

void dw__v2_begin(dw_batch *b) {
    (void)b;
    if (v2.cols == NULL && dw__g.nouts > 0) {
        v2.cols = calloc(dw__g.nouts, sizeof *v2.cols);
        if (v2.cols == NULL) dw__die("dataweaver: out of memory");
    }
    v2.ncols = dw__g.nouts;
    v2.rows = 0;
    v2.any_origin = false;
    for (uint32_t i = 0; i < v2.ncols; i++) {
        struct v2col *c = &v2.cols[i];
        c->len = c->rows = 0;
        c->has_null = false;
        grow((void **)&c->offs, &c->offs_cap, 1, 4);
        c->offs[0] = 0;
    }
    dw__nested_begin(v2.cols);
}

uint32_t dw_emit(dw_batch *b, uint32_t origin) {
    if (origin != DW_NO_ORIGIN && origin >= b->n) dw__die("dataweaver: dw_emit with an origin past the batch's last row");
    grow((void **)&v2.origins, &v2.origins_cap, (uint64_t)v2.rows + 1, 4);
    v2.origins[v2.rows] = origin;
    v2.any_origin |= origin != DW_NO_ORIGIN;
    return v2.rows++;
}

/* col returns the column a put on o writes, with its type code and
 * width: an emitted column, which takes one value per emitted row, or a
 * nested column's child (dw_child). */
struct v2col *dw__v2_col(dw_out o, uint8_t *code, uint8_t *width) {
    if (o.slot >= DW_NODE_BASE) return dw__nested_col(o, code, width);
    if (o.slot < 0 || (uint32_t)o.slot >= v2.ncols) dw__die("dataweaver: dw_put on a column dw_write did not declare");
    struct v2col *c = &v2.cols[o.slot];
    if (c->rows >= v2.rows) dw__die("dataweaver: dw_put of a second value for the row (call dw_emit first)");
    *code = dw__g.outs[o.slot].code;
    *width = dw__g.outs[o.slot].width;
    return c;
}
#define col dw__v2_col

/* valid_room makes the validity bitmap n bytes or more, new bytes all
 * valid: a row's bit is cleared only by dw_put_null. */
void dw__v2_valid_room(struct v2col *c, uint64_t n) {
    uint32_t old = c->valid_cap;
    grow((void **)&c->valid, &c->valid_cap, n, 1);
    if (c->valid_cap > old) memset(c->valid + old, 0xff, c->valid_cap - old);
}

/* put_fixed appends a w-byte value to a column of type code (int64 also
 * fills timestamp columns, which hold int64). */
static void put_fixed(dw_out o, const void *p, uint32_t w, uint8_t code) {
    uint8_t have, width;
    struct v2col *c = col(o, &have, &width);
    /* int64 also fills timestamps, int32 dates (date32, code 16). */
    if (have != code && !(code == 5 && have == DW_CODE_TIMESTAMP) && !(code == 4 && have == 16))
        dw__die("dataweaver: dw_put of the wrong type for the column");
    grow((void **)&c->vals, &c->cap, (uint64_t)c->len + w, 1);
    memcpy(c->vals + c->len, p, w);
    c->len += w;
    c->rows++;
}

void dw_put_int64(dw_batch *b, dw_out o, int64_t v) { (void)b; put_fixed(o, &v, 8, 5); }
void dw_put_int32(dw_batch *b, dw_out o, int32_t v) { (void)b; put_fixed(o, &v, 4, 4); }
void dw_put_float64(dw_batch *b, dw_out o, double v) { (void)b; put_fixed(o, &v, 8, 11); }

void dw_put_bool(dw_batch *b, dw_out o, bool v) {
    (void)b;
    uint8_t code, width;
    struct v2col *c = col(o, &code, &width);
    if (code != DW_CODE_BOOL) dw__die("dataweaver: dw_put_bool on a column that is not bool");
    uint32_t i = c->rows;
    grow((void **)&c->vals, &c->cap, (uint64_t)i / 8 + 1, 1);
    if (i % 8 == 0) c->vals[i / 8] = 0;
    c->vals[i / 8] |= (uint8_t)(v << (i % 8));
    c->len = i / 8 + 1;
    c->rows++;
}

void dw_put_str(dw_batch *b, dw_out o, dw_str v) {
    (void)b;
    uint8_t code, width;
    struct v2col *c = col(o, &code, &width);
    if (code != DW_CODE_UTF8 && code != DW_CODE_BINARY) dw__die("dataweaver: dw_put_str on a column that is not utf8 or binary");
    grow((void **)&c->vals, &c->cap, (uint64_t)c->len + v.len, 1);
    memcpy(c->vals + c->len, v.ptr, v.len);
    c->len += v.len;
    grow((void **)&c->offs, &c->offs_cap, (uint64_t)c->rows + 2, 4);
    c->offs[++c->rows] = (int32_t)c->len;
}

void dw__v2_null_bit(struct v2col *c) {
    uint32_t i = c->rows;
    /* The validity bitmap follows the rows: set every bit up to this
     * row the first time a null comes, then one bit per row after. */
    if (!c->has_null) {
        /* Every row before this one had a value: all bits set. */
        if (c->valid_cap) memset(c->valid, 0xff, c->valid_cap);
        c->has_null = true;
    }
    dw__v2_valid_room(c, (uint64_t)i / 8 + 1);
    c->valid[i / 8] &= (uint8_t)~(1u << (i % 8));
}

void dw__v2_put_empty(struct v2col *c, uint8_t code, uint8_t width) {
    if (code == DW_CODE_UTF8 || code == DW_CODE_BINARY) {
        grow((void **)&c->offs, &c->offs_cap, (uint64_t)c->rows + 2, 4);
        c->offs[c->rows + 1] = (int32_t)c->len;
    } else if (code == DW_CODE_BOOL) {
        uint32_t i = c->rows;
        grow((void **)&c->vals, &c->cap, (uint64_t)i / 8 + 1, 1);
        if (i % 8 == 0) c->vals[i / 8] = 0;
        c->len = i / 8 + 1;
    } else {
        static const uint8_t zero[16];
        grow((void **)&c->vals, &c->cap, (uint64_t)c->len + width, 1);
        memcpy(c->vals + c->len, zero, width);
        c->len += width;
    }
    c->rows++;
}

void dw_put_null(dw_batch *b, dw_out o) {
    (void)b;
    uint8_t code, width;
    struct v2col *c = col(o, &code, &width);
    if (code == DW_CODE_LIST || code == DW_CODE_STRUCT || code == DW_CODE_MAP) {
        dw__nested_null(o, c);
        return;
    }
    dw__v2_null_bit(c);
    dw__v2_put_empty(c, code, width);
}

uint32_t dw__v2_result(dw_batch *b) {
    static dwj_buf msg;
    grow((void **)&v2.desc, &v2.desc_cap, 8 * (uint64_t)v2.ncols + 1, 4);
    for (uint32_t i = 0; i < v2.ncols; i++) {
        struct v2col *c = &v2.cols[i];
        struct dw__out_col *oc = &dw__g.outs[i];
        bool var = oc->code == DW_CODE_UTF8 || oc->code == DW_CODE_BINARY;
        bool nested = oc->code == DW_CODE_LIST || oc->code == DW_CODE_STRUCT || oc->code == DW_CODE_MAP;
        /* A nested column's own failures (a row begun and not ended)
         * say more than the count of its rows. */
        const char *err = nested ? dw__nested_desc(i, c, v2.desc + 8 * i) : NULL;
        if (err != NULL) return dw__failed(err);
        if (c->rows != v2.rows) {
            msg.len = 0;
            dwj_printf(&msg, "output column \"%s\": %u values put for %u rows emitted", oc->name, c->rows, v2.rows);
            return dw__failed(msg.p);
        }
        if (nested) {
            v2.desc[8 * i] = i;
            v2.desc[8 * i + 1] = oc->code;
            continue;
        }
        if (c->has_null) {
            /* Rows put after the last null may lie past the bitmap's
             * bytes so far: they are valid. */
            dw__v2_valid_room(c, (uint64_t)(v2.rows + 7) / 8 + 1);
        }
        uint32_t *d = v2.desc + 8 * i;
        d[0] = i;
        d[1] = oc->code;
        d[2] = 0;
        d[3] = c->has_null ? dw__addr(c->valid) : 0;
        d[4] = var ? dw__addr(c->offs) : 0;
        /* A column with no bytes still needs a non-zero pointer only when
         * it has a length; 0 with length 0 is in bounds. */
        d[5] = c->len ? dw__addr(c->vals) : 0;
        d[6] = c->len;
        d[7] = 0;
    }
    grow((void **)&v2.errs, &v2.errs_cap, 3 * (uint64_t)b->nerrs + 1, 4);
    for (uint32_t i = 0; i < b->nerrs; i++) {
        v2.errs[3 * i] = b->errs[i].row;
        v2.errs[3 * i + 1] = dw__addr(b->msgs.p + b->errs[i].off);
        v2.errs[3 * i + 2] = b->errs[i].len;
    }
    memset(v2.result, 0, sizeof v2.result);
    v2.result[3] = v2.rows;
    v2.result[4] = v2.any_origin && v2.rows ? dw__addr(v2.origins) : 0;
    v2.result[5] = v2.ncols;
    v2.result[6] = v2.ncols ? dw__addr(v2.desc) : 0;
    v2.result[7] = b->nerrs;
    v2.result[8] = b->nerrs ? dw__addr(v2.errs) : 0;
    return dw__addr(v2.result);
}

uint32_t dw__finish(dw_process_fn fn) {
    dw_batch *b = &dw__g.batch;
    b->failed = false;
    b->fail.len = 0;
    if (dw__g.process == NULL) return dw__failed("dw_finish before a successful dw_bind");
    b->n = 0;
    b->nerrs = 0;
    b->msgs.len = 0;
    dw__v2_begin(b);
    if (fn(b) != 0 || b->failed) return dw__failed(b->fail.p ? b->fail.p : "");
    return dw__v2_result(b);
}

uint32_t dw__watermark(dw_watermark_fn fn, int64_t wm) {
    dw_batch *b = &dw__g.batch;
    b->failed = false;
    b->fail.len = 0;
    if (dw__g.process == NULL) return dw__failed("dw_watermark before a successful dw_bind");
    b->n = 0;
    b->nerrs = 0;
    b->msgs.len = 0;
    dw__v2_begin(b);
    if (fn(b, wm) != 0 || b->failed) return dw__failed(b->fail.p ? b->fail.p : "");
    return dw__v2_result(b);
}

struct dw_state {
    dwj_buf buf;
};

void dw_state_put(dw_state *st, const void *p, uint32_t n) { dwj_put(&st->buf, p, n); }

uint32_t dw__snapshot(dw_snapshot_fn fn) {
    static dw_state st;
    static uint32_t hdr[2];
    st.buf.len = 0;
    fn(&st);
    hdr[0] = st.buf.len ? dw__addr(st.buf.p) : 0;
    hdr[1] = (uint32_t)st.buf.len;
    return dw__addr(hdr);
}

uint32_t dw__restore(dw_restore_fn fn, uint32_t p, uint32_t n) {
    static dwj_buf refusal;
    const uint8_t *a = dw__g.arena;
    const char *msg;
    if (n > 0 && (a == NULL || p < dw__addr(a) || (uint64_t)(p - dw__addr(a)) + n > dw__g.arena_len))
        msg = "the state is outside the reserved region";
    else
        msg = fn((const uint8_t *)(uintptr_t)p, n);
    if (msg == NULL) return 0;
    refusal.len = 0;
    dwj_put(&refusal, "\0\0\0\0", 4);
    dwj_puts(&refusal, msg);
    uint32_t len = (uint32_t)refusal.len - 4;
    memcpy(refusal.p, &len, 4);
    return dw__addr(refusal.p);
}
