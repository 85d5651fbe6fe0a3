/*
 * dataweaver.h — the C SDK for DataWeaver Wasm stages (ABI v1,
 * wasmabi/ABI.md).
 *
 * A stage is one C file that defines a setup function and a process
 * function and names the setup function with DW_STAGE:
 *
 *     #include "dataweaver.h"
 *
 *     static dw_col amount;
 *     static double min_amount;
 *
 *     static int process(dw_batch *b) {
 *         dw_view v = dw_view_of(b, amount);
 *         for (uint32_t i = 0; i < v.len; i++)
 *             if (!(v.f64[i] >= min_amount)) dw_drop(b, i);
 *         return 0;
 *     }
 *
 *     static dw_process_fn setup(dw_setup *s) {
 *         dw_config_number(s, "min", &min_amount);
 *         amount = dw_read(s, "amount", DW_FLOAT64);
 *         dw_filter(s);
 *         return process;
 *     }
 *
 *     DW_STAGE(setup)
 *
 * The SDK (dataweaver.c) provides the module's exports (dw_abi_version,
 * dw_reserve, dw_bind, dw_process). Build with `weave build DIR`.
 *
 * # Life cycle
 *
 * Each module instance runs setup once, at bind time, with the stage's
 * configuration and the input schema; then process once per batch, one
 * batch at a time. Globals are per instance, so a setup function keeps
 * what process needs in static variables, as above. Strings the SDK hands
 * to setup (field names, configuration values) live as long as the
 * instance; views and builders handed to process are valid until process
 * returns.
 *
 * The names follow the Go SDK (guest-sdk/go/guest): Read/Write/Filter/
 * DropColumn/Errorf at setup, View/Drop/KeepBits/Reject at process.
 *
 * # Performance under a stage timeout
 *
 * With a timeout (the default) wazero compiles a check into every loop
 * header of the guest, and each check leaves compiled code for the host
 * (wasmabi/BENCH_NOTES.md): a stage costs roughly its loop iterations. Calls
 * and forward branches are free. So hot loops should do 8 or 64 rows per
 * iteration (dw_keep_bits fills the selection a byte or a word at a time),
 * test validity once per batch (view.validity == NULL means no nulls) and
 * write string outputs through dw_room/dw_commit rather than a loop per
 * byte. transforms/c/{filter,mask,derive,gcd} show the patterns.
 */
#ifndef DATAWEAVER_H
#define DATAWEAVER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version a v1 stage speaks; DW_STAGE_V2 makes a stage speak 2. */
#define DW_ABI_VERSION 1

/* Input buffers may be read up to DW_PAD bytes before their start and
 * past their end (the SDK pads the region the host writes into), so a
 * kernel can load whole 8- or 16-byte words without checking where a
 * value ends. Never write there. */
#define DW_PAD 64

#if defined(__GNUC__) || defined(__clang__)
#define DW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define DW_PRINTF(f, a)
#endif

/* ---------------------------------------------------------------- */
/* Strings and configuration                                        */

/* dw_str is a byte string with its length. The ones the SDK allocates
 * (config values) end with a '\0' at ptr[len], though their bytes may hold
 * NULs of their own (JSON "\u0000"); the ones dw_string returns point into
 * the batch and do not. */
typedef struct dw_str {
    const char *ptr;
    uint32_t len;
} dw_str;

/* dw_json is one JSON value: the text of the value itself, e.g. a whole
 * list `["a","b"]`. ptr == NULL means absent. The SDK only ever hands out
 * values inside a document it has validated. */
typedef struct dw_json {
    const char *ptr;
    uint32_t len;
} dw_json;

typedef enum dw_json_kind {
    DW_JSON_ABSENT = 0,
    DW_JSON_NULL,
    DW_JSON_BOOL,
    DW_JSON_NUMBER,
    DW_JSON_STRING,
    DW_JSON_ARRAY,
    DW_JSON_OBJECT,
} dw_json_kind;

dw_json_kind dw_json_type(dw_json v);
/* The kind as a word for messages: "string", "number", "array"… */
const char *dw_json_kind_name(dw_json_kind k);
/* dw_json_string unescapes a string into a copy that lives as long as the
 * instance (invalid UTF-8 becomes U+FFFD, as Go's encoding/json does). */
bool dw_json_string(dw_json v, dw_str *out);
/* dw_json_number parses a number; false for other kinds and for numbers
 * outside float64's range (1e400), as Go's encoding/json refuses them. */
