/*
 * dataweaver.c — the C SDK's side of the ABI (wasmabi/ABI.md): the
 * module's exports, the bind handshake and the batch's input views.
 * dw_setup.c holds what a setup function calls, dw_batch.c what a process
 * function calls. Stages include dataweaver.h and never see the wire
 * format.
 *
 * Every buffer the SDK hands to the host is SDK-owned and reused from
 * batch to batch; nothing is freed while an instance lives except the
 * reserved region, which the ABI hands back at the next dw_reserve.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dw_internal.h"

#ifdef __wasm__
#include <wasi/api.h>
#define DW_EXPORT(name) __attribute__((export_name(name)))
__attribute__((import_module("dataweaver"), import_name("log"))) void dw__host_log(int32_t level, const char *p,
                                                                                     uint32_t n);
#else
#define DW_EXPORT(name)
static void dw__host_log(int32_t level, const char *p, uint32_t n) { fprintf(stderr, "level=%d %.*s\n", level, (int)n, p); }
#endif

uint8_t dw__type_code(const char *t, uint8_t *width) {
    static const struct {
        const char *name;
        uint8_t code, width;
    } simple[] = {
        {"bool", 1, 0},    {"int8", 2, 1},    {"int16", 3, 2},   {"int32", 4, 4},      {"int64", 5, 8},
        {"uint8", 6, 1},   {"uint16", 7, 2},  {"uint32", 8, 4},  {"uint64", 9, 8},     {"float32", 10, 4},
        {"float64", 11, 8}, {"utf8", 12, 0},  {"binary", 13, 0}, {"large_utf8", 14, 0}, {"large_binary", 15, 0},
        {"date32", 16, 4},
    };
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
        if (strcmp(t, simple[i].name) == 0) {
            *width = simple[i].width;
            return simple[i].code;
        }
    }
    if (strncmp(t, "timestamp[", 10) == 0) {
        *width = 8;
        return DW_CODE_TIMESTAMP;
    }
    if (strncmp(t, "decimal128(", 11) == 0) {
        *width = 16;
        return DW_CODE_DECIMAL128;
    }
    *width = 0;
    /* ABI v2's nested types (dw_nested_out.c parses the rest). */
    if (strncmp(t, "list<", 5) == 0) return DW_CODE_LIST;
    if (strncmp(t, "struct<", 7) == 0) return DW_CODE_STRUCT;
    if (strncmp(t, "map<", 4) == 0) return DW_CODE_MAP;
    return 0;
}

/* dw__g is the instance's state. */
struct dw__state dw__g;

_Noreturn void dw__die(const char *msg) {
#ifdef __wasm__
    __wasi_ciovec_t iov[2] = {{(const uint8_t *)msg, strlen(msg)}, {(const uint8_t *)"\n", 1}};
    __wasi_size_t n;
    (void)__wasi_fd_write(2, iov, 2, &n);
#else
    fprintf(stderr, "%s\n", msg);
#endif
    __builtin_trap();
}

/* ---------------------------------------------------------------- */
/* dw_abi_version, dw_reserve                                       */

/* A stage declared with DW_STAGE_V2 defines its own dw_stage_abi. */
__attribute__((weak)) int32_t dw_stage_abi(void) { return DW_ABI_VERSION; }

DW_EXPORT("dw_abi_version") int32_t dw_abi_version(void) { return dw_stage_abi(); }

/* A stage declared with DW_STATE says so in its bind answer. */
__attribute__((weak)) bool dw__keeps_state(void) { return false; }

/* The region is padded by DW_PAD bytes on both sides (see DW_PAD). */
DW_EXPORT("dw_reserve") uint32_t dw_reserve(uint32_t size) {
    if (size > UINT32_MAX - 2 * DW_PAD - 64) return 0;
    uint8_t *raw = malloc((size_t)size + 2 * DW_PAD + 64);
    if (raw == NULL) return 0;
    free(dw__g.arena_raw);
    dw__g.arena_raw = raw;
    dw__g.arena = (uint8_t *)(((uintptr_t)raw + DW_PAD + 63) & ~(uintptr_t)63);
    dw__g.arena_len = size;
    return dw__addr(dw__g.arena);
}

/* region returns the n bytes at host pointer p when they lie inside the
 * reserved region, else NULL. An empty span is any non-NULL pointer. */
