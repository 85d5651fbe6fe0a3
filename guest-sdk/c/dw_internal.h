/*
 * dw_internal.h — what the SDK's own files share; not for stages.
 * dw_json.c is plain C with no Wasm in it, so the native tests
 * (guest-sdk/c/sdktest) compile it for the host; dataweaver.c (the ABI),
 * dw_setup.c and dw_batch.c share the instance's state below.
 */
#ifndef DW_INTERNAL_H
#define DW_INTERNAL_H

#include "dataweaver.h"

/* Go's encoding/json nesting limit: deeper documents are refused by both. */
#define DWJ_MAX_DEPTH 10000

/* dwj_validate checks that p[0..n) is one JSON value with optional
 * whitespace around it (RFC 8259, as Go's encoding/json reads it). It
 * returns NULL, or a message with *off set to the byte where it failed. */
const char *dwj_validate(const char *p, size_t n, size_t *off);

/* dwj_root is the value in a validated document p[0..n). */
dw_json dwj_root(const char *p, size_t n);

/* dwj_key_is compares an object key (a raw JSON string) with want after
 * unescaping; fold ignores ASCII case, as Go matches struct fields. */
bool dwj_key_is(dw_json key, const char *want, bool fold);

/* A growable byte buffer for writing JSON and messages. */
typedef struct dwj_buf {
    char *p;
    size_t len, cap;
} dwj_buf;

void dwj_put(dwj_buf *b, const void *p, size_t n);
void dwj_puts(dwj_buf *b, const char *s);
void dwj_putc(dwj_buf *b, char c);
/* dwj_put_string writes s[0..n) as a quoted JSON string. */
void dwj_put_string(dwj_buf *b, const char *s, size_t n);
void dwj_vprintf(dwj_buf *b, const char *fmt, va_list ap);
void dwj_printf(dwj_buf *b, const char *fmt, ...) DW_PRINTF(2, 3);

/* Allocation that cannot fail: out of memory stops the instance (a trap,
 * which the host reports and answers with a fresh instance), because a
 * NULL pointer in Wasm is address 0, writable, and would corrupt memory
 * silently instead. */
void *dw__xmalloc(size_t n);
void *dw__xrealloc(void *p, size_t n);
char *dw__xstrndup(const char *s, size_t n);
/* dw__die writes msg to stderr (the host appends it to the trap error)
 * and traps. */
_Noreturn void dw__die(const char *msg);

/* ---------------------------------------------------------------- */
/* State shared by dataweaver.c (the ABI), dw_setup.c and dw_batch.c */

/* Type codes of the column descriptors. */
enum {
    DW_CODE_BOOL = 1,
    DW_CODE_UTF8 = 12,
    DW_CODE_BINARY = 13,
    DW_CODE_LARGE_UTF8 = 14,
    DW_CODE_LARGE_BINARY = 15,
    DW_CODE_TIMESTAMP = 17,
    DW_CODE_DECIMAL128 = 18,
    DW_CODE_LIST = 19, /* v2's nested types (wasmabi/ABI.md) */
    DW_CODE_STRUCT = 20,
    DW_CODE_MAP = 21,
};

/* dw__type_code maps an ABI type name to its descriptor code and value
 * width in bytes (0 for bool and variable-width types); code 0 is unknown. */
uint8_t dw__type_code(const char *t, uint8_t *width);

/* DW_GROW doubles arr's capacity when it is full. */
#define DW_GROW(arr, n, cap)                                             \
    do {                                                                 \
        if ((n) == (cap)) {                                              \
            (cap) = (cap) ? 2 * (cap) : 8;                               \
            (arr) = dw__xrealloc((arr), (size_t)(cap) * sizeof *(arr));  \
        }                                                                \
    } while (0)

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
    bool drop_all;          /* v2 */
    const char *event_time; /* v2: the declared event-time column, or NULL */
    dwj_buf errs;
    uint32_t nerrs;
};

struct dw__in_col {
    uint8_t code;
    dw_view view;
    int32_t *offs; /* narrowed or rebased offsets */
    uint32_t offs_cap;
    /* a list column (dw_read_list): its rows' offsets (rebased to 0)
     * and validity, and its items as a column of their own */
    dw_list list;
    int32_t *list_offs;
    uint32_t list_offs_cap;
    struct dw__in_col *item;
    /* a struct column (dw_read_struct, or a list's items): its fields,
     * each a column of the struct's rows */
    dw_struct st;
    struct dw__in_col *fields;
    dw_view *field_views;
    uint32_t nfields;
};

