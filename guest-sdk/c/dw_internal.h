/*
 * dw_internal.h — what the SDK's own files share; not for stages.
 * dw_json.c is plain C with no Wasm in it, so the native tests
 * (guest-sdk/c/sdktest) compile it for the host.
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

#endif