static const uint8_t *region(uint32_t p, uint64_t n) {
    uint32_t a = dw__addr(dw__g.arena);
    if (n == 0) return dw__g.arena;
    if (dw__g.arena == NULL || p < a || (uint64_t)(p - a) + n > dw__g.arena_len) return NULL;
    return (const uint8_t *)(uintptr_t)p;
}

/* ---------------------------------------------------------------- */
/* dw_bind                                                          */

static void put_names(dwj_buf *b, const char *key, const char **names, uint32_t n) {
    dwj_printf(b, "\"%s\":[", key);
    for (uint32_t i = 0; i < n; i++) {
        if (i) dwj_putc(b, ',');
        dwj_put_string(b, names[i], strlen(names[i]));
    }
    dwj_putc(b, ']');
}

/* bind runs the handshake into dw__g.resp's JSON and returns the error
 * message, or NULL. */
static const char *bind(const char *req, uint32_t n) {
    static dwj_buf err;
    dw_setup *s = &dw__g.setup;
    memset(s, 0, sizeof *s);
    dw__g.process = NULL;
    if (req == NULL) return "bind request outside the reserved region";
    size_t off;
    const char *msg = dwj_validate(req, n, &off);
    if (msg != NULL) {
        err.len = 0;
        dwj_printf(&err, "bind request is not JSON: %s at byte %zu", msg, off);
        return err.p;
    }
    dw_json root = dwj_root(req, n);
    dw_process_fn fn;
    if ((msg = dw__run_setup(s, root, &fn)) != NULL) return msg;

    dw__g.nins = s->nreads;
    dw__g.ins = calloc(s->nreads ? s->nreads : 1, sizeof *dw__g.ins);
    dw__g.nouts = s->nwrites;
    dw__g.outs = calloc(s->nwrites ? s->nwrites : 1, sizeof *dw__g.outs);
    if (dw__g.ins == NULL || dw__g.outs == NULL) dw__die("dataweaver: out of memory");
    for (uint32_t i = 0; i < s->nwrites; i++) {
        struct dw__out_col *c = &dw__g.outs[i];
        c->name = s->writes[i].name;
        c->code = dw__type_code(s->writes[i].type, &c->width);
        c->w.slot = (int32_t)i;
        c->w.batch = &dw__g.batch;
    }
    dw__g.process = fn;
    return NULL;
}

DW_EXPORT("dw_bind") uint32_t dw_bind(uint32_t ptr, uint32_t n) {
    const char *req = (const char *)region(ptr, n);
    const char *err = bind(req, n);
    dw_setup *s = &dw__g.setup;
    dwj_buf *b = &dw__g.resp;
    b->len = 0;
    dwj_put(b, "\0\0\0\0", 4);
    if (err != NULL) {
        dwj_puts(b, "{\"error\":");
        dwj_put_string(b, err, strlen(err));
        dwj_putc(b, '}');
    } else {
        dwj_putc(b, '{');
        put_names(b, "reads", s->reads, s->nreads);
        dwj_puts(b, ",\"writes\":[");
        for (uint32_t i = 0; i < s->nwrites; i++) {
            if (i) dwj_putc(b, ',');
            dwj_puts(b, "{\"name\":");
            dwj_put_string(b, s->writes[i].name, strlen(s->writes[i].name));
            dwj_puts(b, ",\"type\":");
            dwj_put_string(b, s->writes[i].type, strlen(s->writes[i].type));
            dwj_puts(b, ",\"nullable\":true}");
        }
        dwj_puts(b, "],");
        put_names(b, "drops", s->drops, s->ndrops);
        dwj_printf(b, ",\"filter\":%s", s->filter ? "true" : "false");
        if (s->drop_all) dwj_puts(b, ",\"drop_all\":true");
        if (dw__keeps_state()) dwj_puts(b, ",\"state\":true");
        dwj_putc(b, '}');
    }
    uint32_t len = (uint32_t)b->len - 4;
    memcpy(b->p, &len, 4);
    return dw__addr(b->p);
}

/* ---------------------------------------------------------------- */
/* Inputs                                                           */

/* narrow copies n+1 offsets minus the first into the column's buffer:
 * 64-bit (large_) offsets, or 32-bit ones of a sliced array that do not
 * start at 0. Eight per iteration: under a stage timeout each loop
 * iteration is an exit to the host. */