struct dw__out_col {
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

struct dw__row_err {
    uint32_t row, off, len;
};

struct dw_batch {
    uint32_t n;
    uint8_t *sel;
    uint32_t sel_cap;
    bool sel_set;
    struct dw__row_err *errs;
    uint32_t nerrs, errs_cap;
    dwj_buf msgs;
    dwj_buf fail;
    bool failed;
};

/* dw__g is the instance's state: one bind, one batch at a time. */
struct dw__state {
    uint8_t *arena_raw, *arena;
    uint32_t arena_len;
    dwj_buf resp;
    dw_setup setup;
    dw_process_fn process;
    struct dw__in_col *ins;
    uint32_t nins;
    struct dw__out_col *outs;
    uint32_t nouts;
    dw_batch batch;
    uint32_t result[10];
    uint32_t *out_desc, out_desc_cap;
    uint32_t *err_desc, err_desc_cap;
};
extern struct dw__state dw__g;

static inline uint32_t dw__addr(const void *p) { return (uint32_t)(uintptr_t)p; }

/* dw__run_setup reads the bind request's schema and config into s and
 * runs the stage's setup function: the error message, or NULL with the
 * process function in *fn (dw_setup.c). */
const char *dw__run_setup(dw_setup *s, dw_json root, dw_process_fn *fn);

/* dw__failed makes the result of a failed call (v1 and v2 share its
 * first words). */
uint32_t dw__failed(const char *msg);
/* ABI v2 (dw_v2.c): dw__v2_begin readies the emit buffers for a call,
 * dw__v2_result describes what the call emitted. */
void dw__v2_begin(dw_batch *b);
uint32_t dw__v2_result(dw_batch *b);

/* One emitted column of a v2 call, or one child of a nested one (a
 * list's items, a struct's field, a map's keys or values): fixed-width
 * values or utf8/binary (list, map) offsets and bytes, a validity bitmap
 * once a null is put, and how many rows have a value. */
struct dw__v2col {
    uint8_t *vals;
    uint32_t len, cap; /* bytes */
    int32_t *offs;
    uint32_t offs_cap; /* entries */
    uint8_t *valid;
    uint32_t valid_cap; /* bytes */
    bool has_null;
    uint32_t rows;
};
/* dw__v2_col returns the column a put on o writes, with its type code and
 * width, after checking that o may take a value for the row. */
struct dw__v2col *dw__v2_col(dw_out o, uint8_t *code, uint8_t *width);
void dw__v2_grow(void **p, uint32_t *cap, uint64_t need, uint32_t size);
/* dw__v2_null_bit clears the validity bit of the column's next row. */
void dw__v2_null_bit(struct dw__v2col *c);
/* dw__v2_valid_room makes the bitmap n bytes or more, new bytes valid. */
void dw__v2_valid_room(struct dw__v2col *c, uint64_t n);
/* dw__v2_put_empty appends a row without a value (after dw__v2_null_bit):
 * an empty string, false, zero bytes. */
void dw__v2_put_empty(struct dw__v2col *c, uint8_t code, uint8_t width);

/* Nested output (dw_nested_out.c). The children of a nested output
 * column are nodes numbered from 0; a dw_out naming one has slot
 * DW_NODE_BASE + its number, so dw_put_* write children as columns. */
#define DW_NODE_BASE 0x10000
/* dw__nested_declare builds the nodes of output slot's nested type,
 * recording errors in s. */
/* dw__struct_fields parses the fields of a struct<…> type name (t[0..n))
 * into a new array of *nf fields, or returns NULL when it is not one. */
dw_field *dw__struct_fields(const char *t, size_t n, uint32_t *nf);
void dw__nested_declare(dw_setup *s, int32_t slot, const char *name, const char *type);
/* dw__nested_col returns the column a put on o writes to, with its type
 * code and width, after checking that o may take a value now. */
struct dw__v2col *dw__nested_col(dw_out o, uint8_t *code, uint8_t *width);
/* dw__nested_begin resets the nodes for a call; dw__nested_null fills a
 * null row of a nested column c of slot or node o (its children get
 * theirs); dw__nested_desc fills a top-level nested column's descriptor
 * words 4-6 and its children's blocks, or returns why the call fails. */
void dw__nested_begin(struct dw__v2col *tops);
void dw__nested_null(dw_out o, struct dw__v2col *c);
const char *dw__nested_desc(uint32_t slot, struct dw__v2col *c, uint32_t *d);

#endif
