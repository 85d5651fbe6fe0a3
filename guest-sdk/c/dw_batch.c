/*
 * dw_batch.c — what a stage's process function calls: output buffers and
 * builders, selection, per-row errors and failing the batch. The buffers
 * are SDK-owned and reused from batch to batch; dataweaver.c describes
 * them to the host when process returns.
 */
#include <stdlib.h>
#include <string.h>

#include "dw_internal.h"

static void ensure(uint8_t **p, uint32_t *cap, uint64_t need) {
    if (need <= *cap) return;
    if (need > INT32_MAX) dw__die("dataweaver: output buffer over 2 GiB");
    uint64_t c = need + need / 4 + DW_PAD;
    free(*p);
    *p = dw__xmalloc((size_t)c + DW_PAD);
    *cap = (uint32_t)c;
}

static uint32_t words(uint32_t n) { return ((n + 7) / 8 + 7) & ~7u; }

static struct dw__out_col *out(dw_out o) {
    if (o.slot < 0 || (uint32_t)o.slot >= dw__g.nouts) dw__die("dataweaver: output column dw_write did not declare");
    struct dw__out_col *c = &dw__g.outs[o.slot];
    if (c->touched) return c;
    uint32_t n = dw__g.batch.n;
    c->touched = true;
    c->has_null = false;
    if (c->code == DW_CODE_UTF8 || c->code == DW_CODE_BINARY) {
        uint32_t oc = c->offs_cap;
        uint8_t *op = (uint8_t *)c->w.offsets;
        ensure(&op, &oc, 4 * ((uint64_t)n + 1));
        c->w.offsets = (int32_t *)op;
        c->offs_cap = oc;
        c->w.offsets[0] = 0;
        c->w.rows = 0;
        c->w.nrows = n;
        c->w.len = 0;
        if (c->w.data == NULL) {
            uint32_t cap = 0;
            ensure(&c->w.data, &cap, 256);
            c->w.cap = cap;
        }
        return c;
    }
    uint64_t size = c->code == DW_CODE_BOOL ? words(n) : (uint64_t)n * c->width;
    ensure(&c->values, &c->values_cap, size);
    memset(c->values, 0, (size_t)size);
    return c;
}

void *dw_values(dw_batch *b, dw_out o) {
    (void)b;
    struct dw__out_col *c = out(o);
    if (c->code == DW_CODE_UTF8 || c->code == DW_CODE_BINARY) dw__die("dataweaver: dw_values on a string column (use dw_builder_of)");
    return c->values;
}

uint8_t *dw_validity(dw_batch *b, dw_out o) {
    struct dw__out_col *c = out(o);
    if (!c->has_null) {
        ensure(&c->valid, &c->valid_cap, words(b->n));
        memset(c->valid, 0xff, words(b->n));
        c->has_null = true;
    }
    return c->valid;
}

void dw_set_null(dw_batch *b, dw_out o, uint32_t i) {
    if (i >= b->n) dw__die("dataweaver: dw_set_null past the batch's last row");
    uint8_t *v = dw_validity(b, o);
    v[i >> 3] &= (uint8_t)~(1u << (i & 7));
}

dw_builder *dw_builder_of(dw_batch *b, dw_out o) {
    (void)b;
    struct dw__out_col *c = out(o);
    if (c->code != DW_CODE_UTF8 && c->code != DW_CODE_BINARY) dw__die("dataweaver: dw_builder_of on a fixed-width column (use dw_values)");
    return &c->w;
}

uint8_t *dw_room(dw_builder *w, uint32_t n) {
    if (w->cap - w->len < n) {
        uint64_t need = (uint64_t)w->len + n;
        if (need > INT32_MAX) dw__die("dataweaver: string output column over 2 GiB");
        uint64_t c = need > 2 * (uint64_t)w->cap ? need : 2 * (uint64_t)w->cap;
        if (c > INT32_MAX) c = INT32_MAX;
        w->data = dw__xrealloc(w->data, (size_t)c + DW_PAD);
        w->cap = (uint32_t)c;
    }
    return w->data + w->len;
}

static void too_many_rows(void) { dw__die("dataweaver: more values appended than the batch has rows"); }

void dw__append_slow(dw_builder *w, const void *p, uint32_t n) {
    if (w->rows >= w->nrows) too_many_rows();
    memcpy(dw_room(w, n), p, n);
    w->len += n;
    w->offsets[++w->rows] = (int32_t)w->len;
}

void dw__bad_commit(dw_builder *w, uint32_t n) {
    (void)n;
    if (w->rows >= w->nrows) too_many_rows();
    dw__die("dataweaver: dw_commit of more bytes than dw_room made room for");
}

void dw_append_null(dw_builder *w) {
    if (w->rows >= w->nrows) too_many_rows();
    dw_out o = {w->slot};
    dw_set_null(w->batch, o, w->rows);
    w->offsets[w->rows + 1] = (int32_t)w->len;
    w->rows++;
}

/* ---------------------------------------------------------------- */
/* Selection, errors, failure                                       */

static uint8_t *selection(dw_batch *b, int fill) {
    if (!b->sel_set) {
        ensure(&b->sel, &b->sel_cap, words(b->n));
        memset(b->sel, fill, words(b->n));
        b->sel_set = true;
    }
    return b->sel;
}

uint8_t *dw_keep_bits(dw_batch *b) { return selection(b, 0); }

void dw_drop(dw_batch *b, uint32_t i) {
    if (i >= b->n) dw__die("dataweaver: dw_drop past the batch's last row");
    uint8_t *s = selection(b, 0xff);
    s[i >> 3] &= (uint8_t)~(1u << (i & 7));
}

static void add_err(dw_batch *b, uint32_t i, size_t off) {
    DW_GROW(b->errs, b->nerrs, b->errs_cap);
    struct dw__row_err e = {i, (uint32_t)off, (uint32_t)(b->msgs.len - off)};
    b->errs[b->nerrs++] = e;
}

void dw_reject(dw_batch *b, uint32_t i, const char *msg, uint32_t len) {
    size_t off = b->msgs.len;
    dwj_put(&b->msgs, msg, len);
    add_err(b, i, off);
}

void dw_rejectf(dw_batch *b, uint32_t i, const char *fmt, ...) {
    size_t off = b->msgs.len;
    va_list ap;
    va_start(ap, fmt);
    dwj_vprintf(&b->msgs, fmt, ap);
    va_end(ap);
    add_err(b, i, off);
}

int dw_fail(dw_batch *b, const char *fmt, ...) {
    va_list ap;
    b->fail.len = 0;
    va_start(ap, fmt);
    dwj_vprintf(&b->fail, fmt, ap);
    va_end(ap);
    b->failed = true;
    return -1;
}