static const char *narrow(struct dw__in_col *c, const uint8_t *src, bool wide, uint32_t n, uint32_t vlen) {
    if (c->offs_cap < n + 8) {
        free(c->offs);
        c->offs_cap = n + n / 4 + 8;
        c->offs = dw__xmalloc((size_t)c->offs_cap * 4);
    }
    int32_t *dst = c->offs;
    if (wide) {
        int64_t base, last, o;
        memcpy(&base, src, 8);
        memcpy(&last, src + 8 * (size_t)n, 8);
        if (base < 0 || last - base > (int64_t)vlen) return "64-bit offsets outside the values";
        uint32_t i = 0;
        for (; i + 8 <= n + 1; i += 8) {
            int64_t w[8];
            memcpy(w, src + 8 * (size_t)i, sizeof w);
            for (int k = 0; k < 8; k++) dst[i + k] = (int32_t)(w[k] - base);
        }
        for (; i <= n; i++) {
            memcpy(&o, src + 8 * (size_t)i, 8);
            dst[i] = (int32_t)(o - base);
        }
    } else {
        int32_t base;
        memcpy(&base, src, 4);
        uint32_t i = 0;
        for (; i + 8 <= n + 1; i += 8) {
            int32_t w[8];
            memcpy(w, src + 4 * (size_t)i, sizeof w);
            for (int k = 0; k < 8; k++) dst[i + k] = w[k] - base;
        }
        for (; i <= n; i++) {
            int32_t o;
            memcpy(&o, src + 4 * (size_t)i, 4);
            dst[i] = o - base;
        }
    }
    c->view.offsets = dst;
    return NULL;
}

static const char *load_col(struct dw__in_col *c, const uint8_t *d, uint32_t n, int depth);

/* load_struct resolves a struct column (ABI v2): its fields, each a
 * column of the struct's n rows (dw_read_struct allows v1 fields only). */
static const char *load_struct(struct dw__in_col *c, uint32_t vals, uint32_t vlen, uint32_t n, int depth) {
    const uint8_t *kids = vlen ? region(vals, (uint64_t)vlen * 32) : NULL;
    if (kids == NULL) return "struct child descriptors outside the reserved region";
    if (c->nfields != vlen) {
        free(c->fields);
        free(c->field_views);
        c->fields = dw__xmalloc(sizeof *c->fields * vlen);
        memset(c->fields, 0, sizeof *c->fields * vlen);
        c->field_views = dw__xmalloc(sizeof *c->field_views * vlen);
        c->nfields = vlen;
    }
    for (uint32_t i = 0; i < vlen; i++) {
        const char *err = load_col(&c->fields[i], kids + 32 * (size_t)i, n, depth + 1);
        if (err != NULL) return err;
        c->field_views[i] = c->fields[i].view;
    }
    c->st.len = n;
    c->st.validity = c->view.validity;
    c->st.nfields = vlen;
    c->st.fields = c->field_views;
    return NULL;
}

/* load_list resolves a list column (ABI v2): its offsets rebased to 0,
 * then its one child, the items, as a column of offsets[n]-offsets[0]
 * rows. dw_read_list allows only v1 items, so this goes one level. */
static const char *load_list(struct dw__in_col *c, uint32_t offs, uint32_t vals, uint32_t vlen, uint32_t n) {
    const uint8_t *o = region(offs, (uint64_t)(n + 1) * 4);
    const uint8_t *kid = vlen == 1 ? region(vals, 32) : NULL;
    if (o == NULL || offs == 0 || kid == NULL) return "list offsets or child descriptor outside the reserved region";
    if (c->list_offs_cap < n + 1) {
        free(c->list_offs);
        c->list_offs_cap = n + n / 4 + 8;
        c->list_offs = dw__xmalloc((size_t)c->list_offs_cap * 4);
    }
    int32_t base, o_i;
    memcpy(&base, o, 4);
    for (uint32_t i = 0; i <= n; i++) {
        memcpy(&o_i, o + 4 * (size_t)i, 4);
        c->list_offs[i] = o_i - base;
    }
    c->list.len = n;
    c->list.validity = c->view.validity;
    c->list.offsets = c->list_offs;
    if (c->item == NULL) {
        c->item = dw__xmalloc(sizeof *c->item);
        memset(c->item, 0, sizeof *c->item);
    }
    const char *err = load_col(c->item, kid, (uint32_t)c->list_offs[n], 1);
    c->list.items = c->item->view;
    c->list.structs = c->item->st;
    return err;
}