bool dw_json_number(dw_json v, double *out);
bool dw_json_bool(dw_json v, bool *out);
/* dw_json_get returns member key of an object (the last one when repeated,
 * like Go); absent when v is not an object or has no such key. */
dw_json dw_json_get(dw_json obj, const char *key);

/* Iterating over an array or an object:
 *
 *     dw_json_iter it = dw_json_items(v);
 *     dw_json key, val;
 *     while (dw_json_next(&it, &key, &val)) …
 *
 * key is absent for array elements; it is the member's raw JSON string
 * (use dw_json_string) for objects. */
typedef struct dw_json_iter {
    const char *p, *end;
    char close;
} dw_json_iter;
dw_json_iter dw_json_items(dw_json v);
bool dw_json_next(dw_json_iter *it, dw_json *key, dw_json *val);

/* ---------------------------------------------------------------- */
/* Setup (bind time)                                                */

typedef struct dw_setup dw_setup;
typedef struct dw_batch dw_batch;

/* A stage's per-batch function. Return 0, or dw_fail(b, …) to fail the
 * whole batch with a message (the engine's error policy applies). */
typedef int (*dw_process_fn)(dw_batch *b);

/* The setup function the stage names with DW_STAGE. It returns the
 * process function, or NULL after recording why with dw_errorf. */
typedef dw_process_fn (*dw_setup_fn)(dw_setup *s);

/* DW_STAGE(setup) makes setup the module's stage. Use it once. */
#define DW_STAGE(fn) \
    dw_process_fn dw_stage_setup(dw_setup *s) { return fn(s); }
dw_process_fn dw_stage_setup(dw_setup *s);

/* One input column as the ABI names it: type is "int64", "utf8",
 * "timestamp[us,UTC]", "decimal128(10,2)"… (wasmabi/ABI.md). */
typedef struct dw_field {
    const char *name;
    const char *type;
    bool nullable;
} dw_field;

/* The pipeline step's name ("stages[1].wasm"), for messages. */
const char *dw_stage_name(const dw_setup *s);
/* The input schema: *n fields. */
const dw_field *dw_schema(const dw_setup *s, uint32_t *n);
/* dw_field_of finds input column name; NULL when there is none. */
const dw_field *dw_field_of(const dw_setup *s, const char *name);

/* Configuration: the stage's `config:` mapping. Each accessor returns
 * false when the key is absent or null (the variable keeps its default),
 * and records a setup error when the value has another type. A key that
 * setup never asks for is an error when setup returns ("unknown field"),
 * so a typo in a pipeline file fails `weave validate` — the Go SDK's
 * Config does the same. Keys match case-insensitively, as in Go. */
bool dw_config_string(dw_setup *s, const char *key, dw_str *out);
bool dw_config_number(dw_setup *s, const char *key, double *out);
bool dw_config_bool(dw_setup *s, const char *key, bool *out);
/* A list of strings: *out is an array of *n strings (null elements are ""). */
bool dw_config_strings(dw_setup *s, const char *key, dw_str **out, uint32_t *n);
/* Any value, for keys whose type varies (a string or a list of strings). */
dw_json dw_config_value(dw_setup *s, const char *key);

/* What a stage reads a column as. An integer kind also accepts the types
 * stored as it: DW_INT32 reads date32, DW_INT64 timestamps. DW_STRING
 * reads utf8, binary, large_utf8 and large_binary. */
typedef enum dw_kind {
    DW_BOOL = 1,
    DW_INT8,
    DW_INT16,
    DW_INT32,
    DW_INT64,
    DW_UINT8,
    DW_UINT16,
    DW_UINT32,
    DW_UINT64,
    DW_FLOAT32,
    DW_FLOAT64,
    DW_STRING,
    DW_DECIMAL128,
} dw_kind;

/* A declared input column. */
typedef struct dw_col {
    int32_t slot;
} dw_col;

/* dw_read declares that the stage reads column name as kind. A missing
 * column or a type that does not fit is recorded as a setup error, so a
 * setup function can declare all its columns and fail once. */
dw_col dw_read(dw_setup *s, const char *name, dw_kind kind);

/* A declared output column. */
typedef struct dw_out {
    int32_t slot;
} dw_out;

/* dw_write declares an output column of ABI type type ("int64",
 * "float64", "bool", "utf8", "binary", "timestamp[ms]", "decimal128(12,2)"…).
 * A name equal to an input column replaces it in place; other names are
 * appended in declaration order. String columns are written as utf8 or
 * binary: large_ types are refused (guest memory is 32-bit, so 64-bit
 * offsets would buy nothing). */
