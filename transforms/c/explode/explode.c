/*
 * explode: an ABI v2 stage that turns a list column into rows, one per
 * item, the item in place of the list (the Go transforms/explode's
 * output, byte for byte, for the item types below).
 *
 *     stages:
 *       - wasm: build/explode.wasm
 *         config: {column: tags}
 *
 * Each output row's origin is the input row its item came from, so every
 * other column is handed on with it. A null or empty list gives no row; a
 * null item gives a row with a null value. `as` names the output column
 * (default: the list's own name, which the item replaces in place).
 * Items may be int64 or timestamps, int32, float64, bool, utf8 or binary
 * (large_ ones too, written as utf8 or binary).
 *
 * A list of structs gives one row per item with the struct's fields as
 * columns of their own names (DuckDB's unnest(recursive := true)), in the
 * list's place: a field named like an input column replaces it; a null
 * struct gives a row of nulls. The fields may be of the types above and
 * date32; `as` does not apply. A struct column is unnested the same way,
 * one row per input row (a null struct, a row of nulls).
 */
#include <stdlib.h>

#include "dataweaver.h"

static dw_col list;
static dw_out out;
enum kind { I64, I32, F64, BOOL, STR };
static enum kind kind;

/* A list of structs: each field's output column and kind. */
static bool structs, whole; /* whole: a struct column, not a list of them */
static uint32_t nfields;
static dw_out *fouts;
static enum kind *fkinds;

/* put gives the next emitted row view v's row k as a value of kind k. */
static void put(dw_batch *b, dw_out o, enum kind kd, const dw_view *v, uint32_t k) {
    if (!dw_valid(v, k)) {
        dw_put_null(b, o);
        return;
    }
    switch (kd) {
    case I64: dw_put_int64(b, o, v->i64[k]); break;
    case I32: dw_put_int32(b, o, v->i32[k]); break;
    case F64: dw_put_float64(b, o, v->f64[k]); break;
    case BOOL: dw_put_bool(b, o, dw_bool(v, k)); break;
    case STR: dw_put_str(b, o, dw_string(v, k)); break;
    }
}

/* emit_struct emits struct st's row k, from input row i. */
static void emit_struct(dw_batch *b, const dw_struct *st, uint32_t i, uint32_t k) {
    dw_emit(b, i);
    bool valid = dw_struct_valid(st, k);
    for (uint32_t f = 0; f < nfields; f++) {
        if (valid)
            put(b, fouts[f], fkinds[f], &st->fields[f], k);
        else
            dw_put_null(b, fouts[f]);
    }
}

static int process_structs(dw_batch *b) {
    if (whole) {
        dw_struct st = dw_struct_of(b, list);
        for (uint32_t i = 0; i < st.len; i++) emit_struct(b, &st, i, i);
        return 0;
    }
    dw_list l = dw_list_of(b, list);
    const dw_struct *st = &l.structs;
    for (uint32_t i = 0; i < l.len; i++) {
        if (!dw_list_valid(&l, i)) continue;
        for (uint32_t k = (uint32_t)l.offsets[i]; k < (uint32_t)l.offsets[i + 1]; k++) emit_struct(b, st, i, k);
    }
    return 0;
}

/* kind_of picks the kind and output type of items (or fields) of type
 * item; false when they are not supported. */
static bool kind_of(const char *item, enum kind *kd, dw_kind *k, const char **wtype) {
    *wtype = item;
    if (strcmp(item, "int64") == 0 || strncmp(item, "timestamp[", 10) == 0) {
        *kd = I64, *k = DW_INT64;
    } else if (strcmp(item, "int32") == 0 || (structs && strcmp(item, "date32") == 0)) {
        *kd = I32, *k = DW_INT32;
    } else if (strcmp(item, "float64") == 0) {
        *kd = F64, *k = DW_FLOAT64;
    } else if (strcmp(item, "bool") == 0) {
        *kd = BOOL, *k = DW_BOOL;
    } else if (strcmp(item, "utf8") == 0 || strcmp(item, "large_utf8") == 0) {
        *kd = STR, *k = DW_STRING, *wtype = "utf8";
    } else if (strcmp(item, "binary") == 0 || strcmp(item, "large_binary") == 0) {
        *kd = STR, *k = DW_STRING, *wtype = "binary";
    } else {
        return false;
    }
    return true;
}

