/*
 * nest: an ABI v2 stage that packs columns into one struct column, the
 * inverse of explode on a struct (the Go transforms/nest's and Rust
 * transforms/rust/nest's output, byte for byte).
 *
 *     stages:
 *       - wasm: build/nest.wasm
 *         config: {columns: [sku, qty], as: item}
 *
 * Each input row gives one row (its origin, so the other columns are
 * handed on) whose column `as` is struct<sku:…,qty:…>, the values of the
 * columns in that order, nulls kept; the packed columns are dropped. `as`
 * is appended, or takes the place of a packed column of its name. Columns
 * may be int64 or timestamps, int32 or date32, float64, bool, utf8 or
 * binary (large_ ones written as utf8 or binary).
 */
#include <stdlib.h>

#include "dataweaver.h"

enum kind { I64, I32, F64, BOOL, STR };

static uint32_t n;
static dw_col *cols;
static enum kind *kinds;
static dw_out st, *fields;

static int process(dw_batch *b) {
    /* Views once per batch; a few columns, so on the stack. */
    dw_view v[64];
    for (uint32_t f = 0; f < n; f++) v[f] = dw_view_of(b, cols[f]);
    uint32_t rows = dw_len(b);
    for (uint32_t i = 0; i < rows; i++) {
        dw_emit(b, i);
        dw_begin(b, st);
        for (uint32_t f = 0; f < n; f++) {
            if (!dw_valid(&v[f], i)) {
                dw_put_null(b, fields[f]);
                continue;
            }
            switch (kinds[f]) {
            case I64: dw_put_int64(b, fields[f], v[f].i64[i]); break;
            case I32: dw_put_int32(b, fields[f], v[f].i32[i]); break;
            case F64: dw_put_float64(b, fields[f], v[f].f64[i]); break;
            case BOOL: dw_put_bool(b, fields[f], dw_bool(&v[f], i)); break;
            case STR: dw_put_str(b, fields[f], dw_string(&v[f], i)); break;
            }
        }
        dw_end(b, st);
    }
    return 0;
}

static dw_process_fn setup(dw_setup *s) {
    dw_str *names = NULL, as = {0};
    dw_config_strings(s, "columns", &names, &n);
    dw_config_string(s, "as", &as);
    if (n == 0 || as.ptr == NULL || as.len == 0) {
        dw_errorf(s, "config: columns (a list) and as are required");
        return NULL;
    }
    if (n > 64) {
        dw_errorf(s, "config: columns: %u columns, at most 64", n);
        return NULL;
    }
    cols = calloc(n, sizeof *cols);
    kinds = calloc(n, sizeof *kinds);
    fields = calloc(n, sizeof *fields);
    char *type = malloc(16);
    size_t len = 0, cap = 16;
    /* The struct's type: struct<name:type,…>. */
    for (uint32_t f = 0; f <= n; f++) {
        const char *part = "struct<", *t = "", *sep = "";
        if (f > 0) {
            const dw_field *fd = dw_field_of(s, names[f - 1].ptr);
            dw_kind k = DW_INT64;
            t = fd ? fd->type : "int64";
            if (strcmp(t, "int64") == 0 || strncmp(t, "timestamp[", 10) == 0) {
                kinds[f - 1] = I64, k = DW_INT64;
            } else if (strcmp(t, "int32") == 0 || strcmp(t, "date32") == 0) {
                kinds[f - 1] = I32, k = DW_INT32;
            } else if (strcmp(t, "float64") == 0) {
                kinds[f - 1] = F64, k = DW_FLOAT64;
            } else if (strcmp(t, "bool") == 0) {
                kinds[f - 1] = BOOL, k = DW_BOOL;
            } else if (strcmp(t, "utf8") == 0 || strcmp(t, "large_utf8") == 0) {
                kinds[f - 1] = STR, k = DW_STRING, t = "utf8";
            } else if (strcmp(t, "binary") == 0 || strcmp(t, "large_binary") == 0) {
                kinds[f - 1] = STR, k = DW_STRING, t = "binary";
            } else {
                dw_errorf(s, "column \"%s\" of type %s cannot be nested", names[f - 1].ptr, t);
            }
            cols[f - 1] = dw_read(s, names[f - 1].ptr, k);
            part = names[f - 1].ptr;
            sep = f < n ? "," : ">";
        }
        size_t need = len + strlen(part) + strlen(t) + 3;
        if (need > cap) type = realloc(type, cap = 2 * need);
        if (type == NULL) return NULL;
        len += (size_t)sprintf(type + len, "%s%s%s%s", part, f > 0 ? ":" : "", t, sep);
    }
    if (dw_setup_failed(s)) return NULL;
    for (uint32_t f = 0; f < n; f++)
        if (strcmp(names[f].ptr, as.ptr) != 0) dw_drop_column(s, names[f].ptr);
    st = dw_write(s, as.ptr, type);
    for (uint32_t f = 0; f < n; f++) fields[f] = dw_child(s, st, f);
    return dw_setup_failed(s) ? NULL : process;
}

DW_STAGE_V2(setup)