dw_out dw_write(dw_setup *s, const char *name, const char *type);

/* dw_filter declares that the stage drops rows (dw_drop, dw_keep_bits). */
void dw_filter(dw_setup *s);
/* dw_drop_column removes an input column from the stage's output. */
void dw_drop_column(dw_setup *s, const char *name);
/* dw_errorf records a setup error; the stage fails to bind with every
 * recorded message, joined by "; ". */
void dw_errorf(dw_setup *s, const char *fmt, ...) DW_PRINTF(2, 3);
/* dw_setup_failed reports whether an error has been recorded. */
bool dw_setup_failed(const dw_setup *s);

/* ---------------------------------------------------------------- */
/* Process (per batch)                                              */

/* The batch's row count. */
uint32_t dw_len(const dw_batch *b);

typedef struct dw_decimal128 {
    uint64_t lo;
    int64_t hi;
} dw_decimal128;

/* dw_view is a zero-copy view of an input column in one batch: pointers
 * into the region the host wrote the batch to. Use the member that
 * matches the kind the column was read as. */
typedef struct dw_view {
    uint32_t len; /* rows */
    /* Validity bitmap: bit i&7 of byte i>>3 is row i, 1 = not null; NULL
     * when the batch has no nulls in this column. */
    const uint8_t *validity;
    union {
        const void *values;
        const int8_t *i8;
        const int16_t *i16;
        const int32_t *i32;
        const int64_t *i64;
        const uint8_t *u8;
        const uint16_t *u16;
        const uint32_t *u32;
        const uint64_t *u64;
        const float *f32;
        const double *f64;
        const dw_decimal128 *dec;
        const uint8_t *bits; /* DW_BOOL: bit-packed like validity */
    };
    /* DW_STRING: row i is data[offsets[i] .. offsets[i+1]), offsets[0] is
     * 0. utf8 columns' offsets are the host's buffer itself; 64-bit
     * (large_) offsets are narrowed into an SDK buffer, since every value
     * lies in 32-bit guest memory anyway. */
    const int32_t *offsets;
    const uint8_t *data;
    uint32_t data_len;
} dw_view;

dw_view dw_view_of(dw_batch *b, dw_col c);

static inline bool dw_valid(const dw_view *v, uint32_t i) {
    return v->validity == NULL || (v->validity[i >> 3] >> (i & 7) & 1);
}
static inline dw_str dw_string(const dw_view *v, uint32_t i) {
    dw_str s = {(const char *)v->data + v->offsets[i], (uint32_t)(v->offsets[i + 1] - v->offsets[i])};
    return s;
}
static inline bool dw_bool(const dw_view *v, uint32_t i) { return v->bits[i >> 3] >> (i & 7) & 1; }

/* Fixed-width outputs. dw_values returns the column's buffer for batch b:
 * dw_len(b) values of the column's width, zeroed (bool: bit-packed,
 * (len+7)/8 bytes). Every row must be set or marked null. */
void *dw_values(dw_batch *b, dw_out o);
/* dw_set_null marks row i null. */
void dw_set_null(dw_batch *b, dw_out o, uint32_t i);
/* dw_validity returns the column's validity bitmap for a stage that sets
 * it a byte or a word at a time: (len+7)/8 bytes, all ones (not null)
 * when first asked for in a batch, rounded up to whole 8-byte words. */
uint8_t *dw_validity(dw_batch *b, dw_out o);
/* dw_set_bool sets bit i of a bitmap (a bool column's values, a validity,
 * a selection) to v. */
static inline void dw_set_bool(uint8_t *bits, uint32_t i, bool v) {
    bits[i >> 3] = (uint8_t)((bits[i >> 3] & ~(1u << (i & 7))) | ((unsigned)v << (i & 7)));
}

/* Variable-width (utf8, binary) outputs are built by appending one value
 * per row, in row order. The rows appended so far are data[offsets[i] ..
 * offsets[i+1]) for i < rows. The fields are public so a hot loop can
 * write rows without a call per row: after dw_room(w, total) it may write
 * each row at data + len, set offsets[rows + 1] = len + its length, and
 * store len and rows back at the end (transforms/c/mask); the SDK checks
 * that the batch got exactly nrows rows, the host checks the offsets. */
