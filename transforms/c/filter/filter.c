/*
 * filter keeps the rows matching a predicate on one numeric or string
 * column: the C version of transforms/filter, with the same output.
 *
 *     stages:
 *       - wasm: transforms/c/filter/filter.wasm
 *         config: {column: amount, op: ">=", value: 0}
 *
 * Ops: == != < <= > >= on int32, int64 and float64 columns (value is a
 * number; both sides compare as float64); == and != on utf8, binary and
 * their large_ forms (value is a string, or a list of strings meaning
 * "any of"). Null rows never match; NaN matches only !=, which is the
 * complement of ==.
 */
#include <stdlib.h>

#include "dataweaver.h"

/* One loop iteration per 64 rows, no call or backward jump inside: under
 * a stage timeout every loop iteration is an exit to the host. */
#define UNROLL _Pragma("clang loop unroll(full)")

enum op { EQ, GT, GE };

static dw_col col;
static dw_kind kind;
/* Numbers: keep rows where sign*v (op) x, complemented by inv; < and <=
 * are > and >= on negated operands (exact, NaN still fails), != is the
 * complement of ==: three comparisons cover the six ops. */
static enum op op;
static double sign, x;
static uint64_t inv;
/* Strings: the distinct values, each with its first eight bytes as a
 * word and a mask of the bytes it has, and whether a row in the set is
 * kept. */
struct key {
    const uint8_t *p; /* zero-padded to a whole word */
    uint32_t len;
    uint64_t word, mask;
};
static struct key *set;
static uint32_t nset;
static bool keep_in;