static const char *load_col(struct dw__in_col *c, const uint8_t *d, uint32_t n, int depth) {
    uint32_t valid, offs, vals, vlen;
    c->code = d[4];
    memcpy(&valid, d + 12, 4);
    memcpy(&offs, d + 16, 4);
    memcpy(&vals, d + 20, 4);
    memcpy(&vlen, d + 24, 4);
    dw_view *v = &c->view;
    memset(v, 0, sizeof *v);
    v->len = n;
    if (valid != 0 && (v->validity = region(valid, (n + 7) / 8)) == NULL) return "validity outside the reserved region";
    /* The reads declared allow a list at the top, a struct at the top
     * or as a list's items, v1 types below. */
    if (c->code == DW_CODE_LIST) {
        if (depth > 0) return "a list inside a nested column (dw_read_list reads lists of v1 types or structs)";
        return load_list(c, offs, vals, vlen, n);
    }
    if (c->code == DW_CODE_STRUCT) {
        if (depth > 1) return "a struct nested too deep (dw_read_struct reads structs of v1 types)";
        return load_struct(c, vals, vlen, n, depth);
    }
    if (c->code == DW_CODE_MAP) return "a map (the SDK reads lists and structs)";
    if ((v->values = region(vals, vlen)) == NULL) return "values outside the reserved region";
    if (c->code < DW_CODE_UTF8 || c->code > DW_CODE_LARGE_BINARY) return NULL;
    bool wide = c->code >= DW_CODE_LARGE_UTF8;
    const uint8_t *o = region(offs, (uint64_t)(n + 1) * (wide ? 8 : 4));
    if (o == NULL || offs == 0) return "offsets outside the reserved region";
    v->data = v->values;
    v->data_len = vlen;
    int32_t first;
    memcpy(&first, o, 4);
    if (!wide && first == 0 && ((uintptr_t)o & 3) == 0) {
        v->offsets = (const int32_t *)o;
    } else if (narrow(c, o, wide, n, vlen) != NULL) {
        return "offsets outside its values";
    }
    return NULL;
}

static const char *load_inputs(const uint8_t *descs, uint32_t n) {
    static char msg[128];
    for (uint32_t i = 0; i < dw__g.nins; i++) {
        const char *err = load_col(&dw__g.ins[i], descs + 32 * (size_t)i, n, 0);
        if (err != NULL) {
            snprintf(msg, sizeof msg, "input column %u: %s", i, err);
            return msg;
        }
    }
    return NULL;
}

dw_view dw_view_of(dw_batch *b, dw_col c) {
    (void)b;
    if (c.slot < 0 || (uint32_t)c.slot >= dw__g.nins) dw__die("dataweaver: dw_view_of on a column dw_read did not declare");
    return dw__g.ins[c.slot].view;
}

dw_list dw_list_of(dw_batch *b, dw_col c) {
    (void)b;
    if (c.slot < 0 || (uint32_t)c.slot >= dw__g.nins || dw__g.ins[c.slot].code != DW_CODE_LIST)
        dw__die("dataweaver: dw_list_of on a column dw_read_list did not declare");
    return dw__g.ins[c.slot].list;
}

dw_struct dw_struct_of(dw_batch *b, dw_col c) {
    (void)b;
    if (c.slot < 0 || (uint32_t)c.slot >= dw__g.nins || dw__g.ins[c.slot].code != DW_CODE_STRUCT)
        dw__die("dataweaver: dw_struct_of on a column dw_read_struct did not declare");
    return dw__g.ins[c.slot].st;
}

uint32_t dw_len(const dw_batch *b) { return b->n; }

/* ---------------------------------------------------------------- */
/* dw_process                                                       */

uint32_t dw__failed(const char *msg) {
    dw_batch *b = &dw__g.batch;
    if (msg != b->fail.p) {
        b->fail.len = 0;
        dwj_puts(&b->fail, msg);
    }
    if (b->fail.len == 0) dwj_puts(&b->fail, "the stage failed the batch without a message");
    memset(dw__g.result, 0, sizeof dw__g.result);
    dw__g.result[0] = 1;
    dw__g.result[1] = dw__addr(b->fail.p);
    dw__g.result[2] = (uint32_t)b->fail.len;
    return dw__addr(dw__g.result);
}