typedef struct dw_builder {
    uint8_t *data;
    uint32_t len; /* bytes used */
    uint32_t cap; /* bytes usable; DW_PAD more past cap may be scratch */
    int32_t *offsets;
    uint32_t rows;  /* rows appended */
    uint32_t nrows; /* rows the batch has */
    int32_t slot;
    dw_batch *batch;
} dw_builder;

dw_builder *dw_builder_of(dw_batch *b, dw_out o);
/* dw_room makes room for n more value bytes (plus DW_PAD bytes of
 * scratch past them) and returns where the next row's bytes go. */
uint8_t *dw_room(dw_builder *w, uint32_t n);
void dw_append_null(dw_builder *w);
void dw__append_slow(dw_builder *w, const void *p, uint32_t n);
void dw__bad_commit(dw_builder *w, uint32_t n);

/* dw_append adds the next row's value. */
static inline void dw_append(dw_builder *w, const void *p, uint32_t n) {
    if (w->rows >= w->nrows || w->cap - w->len < n) {
        dw__append_slow(w, p, n);
        return;
    }
    memcpy(w->data + w->len, p, n);
    w->len += n;
    w->offsets[++w->rows] = (int32_t)w->len;
}
static inline void dw_append_str(dw_builder *w, dw_str s) { dw_append(w, s.ptr, s.len); }

/* dw_commit ends the next row after its n bytes were written at
 * w->data + w->len (inside room made by dw_room). */
static inline void dw_commit(dw_builder *w, uint32_t n) {
    if (w->rows >= w->nrows || w->cap - w->len < n) {
        dw__bad_commit(w, n);
        return;
    }
    w->len += n;
    w->offsets[++w->rows] = (int32_t)w->len;
}

/* Selection. dw_drop leaves row i out of the output; dw_keep_bits
 * returns the selection bitmap for a stage that fills it a byte (8 rows)
 * or a word (64 rows) at a time: bit i&7 of byte i>>3 is row i, 1 = kept,
 * (len+7)/8 bytes rounded up to whole 8-byte words, bits past len
 * ignored. If dw_drop was not called in this batch the bitmap starts all
 * zero (every row dropped); otherwise it holds dw_drop's result so far.
 * Both need dw_filter at setup. */
void dw_drop(dw_batch *b, uint32_t i);
uint8_t *dw_keep_bits(dw_batch *b);

/* Per-row errors: row i is reported to the engine's error policy (fail,
 * skip, dead letter) with the message and left out of the output. */
void dw_reject(dw_batch *b, uint32_t i, const char *msg, uint32_t len);
void dw_rejectf(dw_batch *b, uint32_t i, const char *fmt, ...) DW_PRINTF(3, 4);

/* dw_fail fails the whole batch with a message; it returns -1, so a
 * process function can `return dw_fail(b, "…")`. */
int dw_fail(dw_batch *b, const char *fmt, ...) DW_PRINTF(2, 3);

/* ---------------------------------------------------------------- */
/* Logging and text                                                 */

/* Levels as the host's log/slog numbers them. */
enum { DW_DEBUG = -4, DW_INFO = 0, DW_WARN = 4, DW_ERROR = 8 };

/* One line to the host's log, tagged with the stage's name. */
void dw_log(int level, const char *msg, uint32_t len);
void dw_logf(int level, const char *fmt, ...) DW_PRINTF(2, 3);

/* dw_format_float writes x as Go's %v (strconv 'g', shortest) does —
 * "100", "1e+21", "0.015", "NaN", "+Inf" — so messages match the Go
 * transforms' byte for byte. buf needs 32 bytes; returns the length. */
int dw_format_float(char *buf, double x);

/* dw_utf8_len is the length of the UTF-8 sequence at p (n bytes
 * available, n >= 1), or 1 when it is not a valid one: Go's
 * utf8.DecodeRune width. */
uint32_t dw_utf8_len(const uint8_t *p, uint32_t n);

/* ---------------------------------------------------------------- */
/* ABI v2: emitted rows, end of input, state (wasmabi/ABI.md, Version 2) */

/* DW_STAGE_V2(setup) is DW_STAGE for a v2 stage: its process function
 * emits any number of rows per batch (dw_emit) instead of filling one
 * value per input row. Setup, reads, writes, views, dw_reject and dw_fail
 * work as in v1; dw_filter, dw_drop, dw_values and dw_builder_of do not
 * (a v2 stage keeps a row by emitting it). */
