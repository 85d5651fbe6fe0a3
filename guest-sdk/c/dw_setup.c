/*
 * dw_setup.c — what a stage's setup function calls: the input schema,
 * column declarations, configuration accessors and setup errors; and the
 * part of the bind handshake that reads the request into them.
 */
#include <stdlib.h>
#include <string.h>

#include "dw_internal.h"

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

/* add_read declares input column f read, once. */
static dw_col add_read(dw_setup *s, const dw_field *f) {
    dw_col c = {-1};
    for (uint32_t i = 0; i < s->nreads; i++) {
        if (strcmp(s->reads[i], f->name) == 0) {
            c.slot = (int32_t)i;
            return c;
        }
    }
    DW_GROW(s->reads, s->nreads, s->capreads);
    s->reads[s->nreads] = f->name;
    c.slot = (int32_t)s->nreads++;
    return c;
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
    return add_read(s, f);
}

dw_col dw_read_list(dw_setup *s, const char *name, dw_kind items) {
    dw_col c = {-1};
    const dw_field *f = dw_field_of(s, name);
    if (f == NULL) {
        no_column(s, "", name);
        return c;
    }
    size_t n = strlen(f->type);
    char inner[128];
    if (n < 7 || n - 6 >= sizeof inner || strncmp(f->type, "list<", 5) != 0 || f->type[n - 1] != '>') {
        dw_errorf(s, "column \"%s\" is %s, this stage reads it as a list of %s", name, f->type, kind_name(items));
        return c;
    }
    memcpy(inner, f->type + 5, n - 6);
    inner[n - 6] = 0;
    if (!fits(items, inner)) {
        dw_errorf(s, "column \"%s\" is %s, this stage reads it as a list of %s", name, f->type, kind_name(items));
        return c;
    }
    return add_read(s, f);
}

/* v1_fields reports whether type t is a struct of v1 fields. */
static bool v1_fields(dw_setup *s, const char *t) {
    uint32_t n;
    const dw_field *f = dw_struct_fields(s, t, &n);
    if (f == NULL || strncmp(t, "struct<", 7) != 0) return false;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t w, code = dw__type_code(f[i].type, &w);
        if (code == 0 || code >= DW_CODE_LIST) return false;
    }
    return true;
}

const dw_field *dw_struct_fields(dw_setup *s, const char *type, uint32_t *n) {
    (void)s;
    size_t len = strlen(type);
    *n = 0;
    if (len > 6 && strncmp(type, "list<", 5) == 0 && type[len - 1] == '>') type += 5, len -= 6;
    return dw__struct_fields(type, len, n);
}

dw_col dw_read_struct(dw_setup *s, const char *name) {
    dw_col c = {-1};
    const dw_field *f = dw_field_of(s, name);
    if (f == NULL) {
        no_column(s, "", name);
        return c;
    }
    if (!v1_fields(s, f->type)) {
        dw_errorf(s, "column \"%s\" is %s, this stage reads it as a struct of v1 types", name, f->type);
        return c;
    }
    return add_read(s, f);
}

dw_col dw_read_list_struct(dw_setup *s, const char *name) {
    dw_col c = {-1};
    const dw_field *f = dw_field_of(s, name);
    if (f == NULL) {
        no_column(s, "", name);
        return c;
    }
    size_t n = strlen(f->type);
    char *inner = n > 6 ? dw__xstrndup(f->type + 5, n - 6) : NULL;
    bool ok = inner != NULL && strncmp(f->type, "list<", 5) == 0 && f->type[n - 1] == '>' && v1_fields(s, inner);
    free(inner);
    if (!ok) {
        dw_errorf(s, "column \"%s\" is %s, this stage reads it as a list of structs of v1 types", name, f->type);
        return c;
    }
    return add_read(s, f);
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
    uint8_t code = dw__type_code(type, &width);
    if (code == 0) dw_errorf(s, "column \"%s\": type \"%s\" is not in ABI v1", name, type);
    bool nested = code == DW_CODE_LIST || code == DW_CODE_STRUCT || code == DW_CODE_MAP;
    /* Guest memory is 32-bit, so 64-bit offsets would buy nothing. */
    if (code == DW_CODE_LARGE_UTF8 || code == DW_CODE_LARGE_BINARY)
        dw_errorf(s, "column \"%s\": write %s columns as %s (the SDK builds 32-bit offsets)", name, type,
                  code == DW_CODE_LARGE_UTF8 ? "utf8" : "binary");
    DW_GROW(s->writes, s->nwrites, s->capwrites);
    dw_field f = {dw__xstrndup(name, strlen(name)), dw__xstrndup(type, strlen(type)), true};
    s->writes[s->nwrites] = f;
    o.slot = (int32_t)s->nwrites++;
    if (nested) dw__nested_declare(s, o.slot, f.name, f.type);
    return o;
}

void dw_filter(dw_setup *s) { s->filter = true; }
void dw_drop_all(dw_setup *s) { s->drop_all = true; }
const char *dw_event_time(const dw_setup *s) { return s->event_time; }

void dw_drop_column(dw_setup *s, const char *name) {
    const dw_field *f = dw_field_of(s, name);
    if (f == NULL) {
        no_column(s, "drop: ", name);
        return;
    }
    DW_GROW(s->drops, s->ndrops, s->capdrops);
    s->drops[s->ndrops++] = f->name;
}

/* config_get returns the config member key (ASCII case folded, the last
 * one when repeated, as Go's encoding/json fills a struct field); null
 * counts as absent. The key is remembered for the unknown-key check. */
static dw_json config_get(dw_setup *s, const char *key) {
    dw_json found = {NULL, 0}, k, v;
    DW_GROW(s->asked, s->nasked, s->capasked);
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
        DW_GROW(list, cnt, cap);
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
/* The handshake's request                                          */

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
        DW_GROW(s->schema, s->nschema, cap);
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

const char *dw__run_setup(dw_setup *s, dw_json root, dw_process_fn *fn) {
    *fn = NULL;
    dw_str stage = {"", 0};
    dw_json_string(dw_json_get(root, "stage"), &stage);
    s->stage = stage.ptr;
    dw_str ev = {NULL, 0};
    s->event_time = dw_json_string(dw_json_get(root, "event_time"), &ev) ? ev.ptr : NULL;
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

    dw_process_fn f = dw_stage_setup(s);

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
    if (f == NULL) return "setup returned no process function (and recorded no error with dw_errorf)";
    *fn = f;
    return NULL;
}