static uint32_t finish(void) {
    static dwj_buf msg;
    dw_batch *b = &dw__g.batch;
    uint32_t n = b->n;
    if (dw__g.out_desc_cap < 8 * dw__g.nouts) {
        dw__g.out_desc_cap = 8 * dw__g.nouts;
        dw__g.out_desc = dw__xrealloc(dw__g.out_desc, 4 * (size_t)dw__g.out_desc_cap);
    }
    for (uint32_t i = 0; i < dw__g.nouts; i++) {
        struct dw__out_col *c = &dw__g.outs[i];
        bool var = c->code == DW_CODE_UTF8 || c->code == DW_CODE_BINARY;
        msg.len = 0;
        if (!c->touched) {
            dwj_printf(&msg, "output column \"%s\" was not written for this batch", c->name);
            return dw__failed(msg.p);
        }
        if (var && c->w.rows != n) {
            dwj_printf(&msg, "output column \"%s\": %u values appended for %u rows", c->name, c->w.rows, n);
            return dw__failed(msg.p);
        }
        uint32_t *d = dw__g.out_desc + 8 * i;
        d[0] = i;
        d[1] = c->code;
        d[2] = 0;
        d[3] = c->has_null ? dw__addr(c->valid) : 0;
        d[4] = var ? dw__addr(c->w.offsets) : 0;
        d[5] = var ? dw__addr(c->w.data) : dw__addr(c->values);
        d[6] = var ? c->w.len : (c->code == DW_CODE_BOOL ? (n + 7) / 8 : n * c->width);
        d[7] = 0;
    }
    if (dw__g.err_desc_cap < 3 * b->nerrs) {
        dw__g.err_desc_cap = 3 * b->nerrs;
        dw__g.err_desc = dw__xrealloc(dw__g.err_desc, 4 * (size_t)dw__g.err_desc_cap);
    }
    for (uint32_t i = 0; i < b->nerrs; i++) {
        dw__g.err_desc[3 * i] = b->errs[i].row;
        dw__g.err_desc[3 * i + 1] = dw__addr(b->msgs.p + b->errs[i].off);
        dw__g.err_desc[3 * i + 2] = b->errs[i].len;
    }
    memset(dw__g.result, 0, sizeof dw__g.result);
    if (b->sel_set) {
        dw__g.result[3] = 1;
        dw__g.result[4] = dw__addr(b->sel);
        dw__g.result[5] = (n + 7) / 8;
    }
    dw__g.result[6] = dw__g.nouts;
    dw__g.result[7] = dw__g.nouts ? dw__addr(dw__g.out_desc) : 0;
    dw__g.result[8] = b->nerrs;
    dw__g.result[9] = b->nerrs ? dw__addr(dw__g.err_desc) : 0;
    return dw__addr(dw__g.result);
}

DW_EXPORT("dw_process") uint32_t dw_process(uint32_t ptr) {
    dw_batch *b = &dw__g.batch;
    b->failed = false;
    b->fail.len = 0;
    if (dw__g.process == NULL) return dw__failed("dw_process before a successful dw_bind");
    const uint8_t *hdr = region(ptr, 16);
    if (hdr == NULL || ptr == 0) return dw__failed("batch header outside the reserved region");
    uint32_t n, ncols;
    memcpy(&n, hdr, 4);
    memcpy(&ncols, hdr + 4, 4);
    if (ncols != dw__g.nins) return dw__failed("the host sent a different number of columns than the stage reads");
    const uint8_t *descs = region(ptr + 16, 32 * (uint64_t)ncols);
    if (descs == NULL) return dw__failed("column descriptors outside the reserved region");
    const char *err = load_inputs(descs, n);
    if (err != NULL) return dw__failed(err);
    for (uint32_t i = 0; i < dw__g.nouts; i++) dw__g.outs[i].touched = false;
    b->n = n;
    b->sel_set = false;
    b->nerrs = 0;
    b->msgs.len = 0;
    if (dw_stage_abi() == 2) dw__v2_begin(b);
    if (dw__g.process(b) != 0 || b->failed) return dw__failed(b->fail.p ? b->fail.p : "");
    if (dw_stage_abi() == 2) return dw__v2_result(b);
    return finish();
}

/* ---------------------------------------------------------------- */
/* Logging                                                          */

void dw_log(int level, const char *msg, uint32_t len) { dw__host_log(level, msg, len); }

void dw_logf(int level, const char *fmt, ...) {
    static dwj_buf line;
    va_list ap;
    line.len = 0;
    va_start(ap, fmt);
    dwj_vprintf(&line, fmt, ap);
    va_end(ap);
    dw__host_log(level, line.p ? line.p : "", (uint32_t)line.len);
}