#define DW_STAGE_V2(fn)                                          \
    int32_t dw_stage_abi(void) { return 2; }                     \
    dw_process_fn dw_stage_setup(dw_setup *s) { return fn(s); }
int32_t dw_stage_abi(void);

/* DW_NO_ORIGIN: an emitted row that comes from no input row. */
#define DW_NO_ORIGIN 0xFFFFFFFFu

/* dw_drop_all (v2, at setup) drops every input column: the output is the
 * written columns only, so rows need no origin (an aggregate). Without
 * it, input columns pass through, taken from each row's origin. */
void dw_drop_all(dw_setup *s);

/* dw_emit starts an output row coming from input row origin (or
 * DW_NO_ORIGIN) and returns its index. Then give each written column one
 * value for it, in declaration order or not, with dw_put_*; a column left
 * without a value for a row fails the batch with a message naming it. */
uint32_t dw_emit(dw_batch *b, uint32_t origin);
void dw_put_int64(dw_batch *b, dw_out o, int64_t v);
void dw_put_int32(dw_batch *b, dw_out o, int32_t v);
void dw_put_float64(dw_batch *b, dw_out o, double v);
void dw_put_bool(dw_batch *b, dw_out o, bool v);
void dw_put_str(dw_batch *b, dw_out o, dw_str v);
void dw_put_null(dw_batch *b, dw_out o);

/* Structs (v2): dw_read_struct declares a read of a struct<…> column
 * whose fields are of v1 types; dw_struct_of views it in a batch, each
 * field a dw_view of the struct's rows, in the type's order. The fields'
 * names and types come from dw_struct_fields at setup. */
typedef struct dw_struct {
    uint32_t len;            /* rows */
    const uint8_t *validity; /* NULL: no null rows */
    uint32_t nfields;
    const dw_view *fields; /* nfields views of len rows */
} dw_struct;
dw_col dw_read_struct(dw_setup *s, const char *name);
dw_struct dw_struct_of(dw_batch *b, dw_col c);
static inline bool dw_struct_valid(const dw_struct *st, uint32_t i) {
    return st->validity == NULL || (st->validity[i >> 3] >> (i & 7) & 1);
}
/* dw_struct_fields returns the fields of a struct<…> type, or of the
 * items of a list<struct<…>> ("struct<a:int64,b:utf8>" gives a: int64
 * and b: utf8), as *n fields that live as long as the instance; NULL
 * when type is neither. */
const dw_field *dw_struct_fields(dw_setup *s, const char *type, uint32_t *n);

/* Lists (v2, wasmabi/ABI.md "Nested types"): dw_read_list declares a
 * read of a list<T> column whose items T fit kind items (as dw_read's
 * kinds fit types); dw_list_of views it in a batch. Row i's items are
 * rows offsets[i] .. offsets[i+1] of the view items (offsets[0] is 0);
 * read them with items' members as any column's. dw_read_list_struct
 * declares a read of a list<struct<…>> column (v1 fields): its items are
 * the struct view structs. */
typedef struct dw_list {
    uint32_t len; /* rows */
    const uint8_t *validity; /* NULL: no null rows */
    const int32_t *offsets;  /* len+1, from 0 */
    dw_view items;           /* offsets[len] rows */
    dw_struct structs;       /* dw_read_list_struct: the items */
} dw_list;
dw_col dw_read_list_struct(dw_setup *s, const char *name);
dw_col dw_read_list(dw_setup *s, const char *name, dw_kind items);
dw_list dw_list_of(dw_batch *b, dw_col c);
static inline bool dw_list_valid(const dw_list *l, uint32_t i) {
    return l->validity == NULL || (l->validity[i >> 3] >> (i & 7) & 1);
}
/* Nested output (v2, wasmabi/ABI.md "Nested types"): dw_write with a
 * type such as "list<int64>", "struct<sku:utf8,qty:int64>" or
 * "map<utf8,list<float64>>" (at most 4 levels) declares a nested output
 * column; dw_child (child i: a list's items 0, a map's keys 0 and values
 * 1, a struct's field i) or dw_field_out (a struct's field by name) give
 * its children at setup, as dw_outs the dw_put_* functions fill like
 * columns. Per emitted row:
 *
 *     dw_emit(b, i);
 *     dw_begin(b, items);                 // items: list<struct<sku,qty>>
 *     for (…) {
 *         dw_begin(b, item);              // item = dw_child(s, items, 0)
 *         dw_put_str(b, sku, …);          // sku = dw_field_out(s, item, "sku")
 *         dw_put_int64(b, qty, …);
 *         dw_end(b, item);
 *     }
 *     dw_end(b, items);
 *
 * A map row is dw_begin, a key then a value per entry (keys not null),
 * dw_end. dw_put_null makes a null row at any level (a null list has no
 * items; a null struct's fields get null rows). The SDK lays out the
 * offsets, validity and child descriptors, and stops the instance with a
 * message naming the column on misuse: a child's value outside
 * dw_begin/dw_end of its parent, a second value for a struct's field, a
 * struct row ended without a field's value, a map row with more keys
 * than values; a row begun and not ended fails the batch. */
