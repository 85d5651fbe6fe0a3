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
 */
#include "dataweaver.h"

static dw_col list;
static dw_out out;
static enum { I64, I32, F64, BOOL, STR } kind;

static int process(dw_batch *b) {
    dw_list l = dw_list_of(b, list);
    const dw_view *it = &l.items;
    for (uint32_t i = 0; i < l.len; i++) {
        if (!dw_list_valid(&l, i)) continue;
        for (int32_t k = l.offsets[i]; k < l.offsets[i + 1]; k++) {
            dw_emit(b, i);
            if (!dw_valid(it, (uint32_t)k)) {
                dw_put_null(b, out);
                continue;
            }
            switch (kind) {
            case I64: dw_put_int64(b, out, it->i64[k]); break;
            case I32: dw_put_int32(b, out, it->i32[k]); break;
            case F64: dw_put_float64(b, out, it->f64[k]); break;
            case BOOL: dw_put_bool(b, out, dw_bool(it, (uint32_t)k)); break;
            case STR: dw_put_str(b, out, dw_string(it, (uint32_t)k)); break;
            }
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
    if (as.ptr == NULL || as.len == 0) as = column;
    const dw_field *f = dw_field_of(s, column.ptr);
    if (f == NULL || strncmp(f->type, "list<", 5) != 0) {
        /* dw_read_list says what is wrong */
        dw_read_list(s, column.ptr, DW_INT64);
        return NULL;
    }
    const char *t = f->type + 5;
    size_t n = strlen(t) - 1; /* without the closing '>' */
    char item[64];
    if (n >= sizeof item) n = sizeof item - 1;
    memcpy(item, t, n);
    item[n] = 0;
    dw_kind k;
    const char *wtype = item;
    if (strcmp(item, "int64") == 0 || strncmp(item, "timestamp[", 10) == 0) {
        kind = I64, k = DW_INT64;
    } else if (strcmp(item, "int32") == 0) {
        kind = I32, k = DW_INT32;
    } else if (strcmp(item, "float64") == 0) {
        kind = F64, k = DW_FLOAT64;
    } else if (strcmp(item, "bool") == 0) {
        kind = BOOL, k = DW_BOOL;
    } else if (strcmp(item, "utf8") == 0 || strcmp(item, "large_utf8") == 0) {
        kind = STR, k = DW_STRING, wtype = "utf8";
    } else if (strcmp(item, "binary") == 0 || strcmp(item, "large_binary") == 0) {
        kind = STR, k = DW_STRING, wtype = "binary";
    } else {
        dw_errorf(s, "column \"%s\": items of type %s are not supported", column.ptr, item);
        return NULL;
    }
    list = dw_read_list(s, column.ptr, k);
    if (strcmp(as.ptr, column.ptr) != 0) dw_drop_column(s, column.ptr);
    out = dw_write(s, as.ptr, wtype);
    return dw_setup_failed(s) ? NULL : process;
}

DW_STAGE_V2(setup)
