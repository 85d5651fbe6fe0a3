/*
 * dataweaver.c — the C SDK's side of the ABI (wasmabi/ABI.md): the
 * module's exports, the bind handshake, batch views, output buffers,
 * selection and per-row errors. Stages include dataweaver.h and never
 * see the wire format.
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

/* Type codes of the column descriptors. */
enum {
    CODE_BOOL = 1,
    CODE_UTF8 = 12,
    CODE_BINARY = 13,
    CODE_LARGE_UTF8 = 14,
    CODE_LARGE_BINARY = 15,
    CODE_TIMESTAMP = 17,
    CODE_DECIMAL128 = 18,
};

/* type_code maps an ABI type name to its descriptor code and value width
 * in bytes (0 for bool and variable-width types); code 0 is unknown. */
static uint8_t type_code(const char *t, uint8_t *width) {
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
        return CODE_TIMESTAMP;
    }
    if (strncmp(t, "decimal128(", 11) == 0) {
        *width = 16;
        return CODE_DECIMAL128;
    }
    *width = 0;
    return 0;
}

static const char *kind_name(dw_kind k) {
    static const char *const names[] = {"?",      "bool",   "int8",    "int16",   "int32",  "int64",     "uint8",
                                        "uint16", "uint32", "uint64",  "float32", "float64", "string", "decimal128"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

/* fits reports whether a column of ABI type t can be read as k. */
static bool fits(dw_kind k, const char *t) {
    switch (k) {
    case DW_BOOL: return strcmp(t, "bool") == 0;
    case DW_INT8: return strcmp(t, "int8") == 0;
    case DW_INT16: return strcmp(t, "int16") == 0;
    case DW_INT32: return strcmp(t, "int32") == 0 || strcmp(t, "date32") == 0;
    case DW_INT64: return strcmp(t, "int64") == 0 || strncmp(t, "timestamp[", 10) == 0;
    case DW_UINT8: return strcmp(t, "uint8") == 0;
    case DW_UINT16: return strcmp(t, "uint16") == 0;
    case DW_UINT32: return strcmp(t, "uint32") == 0;
    case DW_UINT64: return strcmp(t, "uint64") == 0;
    case DW_FLOAT32: return strcmp(t, "float32") == 0;
    case DW_FLOAT64: return strcmp(t, "float64") == 0;
    case DW_STRING:
        return strcmp(t, "utf8") == 0 || strcmp(t, "binary") == 0 || strcmp(t, "large_utf8") == 0 ||
               strcmp(t, "large_binary") == 0;
    case DW_DECIMAL128: return strncmp(t, "decimal128(", 11) == 0;
    }
    return false;
}

#define GROW(arr, n, cap)                                                  \
    do {                                                                   \
        if ((n) == (cap)) {                                                \
            (cap) = (cap) ? 2 * (cap) : 8;                                 \
            (arr) = dw__xrealloc((arr), (size_t)(cap) * sizeof *(arr));    \
        }                                                                  \
    } while (0)

/* ---------------------------------------------------------------- */
/* State                                                            */

struct dw_setup {
    const char *stage;
    dw_field *schema;
    uint32_t nschema;
    dw_json config; /* the config object, or absent */
    const char **asked;
    uint32_t nasked, capasked;
    const char **reads;
    uint32_t nreads, capreads;
    dw_field *writes;
    uint32_t nwrites, capwrites;
    const char **drops;
    uint32_t ndrops, capdrops;
    bool filter;
    dwj_buf errs;
    uint32_t nerrs;
};

struct in_col {
    uint8_t code;
    dw_view view;
    int32_t *offs; /* narrowed or rebased offsets */
    uint32_t offs_cap;
};

struct out_col {
    const char *name;
    uint8_t code, width;
    bool touched, has_null;
    uint8_t *values;
    uint32_t values_cap;
    uint8_t *valid;
    uint32_t valid_cap;
    dw_builder w;
    uint32_t offs_cap;
};

struct row_err {
    uint32_t row, off, len;
};

struct dw_batch {
    uint32_t n;
    uint8_t *sel;
    uint32_t sel_cap;
    bool sel_set;
    struct row_err *errs;
    uint32_t nerrs, errs_cap;
    dwj_buf msgs;
    dwj_buf fail;
    bool failed;
};

static struct {
    uint8_t *arena_raw, *arena;
    uint32_t arena_len;
    dwj_buf resp;
    dw_setup setup;
    dw_process_fn process;
    struct in_col *ins;
    uint32_t nins;
    struct out_col *outs;
    uint32_t nouts;
    dw_batch batch;
    uint32_t result[10];
    uint32_t *out_desc, out_desc_cap;
    uint32_t *err_desc, err_desc_cap;
} g;

static uint32_t addr(const void *p) { return (uint32_t)(uintptr_t)p; }

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

DW_EXPORT("dw_abi_version") int32_t dw_abi_version(void) { return DW_ABI_VERSION; }

/* The region is padded by DW_PAD bytes on both sides (see DW_PAD). */
DW_EXPORT("dw_reserve") uint32_t dw_reserve(uint32_t size) {
    if (size > UINT32_MAX - 2 * DW_PAD - 64) return 0;
    uint8_t *raw = malloc((size_t)size + 2 * DW_PAD + 64);
    if (raw == NULL) return 0;
    free(g.arena_raw);
    g.arena_raw = raw;
    g.arena = (uint8_t *)(((uintptr_t)raw + DW_PAD + 63) & ~(uintptr_t)63);
    g.arena_len = size;
    return addr(g.arena);
}

/* region returns the n bytes at host pointer p when they lie inside the
 * reserved region, else NULL. An empty span is any non-NULL pointer. */
static const uint8_t *region(uint32_t p, uint64_t n) {
    uint32_t a = addr(g.arena);
    if (n == 0) return g.arena;
    if (g.arena == NULL || p < a || (uint64_t)(p - a) + n > g.arena_len) return NULL;
    return (const uint8_t *)(uintptr_t)p;
}

/* ---------------------------------------------------------------- */
/* Setup                                                            */

static void column_list(const dw_setup *s, dwj_buf *b) {
    for (uint32_t i = 0; i < s->nschema; i++) {
        if (i) dwj_puts(b, ", ");
        dwj_puts(b, s->schema[i].name);
    }
}

void dw_errorf(dw_setup *s, const char *fmt, ...) {
    va_list ap;
    if (s->nerrs++) dwj_puts(&s->errs, "; ");
    va_start(ap, fmt);
    dwj_vprintf(&s->errs, fmt, ap);
    va_end(ap);
}

bool dw_setup_failed(const dw_setup *s) { return s->nerrs > 0; }
const char *dw_stage_name(const dw_setup *s) { return s->stage; }

const dw_field *dw_schema(const dw_setup *s, uint32_t *n) {
    *n = s->nschema;
    return s->schema;
}

const dw_field *dw_field_of(const dw_setup *s, const char *name) {
    for (uint32_t i = 0; i < s->nschema; i++)
        if (strcmp(s->schema[i].name, name) == 0) return &s->schema[i];
    return NULL;
}

static void no_column(dw_setup *s, const char *prefix, const char *name) {
    dwj_buf cols = {0};
    column_list(s, &cols);
    dw_errorf(s, "%sno column \"%s\" in the input (columns: %s)", prefix, name, cols.p ? cols.p : "");
    free(cols.p);
}

dw_col dw_read(dw_setup *s, const char *name, dw_kind kind) {
    dw_col c = {-1};
    const dw_field *f = dw_field_of(s, name);
    if (f == NULL) {
        no_column(s, "", name);
        return c;
    }
    if (!fits(kind, f->type)) {
        dw_errorf(s, "column \"%s\" is %s, this stage reads it as %s", name, f->type, kind_name(kind));
        return c;
    }
    for (uint32_t i = 0; i < s->nreads; i++) {
        if (strcmp(s->reads[i], name) == 0) {
            c.slot = (int32_t)i;
            return c;
        }
    }
    GROW(s->reads, s->nreads, s->capreads);
    s->reads[s->nreads] = f->name;
    c.slot = (int32_t)s->nreads++;
    return c;
}

dw_out dw_write(dw_setup *s, const char *name, const char *type) {
    dw_out o = {-1};
    uint8_t width;
    for (uint32_t i = 0; i < s->nwrites; i++) {
        if (strcmp(s->writes[i].name, name) == 0) {
            dw_errorf(s, "column \"%s\" is written twice", name);
            o.slot = (int32_t)i;
            return o;
        }
    }
    uint8_t code = type_code(type, &width);
    if (code == 0) dw_errorf(s, "column \"%s\": type \"%s\" is not in ABI v1", name, type);
    /* Guest memory is 32-bit, so 64-bit offsets would buy nothing. */
    if (code == CODE_LARGE_UTF8 || code == CODE_LARGE_BINARY)
        dw_errorf(s, "column \"%s\": write %s columns as %s (the SDK builds 32-bit offsets)", name, type,
                  code == CODE_LARGE_UTF8 ? "utf8" : "binary");
    GROW(s->writes, s->nwrites, s->capwrites);
    dw_field f = {dw__xstrndup(name, strlen(name)), dw__xstrndup(type, strlen(type)), true};
    s->writes[s->nwrites] = f;
    o.slot = (int32_t)s->nwrites++;
    return o;
}

void dw_filter(dw_setup *s) { s->filter = true; }

void dw_drop_column(dw_setup *s, const char *name) {
    const dw_field *f = dw_field_of(s, name);
    if (f == NULL) {
        no_column(s, "drop: ", name);
        return;
    }
    GROW(s->drops, s->ndrops, s->capdrops);
    s->drops[s->ndrops++] = f->name;
}

/* config_get returns the config member key (ASCII case folded, the last
 * one when repeated, as Go's encoding/json fills a struct field); null
 * counts as absent. The key is remembered for the unknown-key check. */
static dw_json config_get(dw_setup *s, const char *key) {
    dw_json found = {NULL, 0}, k, v;
    GROW(s->asked, s->nasked, s->capasked);
    s->asked[s->nasked++] = key;
    dw_json_iter it = dw_json_items(s->config);
    while (dw_json_next(&it, &k, &v))
        if (dwj_key_is(k, key, true)) found = v;
    if (dw_json_type(found) == DW_JSON_NULL) found.ptr = NULL, found.len = 0;
    return found;
}

static void type_error(dw_setup *s, const char *key, const char *want, dw_json v) {
    dw_errorf(s, "config: %s: want %s, not %s %s", key, want, dw_json_type(v) == DW_JSON_ARRAY ? "an" : "a",
              dw_json_kind_name(dw_json_type(v)));
}

dw_json dw_config_value(dw_setup *s, const char *key) { return config_get(s, key); }

bool dw_config_string(dw_setup *s, const char *key, dw_str *out) {
    dw_json v = config_get(s, key);
    if (v.ptr == NULL) return false;
    if (!dw_json_string(v, out)) {
        type_error(s, key, "a string", v);
        return false;
    }
    return true;
}

bool dw_config_number(dw_setup *s, const char *key, double *out) {
    dw_json v = config_get(s, key);
    if (v.ptr == NULL) return false;
    if (dw_json_type(v) != DW_JSON_NUMBER) {
        type_error(s, key, "a number", v);
        return false;
    }
    if (!dw_json_number(v, out)) {
        dw_errorf(s, "config: %s: number %.*s is out of range", key, (int)v.len, v.ptr);
        return false;
    }
    return true;
}

bool dw_config_bool(dw_setup *s, const char *key, bool *out) {
    dw_json v = config_get(s, key);
    if (v.ptr == NULL) return false;
    if (!dw_json_bool(v, out)) {
        type_error(s, key, "true or false", v);
        return false;
    }
    return true;
}

bool dw_config_strings(dw_setup *s, const char *key, dw_str **out, uint32_t *n) {
    dw_json v = config_get(s, key), e;
    if (v.ptr == NULL) return false;
    if (dw_json_type(v) != DW_JSON_ARRAY) {
        type_error(s, key, "a list of strings", v);
        return false;
    }
    uint32_t cnt = 0, cap = 0;
    dw_str *list = NULL;
    dw_json_iter it = dw_json_items(v);
    while (dw_json_next(&it, NULL, &e)) {
        GROW(list, cnt, cap);
        dw_str str = {"", 0};
        if (dw_json_type(e) != DW_JSON_NULL && !dw_json_string(e, &str)) {
            dw_errorf(s, "config: %s: element %u is %s %s, want a string", key, cnt,
                      dw_json_type(e) == DW_JSON_ARRAY || dw_json_type(e) == DW_JSON_OBJECT ? "an" : "a",
                      dw_json_kind_name(dw_json_type(e)));
            free(list);
            return false;
        }
        list[cnt++] = str;
    }
    *out = list;
    *n = cnt;
    return true;
}

/* ---------------------------------------------------------------- */
/* dw_bind                                                          */

static bool schema_from(dw_setup *s, dw_json arr) {
    dw_json e;
    uint32_t cap = 0;
    dw_json_iter it = dw_json_items(arr);
    while (dw_json_next(&it, NULL, &e)) {
        dw_str name, type;
        bool nullable = false;
        if (!dw_json_string(dw_json_get(e, "name"), &name) || !dw_json_string(dw_json_get(e, "type"), &type))
            return false;
        dw_json_bool(dw_json_get(e, "nullable"), &nullable);
        GROW(s->schema, s->nschema, cap);
        dw_field f = {name.ptr, type.ptr, nullable};
        s->schema[s->nschema++] = f;
    }
    return true;
}

/* unknown_key returns the first config key setup never asked for. */
static bool unknown_key(dw_setup *s, dw_str *name) {
    dw_json k;
    dw_json_iter it = dw_json_items(s->config);
    while (dw_json_next(&it, &k, NULL)) {
        bool known = false;
        for (uint32_t i = 0; i < s->nasked && !known; i++) known = dwj_key_is(k, s->asked[i], true);
        if (!known) return dw_json_string(k, name);
    }
    return false;
}

static void put_names(dwj_buf *b, const char *key, const char **names, uint32_t n) {
    dwj_printf(b, "\"%s\":[", key);
    for (uint32_t i = 0; i < n; i++) {
        if (i) dwj_putc(b, ',');
        dwj_put_string(b, names[i], strlen(names[i]));
    }
    dwj_putc(b, ']');
}

/* bind runs the handshake into g.resp's JSON and returns the error
 * message, or NULL. */
static const char *bind(const char *req, uint32_t n) {
    static dwj_buf err;
    dw_setup *s = &g.setup;
    memset(s, 0, sizeof *s);
    g.process = NULL;
    if (req == NULL) return "bind request outside the reserved region";
    size_t off;
    const char *msg = dwj_validate(req, n, &off);
    if (msg != NULL) {
        err.len = 0;
        dwj_printf(&err, "bind request is not JSON: %s at byte %zu", msg, off);
        return err.p;
    }
    dw_json root = dwj_root(req, n);
    dw_str stage = {"", 0};
    dw_json_string(dw_json_get(root, "stage"), &stage);
    s->stage = stage.ptr;
    if (dw_json_type(root) != DW_JSON_OBJECT || !schema_from(s, dw_json_get(root, "schema")))
        return "bind request has no valid schema";
    dw_json conf = dw_json_get(root, "config");
    switch (dw_json_type(conf)) {
    case DW_JSON_OBJECT: s->config = conf; break;
    case DW_JSON_ABSENT: case DW_JSON_NULL: break;
    default:
        dw_errorf(s, "config: want a mapping, not %s %s", dw_json_type(conf) == DW_JSON_ARRAY ? "an" : "a",
                  dw_json_kind_name(dw_json_type(conf)));
        return s->errs.p;
    }

    dw_process_fn fn = dw_stage_setup(s);

    dw_str unknown;
    if (unknown_key(s, &unknown)) {
        /* Reported first: an unknown key is usually a misspelt one, whose
         * absence caused the other errors. */
        dwj_buf all = {0};
        dwj_puts(&all, "config: unknown field ");
        dwj_put_string(&all, unknown.ptr, unknown.len);
        if (s->nerrs) {
            dwj_puts(&all, "; ");
            dwj_put(&all, s->errs.p, s->errs.len);
        }
        return all.p;
    }
    if (s->nerrs) return s->errs.p;
    if (fn == NULL) return "setup returned no process function (and recorded no error with dw_errorf)";

    g.nins = s->nreads;
    g.ins = calloc(s->nreads ? s->nreads : 1, sizeof *g.ins);
    g.nouts = s->nwrites;
    g.outs = calloc(s->nwrites ? s->nwrites : 1, sizeof *g.outs);
    if (g.ins == NULL || g.outs == NULL) dw__die("dataweaver: out of memory");
    for (uint32_t i = 0; i < s->nwrites; i++) {
        struct out_col *c = &g.outs[i];
        c->name = s->writes[i].name;
        c->code = type_code(s->writes[i].type, &c->width);
        c->w.slot = (int32_t)i;
        c->w.batch = &g.batch;
    }
    g.process = fn;
    return NULL;
}

DW_EXPORT("dw_bind") uint32_t dw_bind(uint32_t ptr, uint32_t n) {
    const char *req = (const char *)region(ptr, n);
    const char *err = bind(req, n);
    dw_setup *s = &g.setup;
    dwj_buf *b = &g.resp;
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
        dwj_printf(b, ",\"filter\":%s}", s->filter ? "true" : "false");
    }
    uint32_t len = (uint32_t)b->len - 4;
    memcpy(b->p, &len, 4);
    return addr(b->p);
}

/* ---------------------------------------------------------------- */
/* Inputs                                                           */

/* narrow copies n+1 offsets minus the first into the column's buffer:
 * 64-bit (large_) offsets, or 32-bit ones of a sliced array that do not
 * start at 0. Eight per iteration: under a stage timeout each loop
 * iteration is an exit to the host. */
static const char *narrow(struct in_col *c, const uint8_t *src, bool wide, uint32_t n, uint32_t vlen) {
    if (c->offs_cap < n + 8) {
        free(c->offs);
        c->offs_cap = n + n / 4 + 8;
        c->offs = dw__xmalloc((size_t)c->offs_cap * 4);
    }
    int32_t *dst = c->offs;
    if (wide) {
        int64_t o[1];
        memcpy(o, src, 8);
        int64_t base = o[0], last;
        memcpy(&last, src + 8 * (size_t)n, 8);
        if (base < 0 || last - base > (int64_t)vlen) return "64-bit offsets outside the values";
        uint32_t i = 0;
        for (; i + 8 <= n + 1; i += 8) {
            int64_t w[8];
            memcpy(w, src + 8 * (size_t)i, sizeof w);
            for (int k = 0; k < 8; k++) dst[i + k] = (int32_t)(w[k] - base);
        }
        for (; i <= n; i++) {
            memcpy(o, src + 8 * (size_t)i, 8);
            dst[i] = (int32_t)(o[0] - base);
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

static const char *load_inputs(const uint8_t *descs, uint32_t n) {
    static char msg[96];
    for (uint32_t i = 0; i < g.nins; i++) {
        const uint8_t *d = descs + 32 * (size_t)i;
        struct in_col *c = &g.ins[i];
        uint32_t valid, offs, vals, vlen;
        c->code = d[4];
        memcpy(&valid, d + 12, 4);
        memcpy(&offs, d + 16, 4);
        memcpy(&vals, d + 20, 4);
        memcpy(&vlen, d + 24, 4);
        dw_view *v = &c->view;
        memset(v, 0, sizeof *v);
        v->len = n;
        if (valid != 0 && (v->validity = region(valid, (n + 7) / 8)) == NULL) {
            snprintf(msg, sizeof msg, "input column %u: validity outside the reserved region", i);
            return msg;
        }
        if ((v->values = region(vals, vlen)) == NULL) {
            snprintf(msg, sizeof msg, "input column %u: values outside the reserved region", i);
            return msg;
        }
        if (c->code < CODE_UTF8 || c->code > CODE_LARGE_BINARY) continue;
        bool wide = c->code >= CODE_LARGE_UTF8;
        const uint8_t *o = region(offs, (uint64_t)(n + 1) * (wide ? 8 : 4));
        if (o == NULL || offs == 0) {
            snprintf(msg, sizeof msg, "input column %u: offsets outside the reserved region", i);
            return msg;
        }
        v->data = v->values;
        v->data_len = vlen;
        int32_t first;
        memcpy(&first, o, 4);
        if (!wide && first == 0 && ((uintptr_t)o & 3) == 0) {
            v->offsets = (const int32_t *)o;
        } else if (narrow(c, o, wide, n, vlen) != NULL) {
            snprintf(msg, sizeof msg, "input column %u: offsets outside its values", i);
            return msg;
        }
    }
    return NULL;
}

dw_view dw_view_of(dw_batch *b, dw_col c) {
    (void)b;
    if (c.slot < 0 || (uint32_t)c.slot >= g.nins) dw__die("dataweaver: dw_view_of on a column dw_read did not declare");
    return g.ins[c.slot].view;
}

uint32_t dw_len(const dw_batch *b) { return b->n; }

/* ---------------------------------------------------------------- */
/* Outputs                                                          */

static void ensure(uint8_t **p, uint32_t *cap, uint64_t need) {
    if (need <= *cap) return;
    if (need > INT32_MAX) dw__die("dataweaver: output buffer over 2 GiB");
    uint64_t c = need + need / 4 + DW_PAD;
    free(*p);
    *p = dw__xmalloc((size_t)c + DW_PAD);
    *cap = (uint32_t)c;
}

static uint32_t words(uint32_t n) { return ((n + 7) / 8 + 7) & ~7u; }

static struct out_col *out(dw_out o) {
    if (o.slot < 0 || (uint32_t)o.slot >= g.nouts) dw__die("dataweaver: output column dw_write did not declare");
    struct out_col *c = &g.outs[o.slot];
    if (c->touched) return c;
    uint32_t n = g.batch.n;
    c->touched = true;
    c->has_null = false;
    if (c->code == CODE_UTF8 || c->code == CODE_BINARY) {
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
    uint64_t size = c->code == CODE_BOOL ? words(n) : (uint64_t)n * c->width;
    ensure(&c->values, &c->values_cap, size);
    memset(c->values, 0, (size_t)size);
    return c;
}

void *dw_values(dw_batch *b, dw_out o) {
    (void)b;
    struct out_col *c = out(o);
    if (c->code == CODE_UTF8 || c->code == CODE_BINARY) dw__die("dataweaver: dw_values on a string column (use dw_builder_of)");
    return c->values;
}

uint8_t *dw_validity(dw_batch *b, dw_out o) {
    struct out_col *c = out(o);
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
    struct out_col *c = out(o);
    if (c->code != CODE_UTF8 && c->code != CODE_BINARY) dw__die("dataweaver: dw_builder_of on a fixed-width column (use dw_values)");
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
    GROW(b->errs, b->nerrs, b->errs_cap);
    struct row_err e = {i, (uint32_t)off, (uint32_t)(b->msgs.len - off)};
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

/* ---------------------------------------------------------------- */
/* dw_process                                                       */

static uint32_t failed(const char *msg) {
    dw_batch *b = &g.batch;
    if (msg != b->fail.p) {
        b->fail.len = 0;
        dwj_puts(&b->fail, msg);
    }
    if (b->fail.len == 0) dwj_puts(&b->fail, "the stage failed the batch without a message");
    memset(g.result, 0, sizeof g.result);
    g.result[0] = 1;
    g.result[1] = addr(b->fail.p);
    g.result[2] = (uint32_t)b->fail.len;
    return addr(g.result);
}

static uint32_t finish(void) {
    static dwj_buf msg;
    dw_batch *b = &g.batch;
    uint32_t n = b->n;
    if (g.out_desc_cap < 8 * g.nouts) {
        g.out_desc_cap = 8 * g.nouts;
        g.out_desc = dw__xrealloc(g.out_desc, 4 * (size_t)g.out_desc_cap);
    }
    for (uint32_t i = 0; i < g.nouts; i++) {
        struct out_col *c = &g.outs[i];
        bool var = c->code == CODE_UTF8 || c->code == CODE_BINARY;
        msg.len = 0;
        if (!c->touched) {
            dwj_printf(&msg, "output column \"%s\" was not written for this batch", c->name);
            return failed(msg.p);
        }
        if (var && c->w.rows != n) {
            dwj_printf(&msg, "output column \"%s\": %u values appended for %u rows", c->name, c->w.rows, n);
            return failed(msg.p);
        }
        uint32_t *d = g.out_desc + 8 * i;
        d[0] = i;
        d[1] = c->code;
        d[2] = 0;
        d[3] = c->has_null ? addr(c->valid) : 0;
        d[4] = var ? addr(c->w.offsets) : 0;
        d[5] = var ? addr(c->w.data) : addr(c->values);
        d[6] = var ? c->w.len : (c->code == CODE_BOOL ? (n + 7) / 8 : n * c->width);
        d[7] = 0;
    }
    if (g.err_desc_cap < 3 * b->nerrs) {
        g.err_desc_cap = 3 * b->nerrs;
        g.err_desc = dw__xrealloc(g.err_desc, 4 * (size_t)g.err_desc_cap);
    }
    for (uint32_t i = 0; i < b->nerrs; i++) {
        g.err_desc[3 * i] = b->errs[i].row;
        g.err_desc[3 * i + 1] = addr(b->msgs.p + b->errs[i].off);
        g.err_desc[3 * i + 2] = b->errs[i].len;
    }
    memset(g.result, 0, sizeof g.result);
    if (b->sel_set) {
        g.result[3] = 1;
        g.result[4] = addr(b->sel);
        g.result[5] = (n + 7) / 8;
    }
    g.result[6] = g.nouts;
    g.result[7] = g.nouts ? addr(g.out_desc) : 0;
    g.result[8] = b->nerrs;
    g.result[9] = b->nerrs ? addr(g.err_desc) : 0;
    return addr(g.result);
}

DW_EXPORT("dw_process") uint32_t dw_process(uint32_t ptr) {
    dw_batch *b = &g.batch;
    b->failed = false;
    b->fail.len = 0;
    if (g.process == NULL) return failed("dw_process before a successful dw_bind");
    const uint8_t *hdr = region(ptr, 16);
    if (hdr == NULL || ptr == 0) return failed("batch header outside the reserved region");
    uint32_t n, ncols;
    memcpy(&n, hdr, 4);
    memcpy(&ncols, hdr + 4, 4);
    if (ncols != g.nins) return failed("the host sent a different number of columns than the stage reads");
    const uint8_t *descs = region(ptr + 16, 32 * (uint64_t)ncols);
    if (descs == NULL) return failed("column descriptors outside the reserved region");
    const char *err = load_inputs(descs, n);
    if (err != NULL) return failed(err);
    for (uint32_t i = 0; i < g.nouts; i++) g.outs[i].touched = false;
    b->n = n;
    b->sel_set = false;
    b->nerrs = 0;
    b->msgs.len = 0;
    if (g.process(b) != 0 || b->failed) return failed(b->fail.p ? b->fail.p : "");
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