static inline uint64_t load64(const void *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

#define NUMBER_KERNEL(NAME, T, CMP)                                                   \
    static void NAME(uint8_t *sel, const T *v, uint32_t n) {                          \
        uint32_t j = 0;                                                               \
        for (; j + 64 <= n; j += 64) {                                                \
            uint64_t m = 0;                                                           \
            UNROLL for (int k = 0; k < 64; k++) m |= (uint64_t)(sign * (double)v[j + k] CMP x) << k; \
            m ^= inv;                                                                 \
            memcpy(sel + j / 8, &m, 8);                                               \
        }                                                                             \
        if (j < n) {                                                                  \
            uint64_t m = 0;                                                           \
            for (uint32_t k = 0; j + k < n; k++) m |= (uint64_t)(sign * (double)v[j + k] CMP x) << k; \
            m ^= inv;                                                                 \
            memcpy(sel + j / 8, &m, 8);                                               \
        }                                                                             \
    }

NUMBER_KERNEL(eq_i32, int32_t, ==)
NUMBER_KERNEL(gt_i32, int32_t, >)
NUMBER_KERNEL(ge_i32, int32_t, >=)
NUMBER_KERNEL(eq_i64, int64_t, ==)
NUMBER_KERNEL(gt_i64, int64_t, >)
NUMBER_KERNEL(ge_i64, int64_t, >=)
NUMBER_KERNEL(eq_f64, double, ==)
NUMBER_KERNEL(gt_f64, double, >)
NUMBER_KERNEL(ge_f64, double, >=)

/* and_valid clears the bits of null rows, 64 at a time (the selection and
 * the validity are readable in whole words: see dw_keep_bits, DW_PAD). */
static void and_valid(uint8_t *sel, const uint8_t *valid, uint32_t n) {
    if (valid == NULL) return;
    for (uint32_t i = 0; i < (n + 63) / 64; i++) {
        uint64_t w = load64(sel + 8 * i) & load64(valid + 8 * i);
        memcpy(sel + 8 * i, &w, 8);
    }
}

/* same compares row bytes p[0..len) with k: one masked word for up to
 * eight bytes (the load may run past the value, which DW_PAD allows),
 * then words. */
static inline uint64_t same(const uint8_t *p, uint32_t len, const struct key *k) {
    if (len != k->len || ((load64(p) ^ k->word) & k->mask) != 0) return 0;
    for (uint32_t i = 8; i < len; i += 8) {
        uint64_t m = len - i >= 8 ? ~0ull : (1ull << 8 * (len - i)) - 1;
        if (((load64(p + i) ^ load64(k->p + i)) & m) != 0) return 0;
    }
    return 1;
}

static void add(dw_str v) {
    for (uint32_t i = 0; i < nset; i++)
        if (set[i].len == v.len && memcmp(set[i].p, v.ptr, v.len) == 0) return;
    set = realloc(set, (nset + 1) * sizeof *set);
    uint8_t *p = calloc(v.len + 8, 1);
    if (set == NULL || p == NULL) __builtin_trap();
    memcpy(p, v.ptr, v.len);
    struct key k = {p, v.len, load64(p), v.len >= 8 ? ~0ull : (1ull << 8 * v.len) - 1};
    set[nset++] = k;
}

/* short_eq is 1 when the row at p of length len is the key k of at most
 * eight bytes: one masked word and the length, no branch. */
static inline uint64_t short_eq(const uint8_t *p, uint32_t len, const struct key *k) {
    return (len == k->len) & (((load64(p) ^ k->word) & k->mask) == 0);
}

/* str_eq is the single-value filter. A value of up to eight bytes (a
 * country code, a status) compares branch-free, 64 rows per iteration;
 * longer ones use same(). */
static void str_eq(uint8_t *sel, const dw_view *v) {
    const int32_t *o = v->offsets;
    const uint8_t *d = v->data;
    const struct key k = set[0];
    uint64_t flip = keep_in ? 0 : ~0ull;
    uint32_t n = v->len, j = 0;
    if (k.len <= 8) {
        for (; j + 64 <= n; j += 64) {
            uint64_t m = 0;
            UNROLL for (int i = 0; i < 64; i++)
                m |= short_eq(d + o[j + i], (uint32_t)(o[j + i + 1] - o[j + i]), &k) << i;
            m ^= flip;
            memcpy(sel + j / 8, &m, 8);
        }
    }
    for (; j < n; j += 64) {
        uint64_t m = 0;
        for (uint32_t i = 0; i < 64 && j + i < n; i++)
            m |= same(d + o[j + i], (uint32_t)(o[j + i + 1] - o[j + i]), &k) << i;
        m ^= flip;
        memcpy(sel + j / 8, &m, 8);
    }
}

/* str_in is the "any of" filter. Up to eight values of up to eight bytes
 * each compare branch-free (the set padded with repeats of its first
 * value), 16 rows per iteration; other sets one value at a time. */
static void str_in(uint8_t *sel, const dw_view *v) {
    const int32_t *o = v->offsets;
    const uint8_t *d = v->data;
    uint32_t n = v->len, j = 0;
    uint16_t flip = keep_in ? 0 : 0xffff;
    bool small = nset > 0 && nset <= 8;
    for (uint32_t s = 0; s < nset; s++) small = small && set[s].len <= 8;
    if (small) {
        struct key k[8];
        for (int s = 0; s < 8; s++) k[s] = set[(uint32_t)s < nset ? (uint32_t)s : 0];
        for (; j + 16 <= n; j += 16) {
            uint32_t m = 0;
            UNROLL for (int i = 0; i < 16; i++) {
                const uint8_t *p = d + o[j + i];
                uint32_t len = (uint32_t)(o[j + i + 1] - o[j + i]);
                uint64_t in = 0;
                UNROLL for (int s = 0; s < 8; s++) in |= short_eq(p, len, &k[s]);
                m |= (uint32_t)in << i;
            }
            m ^= flip;
            memcpy(sel + j / 8, &m, 2);
        }
    }
    for (; j < n; j += 8) {
        uint8_t m = 0;
        for (uint32_t i = 0; i < 8 && j + i < n; i++) {
            const uint8_t *p = d + o[j + i];
            uint32_t len = (uint32_t)(o[j + i + 1] - o[j + i]);
            uint64_t in = 0;
            for (uint32_t s = 0; s < nset && !in; s++) in = same(p, len, &set[s]);
            m |= (uint8_t)((in == keep_in) << i);
        }
        sel[j / 8] = m;
    }
}

static int process_numbers(dw_batch *b) {
    dw_view v = dw_view_of(b, col);
    uint8_t *sel = dw_keep_bits(b);
    switch (kind * 3 + op) {
    case DW_INT32 * 3 + EQ: eq_i32(sel, v.i32, v.len); break;
    case DW_INT32 * 3 + GT: gt_i32(sel, v.i32, v.len); break;
    case DW_INT32 * 3 + GE: ge_i32(sel, v.i32, v.len); break;
    case DW_INT64 * 3 + EQ: eq_i64(sel, v.i64, v.len); break;
    case DW_INT64 * 3 + GT: gt_i64(sel, v.i64, v.len); break;
    case DW_INT64 * 3 + GE: ge_i64(sel, v.i64, v.len); break;
    case DW_FLOAT64 * 3 + EQ: eq_f64(sel, v.f64, v.len); break;
    case DW_FLOAT64 * 3 + GT: gt_f64(sel, v.f64, v.len); break;
    default: ge_f64(sel, v.f64, v.len); break;
    }
    and_valid(sel, v.validity, v.len);
    return 0;
}

static int process_strings(dw_batch *b) {
    dw_view v = dw_view_of(b, col);
    uint8_t *sel = dw_keep_bits(b);
    if (nset == 1) str_eq(sel, &v);
    else str_in(sel, &v);
    and_valid(sel, v.validity, v.len);
    return 0;
}

/* describe writes a JSON value as Go's %v prints the decoded value, for
 * the "is not a string" message. */
static const char *describe(dw_json v) {
    static char buf[64];
    double d;
    bool t;
    if (dw_json_number(v, &d)) {
        dw_format_float(buf, d);
        return buf;
    }
    if (dw_json_bool(v, &t)) return t ? "true" : "false";
    if (dw_json_type(v) == DW_JSON_NULL) return "<nil>";
    return dw_json_kind_name(dw_json_type(v));
}

static dw_process_fn strings(dw_setup *s, const char *column, dw_str opname, dw_json value) {
    dw_str str;
    switch (dw_json_type(value)) {
    case DW_JSON_STRING:
        dw_json_string(value, &str);
        add(str);
        break;
    case DW_JSON_ARRAY: {
        dw_json e;
        dw_json_iter it = dw_json_items(value);
        while (dw_json_next(&it, NULL, &e)) {
            if (!dw_json_string(e, &str)) {
                dw_errorf(s, "config: value: %s is not a string", describe(e));
                return NULL;
            }
            add(str);
        }
        break;
    }
    default:
        dw_errorf(s, "config: value must be a string or a list of strings for column \"%s\"", column);
        return NULL;
    }
    if (strcmp(opname.ptr, "==") == 0) {
        keep_in = true;
    } else if (strcmp(opname.ptr, "!=") == 0) {
        keep_in = false;
    } else {
        dw_errorf(s, "config: op \"%s\" does not apply to strings (use == or !=)", opname.ptr);
        return NULL;
    }
    col = dw_read(s, column, DW_STRING);
    return process_strings;
}

static dw_process_fn numbers(dw_setup *s, const char *column, dw_str opname, dw_json value) {
    if (!dw_json_number(value, &x)) {
        if (dw_json_type(value) == DW_JSON_NUMBER)
            dw_errorf(s, "config: value: number %.*s is out of range", (int)value.len, value.ptr);
        else
            dw_errorf(s, "config: value must be a number for column \"%s\"", column);
        return NULL;
    }
    static const struct {
        const char *name;
        enum op op;
        double sign;
        uint64_t inv;
    } ops[] = {{"==", EQ, 1, 0}, {"!=", EQ, 1, ~0ull}, {"<", GT, -1, 0}, {"<=", GE, -1, 0}, {">", GT, 1, 0}, {">=", GE, 1, 0}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (strcmp(opname.ptr, ops[i].name) == 0) {
            op = ops[i].op;
            sign = ops[i].sign;
            inv = ops[i].inv;
            x *= sign;
            col = dw_read(s, column, kind);
            return process_numbers;
        }
    }
    dw_errorf(s, "config: unknown op \"%s\" (==, !=, <, <=, >, >=)", opname.ptr);
    return NULL;
}

static dw_process_fn setup(dw_setup *s) {
    dw_str column = {"", 0}, opname = {"", 0};
    dw_config_string(s, "column", &column);
    dw_config_string(s, "op", &opname);
    dw_json value = dw_config_value(s, "value");
    if (dw_setup_failed(s)) return NULL;
    if (column.len == 0) {
        dw_errorf(s, "config: column is required");
        return NULL;
    }
    if (opname.len == 0) opname = (dw_str){"==", 2};
    const dw_field *f = dw_field_of(s, column.ptr);
    if (f == NULL) {
        dw_errorf(s, "no column \"%s\" in the input", column.ptr);
        return NULL;
    }
    dw_filter(s);
    const char *t = f->type;
    if (!strcmp(t, "utf8") || !strcmp(t, "large_utf8") || !strcmp(t, "binary") || !strcmp(t, "large_binary"))
        return strings(s, column.ptr, opname, value);
    if (!strcmp(t, "float64")) kind = DW_FLOAT64;
    else if (!strcmp(t, "int64")) kind = DW_INT64;
    else if (!strcmp(t, "int32")) kind = DW_INT32;
    else {
        dw_errorf(s, "column \"%s\" is %s; filter takes float64, int64, int32 or string columns", column.ptr, t);
        return NULL;
    }
    return numbers(s, column.ptr, opname, value);
}

DW_STAGE(setup)