/* setup_structs declares the reads and writes of a list of structs. */
static dw_process_fn setup_structs(dw_setup *s, dw_str column, bool as_given) {
    structs = true;
    if (as_given) {
        dw_errorf(s, "config: as names the item's column; a list of structs gives its fields as columns");
        return NULL;
    }
    list = whole ? dw_read_struct(s, column.ptr) : dw_read_list_struct(s, column.ptr);
    const dw_field *fs = dw_struct_fields(s, dw_field_of(s, column.ptr)->type, &nfields);
    if (dw_setup_failed(s)) return NULL;
    fouts = calloc(nfields, sizeof *fouts);
    fkinds = calloc(nfields, sizeof *fkinds);
    bool replaced = false;
    for (uint32_t f = 0; f < nfields; f++) {
        dw_kind k;
        const char *wtype;
        if (!kind_of(fs[f].type, &fkinds[f], &k, &wtype)) {
            dw_errorf(s, "column \"%s\": field \"%s\" of type %s is not supported", column.ptr, fs[f].name, fs[f].type);
            continue;
        }
        replaced |= strcmp(fs[f].name, column.ptr) == 0;
        fouts[f] = dw_write(s, fs[f].name, wtype);
    }
    /* A field of the list's name takes its place; else the list goes. */
    if (!replaced) dw_drop_column(s, column.ptr);
    return dw_setup_failed(s) ? NULL : process_structs;
}

static int process(dw_batch *b) {
    dw_list l = dw_list_of(b, list);
    const dw_view *it = &l.items;
    for (uint32_t i = 0; i < l.len; i++) {
        if (!dw_list_valid(&l, i)) continue;
        for (int32_t k = l.offsets[i]; k < l.offsets[i + 1]; k++) {
            dw_emit(b, i);
            put(b, out, kind, it, (uint32_t)k);
        }
    }
    return 0;
}

static dw_process_fn setup(dw_setup *s) {
    dw_str column = {0}, as = {0};
    dw_config_string(s, "column", &column);
    dw_config_string(s, "as", &as);
    if (column.ptr == NULL || column.len == 0) {
        dw_errorf(s, "config: column is required");
        return NULL;
    }
    bool as_given = as.ptr != NULL && as.len > 0;
    if (!as_given) as = column;
    const dw_field *f = dw_field_of(s, column.ptr);
    if (f != NULL && strncmp(f->type, "struct<", 7) == 0) {
        whole = true;
        return setup_structs(s, column, as_given);
    }
    if (f == NULL || strncmp(f->type, "list<", 5) != 0) {
        /* dw_read_list says what is wrong */
        dw_read_list(s, column.ptr, DW_INT64);
        return NULL;
    }
    if (strncmp(f->type, "list<struct<", 12) == 0) return setup_structs(s, column, as_given);
    const char *t = f->type + 5;
    size_t n = strlen(t) - 1; /* without the closing '>' */
    char item[64];
    if (n >= sizeof item) n = sizeof item - 1;
    memcpy(item, t, n);
    item[n] = 0;
    dw_kind k;
    const char *wtype;
    if (!kind_of(item, &kind, &k, &wtype)) {
        dw_errorf(s, "column \"%s\": items of type %s are not supported", column.ptr, item);
        return NULL;
    }
    list = dw_read_list(s, column.ptr, k);
    if (strcmp(as.ptr, column.ptr) != 0) dw_drop_column(s, column.ptr);
    out = dw_write(s, as.ptr, wtype);
    return dw_setup_failed(s) ? NULL : process;
}

DW_STAGE_V2(setup)
