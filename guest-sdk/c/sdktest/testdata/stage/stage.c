/*
 * stage exercises the whole C SDK for guest-sdk/c/sdktest/stage_test.go:
 * it reads every input column whose type ABI v1 carries and writes it
 * back unchanged (large_ strings as utf8/binary), through every kind of
 * view and output builder; config "mode" adds one more behaviour:
 *
 *     identity   (default) only the copy
 *     drop       dw_drop every "every"-th row (0, every, 2*every, …)
 *     keep_bits  the same rows dropped through dw_keep_bits
 *     reject     dw_rejectf the same rows
 *     fail       dw_fail the batch
 *     trap       append one value too many (the SDK stops the instance)
 *     log        dw_logf a line per batch
 *     config     fail bind with an echo of the config accessors' answers
 *     large      also declare a large_utf8 output, which the SDK refuses
 */
#include <stdio.h>
#include <stdlib.h>

#include "dataweaver.h"

struct column {
    const char *name;
    dw_kind kind;
    uint32_t width; /* bytes per value; 0 for bool and strings */
    dw_col in;
    dw_out out;
};

static struct column *cols;
static uint32_t ncols;
static dw_str mode = {"identity", 8};
static double every = 3;
static const char *stage;

static bool is(const char *m) { return strcmp(mode.ptr, m) == 0; }

static void copy_column(dw_batch *b, const struct column *c, uint32_t k) {
    dw_view v = dw_view_of(b, c->in);
    uint32_t n = v.len;
    if (c->kind == DW_STRING) {
        dw_builder *w = dw_builder_of(b, c->out);
        /* Half the columns through dw_append, half through dw_room. */
        if (k % 2 == 0) dw_room(w, v.data_len);
        for (uint32_t i = 0; i < n; i++) {
            if (!dw_valid(&v, i)) {
                dw_append_null(w);
                continue;
            }
            dw_str s = dw_string(&v, i);
            if (k % 2 == 0) {
                memcpy(w->data + w->len, s.ptr, s.len);
                dw_commit(w, s.len);
            } else {
                dw_append_str(w, s);
            }
        }
        return;
    }
    uint8_t *dst = dw_values(b, c->out);
    if (c->kind == DW_BOOL) {
        for (uint32_t i = 0; i < n; i++) dw_set_bool(dst, i, dw_bool(&v, i));
    } else if (n > 0) {
        memcpy(dst, v.values, (size_t)n * c->width);
    }
    if (v.validity == NULL) return;
    if (k % 2 == 0) {
        memcpy(dw_validity(b, c->out), v.validity, (n + 7) / 8);
    } else {
        for (uint32_t i = 0; i < n; i++)
            if (!dw_valid(&v, i)) dw_set_null(b, c->out, i);
    }
}

static int process(dw_batch *b) {
    uint32_t n = dw_len(b), step = (uint32_t)every;
    if (is("fail")) return dw_fail(b, "failing a batch of %u rows as asked", n);
    if (is("log")) dw_logf(DW_WARN, "%s: %u rows", stage, n);
    for (uint32_t k = 0; k < ncols; k++) copy_column(b, &cols[k], k);
    if (is("trap") && ncols > 0) {
        for (uint32_t k = 0; k < ncols; k++)
            if (cols[k].kind == DW_STRING) dw_append(dw_builder_of(b, cols[k].out), "x", 1);
    }
    if (is("drop"))
        for (uint32_t i = 0; i < n; i += step) dw_drop(b, i);
    if (is("keep_bits")) {
        uint8_t *sel = dw_keep_bits(b);
        for (uint32_t i = 0; i < n; i++) dw_set_bool(sel, i, i % step != 0);
    }
    if (is("reject"))
        for (uint32_t i = 0; i < n; i += step) dw_rejectf(b, i, "row %u rejected by %s", i, stage);
    return 0;
}

static dw_process_fn echo_config(dw_setup *s) {
    dw_str str = {"(absent)", 8}, *list = NULL;
    double num = -1;
    bool flag = false;
    uint32_t nlist = 0;
    dw_config_string(s, "Str", &str); /* keys fold ASCII case, as in Go */
    dw_config_number(s, "num", &num);
    dw_config_bool(s, "flag", &flag);
    dw_config_strings(s, "list", &list, &nlist);
    dw_json obj = dw_config_value(s, "obj"), deep = {NULL, 0}, e;
    dw_json_iter it = dw_json_items(dw_json_get(obj, "k"));
    for (int i = 0; dw_json_next(&it, NULL, &e); i++)
        if (i == 1) deep = dw_json_get(e, "x");
    dw_str x = {"?", 1};
    dw_json_string(deep, &x);
    char nums[32];
    dw_format_float(nums, num);
    char buf[512];
    int len = snprintf(buf, sizeof buf, "echo: str=%s num=%s flag=%d list=%u:", str.ptr, nums, flag, nlist);
    for (uint32_t i = 0; i < nlist && len < 400; i++) len += snprintf(buf + len, sizeof buf - (size_t)len, "[%s]", list[i].ptr);
    dw_errorf(s, "%s obj.k[1].x=%s stage=%s", buf, x.ptr, dw_stage_name(s));
    return NULL;
}

static dw_process_fn setup(dw_setup *s) {
    dw_config_string(s, "mode", &mode);
    dw_config_number(s, "every", &every);
    stage = dw_stage_name(s);
    if (is("config")) return echo_config(s);
    if (every < 1) {
        dw_errorf(s, "config: every must be at least 1");
        return NULL;
    }
    static const struct {
        const char *type;
        dw_kind kind;
        uint32_t width;
    } kinds[] = {
        {"bool", DW_BOOL, 0},      {"int8", DW_INT8, 1},        {"int16", DW_INT16, 2},  {"int32", DW_INT32, 4},
        {"int64", DW_INT64, 8},    {"uint8", DW_UINT8, 1},      {"uint16", DW_UINT16, 2}, {"uint32", DW_UINT32, 4},
        {"uint64", DW_UINT64, 8},  {"float32", DW_FLOAT32, 4},  {"float64", DW_FLOAT64, 8}, {"date32", DW_INT32, 4},
        {"utf8", DW_STRING, 0},    {"binary", DW_STRING, 0},    {"large_utf8", DW_STRING, 0},
        {"large_binary", DW_STRING, 0},
    };
    uint32_t n;
    const dw_field *schema = dw_schema(s, &n);
    cols = calloc(n ? n : 1, sizeof *cols);
    if (cols == NULL) return NULL;
    for (uint32_t i = 0; i < n; i++) {
        const char *t = schema[i].type, *wt = t;
        struct column c = {schema[i].name, 0, 0, {-1}, {-1}};
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
            if (strcmp(t, kinds[k].type) == 0) c.kind = kinds[k].kind, c.width = kinds[k].width;
        if (strncmp(t, "timestamp[", 10) == 0) c.kind = DW_INT64, c.width = 8;
        if (strncmp(t, "decimal128(", 11) == 0) c.kind = DW_DECIMAL128, c.width = 16;
        if (c.kind == 0) continue;
        if (strcmp(t, "large_utf8") == 0) wt = "utf8";
        if (strcmp(t, "large_binary") == 0) wt = "binary";
        c.in = dw_read(s, c.name, c.kind);
        c.out = dw_write(s, c.name, wt);
        cols[ncols++] = c;
    }
    if (is("drop") || is("keep_bits")) dw_filter(s);
    if (is("large")) dw_write(s, "big", "large_utf8");
    return process;
}

DW_STAGE(setup)