dw_out dw_child(dw_setup *s, dw_out parent, uint32_t i);
dw_out dw_field_out(dw_setup *s, dw_out parent, const char *name);
void dw_begin(dw_batch *b, dw_out o);
void dw_end(dw_batch *b, dw_out o);
/* dw_put_list_* put a whole non-null list row of n fixed-width items. */
void dw_put_list_int64(dw_batch *b, dw_out o, const int64_t *v, uint32_t n);
void dw_put_list_int32(dw_batch *b, dw_out o, const int32_t *v, uint32_t n);
void dw_put_list_float64(dw_batch *b, dw_out o, const double *v, uint32_t n);

/* End of input: DW_FINISH(fn) exports dw_finish, which the host calls
 * once when the input has ended; fn emits what the stage held back (rows
 * with DW_NO_ORIGIN: there is no input row) and should forget it. */
#define DW_FINISH(fn) \
    __attribute__((export_name("dw_finish"))) uint32_t dw_finish(void) { return dw__finish(fn); }
uint32_t dw__finish(dw_process_fn fn);

/* State: DW_STATE(snapshot, restore) exports dw_snapshot and dw_restore.
 * At every checkpoint snapshot writes the stage's state with dw_state_put
 * (any layout: the host stores the bytes as they are); when a run
 * resumes, restore gets them back on a fresh instance, after setup and
 * before any batch, and returns NULL, or a message refusing them (a
 * layout it cannot read): never start from nothing silently. */
typedef struct dw_state dw_state;
typedef void (*dw_snapshot_fn)(dw_state *st);
typedef const char *(*dw_restore_fn)(const uint8_t *p, uint32_t n);
void dw_state_put(dw_state *st, const void *p, uint32_t n);
#define DW_STATE(snap, rest)                                                                       \
    bool dw__keeps_state(void) { return true; }                                                    \
    __attribute__((export_name("dw_snapshot"))) uint32_t dw_snapshot(void) { return dw__snapshot(snap); } \
    __attribute__((export_name("dw_restore"))) uint32_t dw_restore(uint32_t p, uint32_t n) {          \
        return dw__restore(rest, p, n);                                                            \
    }
uint32_t dw__snapshot(dw_snapshot_fn fn);
bool dw__keeps_state(void);
uint32_t dw__restore(dw_restore_fn fn, uint32_t p, uint32_t n);

/* Event time: when the pipeline declares an event-time column (the wasm
 * stage's event_time), dw_event_time returns its name at setup (NULL
 * otherwise), and after each batch the host calls the function named by
 * DW_WATERMARK(fn) with the watermark, the latest event time seen minus
 * the allowed lateness, whenever it has advanced: fn emits what the
 * watermark closes (rows with DW_NO_ORIGIN) and forgets it. Rows older
 * than the watermark may still arrive; what to do with them is the
 * stage's choice (window_agg rejects them). */
const char *dw_event_time(const dw_setup *s);
typedef int (*dw_watermark_fn)(dw_batch *b, int64_t watermark);
#define DW_WATERMARK(fn)                                                        \
    __attribute__((export_name("dw_watermark"))) uint32_t dw_watermark(uint32_t lo, uint32_t hi) { \
        return dw__watermark(fn, (int64_t)((uint64_t)hi << 32 | lo));          \
    }
uint32_t dw__watermark(dw_watermark_fn fn, int64_t wm);

/* dw_tumble is the start of the tumbling window of width w (> 0) that
 * holds t: floor division, so negative times (before the epoch) fall in
 * the window before 0, as they should. */
static inline int64_t dw_tumble(int64_t t, int64_t w) {
    int64_t r = t % w;
    return t - r - (r < 0 ? w : 0);
}

/* Sliding and session windows: dw_hop, dw_session_add (dw_window.h). */
#include "dw_window.h"

#ifdef __cplusplus
}
#endif
#endif
