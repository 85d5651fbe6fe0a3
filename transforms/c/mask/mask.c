/*
 * mask hides PII in string columns: the C version of transforms/mask,
 * with the same output. An email keeps the first character of its local
 * part and its domain ("alice@example.com" → "a***@example.com"); any
 * other value keeps its first character ("Alice" → "A***"); "" becomes
 * "***"; nulls stay null.
 *
 *     stages:
 *       - wasm: transforms/c/mask/mask.wasm
 *         config: {columns: [email]}
 *
 * Precisely (Go's split): the first character is a whole UTF-8 sequence
 * when it is a valid one, else one byte; the tail is everything from the
 * last '@' when that '@' is at byte index 1 or more.
 */
#include <stdlib.h>

#include "dataweaver.h"

static dw_col *ins;
static dw_out *outs;
static uint32_t ncols;

static inline uint64_t load64(const uint8_t *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* at_bits returns bit k set where byte k of w is '@'. The zero-byte test
 * is exact (no borrow between bytes) and the multiply gathers each byte's
 * flag into the top byte without carries. */
static inline uint32_t at_bits(uint64_t w) {
    const uint64_t low7 = 0x7f7f7f7f7f7f7f7full;
    uint64_t x = w ^ 0x4040404040404040ull;
    uint64_t z = ~(((x & low7) + low7) | x | low7);
    return (uint32_t)(((z >> 7) * 0x0102040810204080ull) >> 56);
}

/* last_at is the index of the last '@' in s[0..n), or -1: eight bytes per
 * step (under a stage timeout each loop iteration is an exit). */
static int64_t last_at(const uint8_t *s, uint32_t n) {
    uint32_t i = n;
    for (; i >= 8; i -= 8) {
        uint32_t m = at_bits(load64(s + i - 8));
        if (m) return (int64_t)i - 8 + (31 - __builtin_clz(m));
    }
    while (i > 0)
        if (s[--i] == '@') return i;
    return -1;
}

/* mask_any writes the masked form of any value s[0..n) to dst and returns
 * its length (at most n + 4). It is the slow path: not inlined. */
static __attribute__((noinline)) uint32_t mask_any(const uint8_t *s, uint32_t n, uint8_t *dst) {
    if (n == 0) {
        memcpy(dst, "***", 3);
        return 3;
    }
    uint32_t head = s[0] < 0x80 ? 1 : dw_utf8_len(s, n);
    int64_t at = last_at(s, n);
    uint32_t tail = 0;
    if (at > 0) {
        if ((uint32_t)at < head) head = (uint32_t)at;
        tail = n - (uint32_t)at;
    }
    memcpy(dst, s, head);
    memcpy(dst + head, "***", 3);
    memcpy(dst + head + 3, s + n - tail, tail);
    return head + 3 + tail;
}

/* mask_value writes row s[0..n) masked at dst and returns its length. A
 * value of 1-32 bytes starting with an ASCII byte (almost every email)
 * takes the fast path: its last '@' at index 1 or more comes from the four
 * words ending at its end, and the output is one 4-byte store and a
 * 32-byte copy, with no loop and no call. The reads may reach 32 bytes
 * past either end of the value and the copy may write 32 bytes past the
 * row: DW_PAD allows the first, dw_room's scratch the second, and the next
 * row overwrites it. */
static inline __attribute__((always_inline)) uint32_t mask_value(const uint8_t *s, uint32_t n, uint8_t *dst) {
    if (n - 1 >= 32 || s[0] >= 0x80) return mask_any(s, n, dst);
    const uint8_t *base = s + n - 32;
    uint32_t m = at_bits(load64(base)) | at_bits(load64(base + 8)) << 8 | at_bits(load64(base + 16)) << 16 |
                 at_bits(load64(base + 24)) << 24;
    m &= (uint32_t)(~0ull << (33 - n)); /* only bytes at index 1 or more of the value */
    uint32_t head = s[0] | (uint32_t)'*' << 8 | (uint32_t)'*' << 16 | (uint32_t)'*' << 24;
    memcpy(dst, &head, 4);
    if (m == 0) return 4;
    uint32_t at = 31 - (uint32_t)__builtin_clz(m);
    memcpy(dst + 4, base + at, 32); /* fixed size: four 8-byte loads and stores */
    return 4 + 32 - at;
}

/* mask_column writes one column's rows straight into the builder's
 * buffers (its public fields), keeping the write position in locals: the
 * room for every row is made once, so no row needs a check, and the
 * compiler need not reload the builder after each store. */
static void mask_column(dw_batch *b, dw_out col, const dw_view *v) {
    dw_builder *w = dw_builder_of(b, col);
    uint32_t n = v->len;
    dw_room(w, 4 * n + v->data_len); /* a row's output is at most 4 bytes longer */
    uint8_t *data = w->data;
    int32_t *offs = w->offsets;
    const int32_t *in = v->offsets;
    const uint8_t *src = v->data, *valid = v->validity;
    uint32_t len = w->len, i = 0;
#define ROW(i)                                                                                \
    do {                                                                                      \
        if (valid != NULL && !(valid[(i) >> 3] >> ((i) & 7) & 1)) {                           \
            dw_set_null(b, col, (i));                                                         \
        } else {                                                                              \
            len += mask_value(src + in[i], (uint32_t)(in[(i) + 1] - in[i]), data + len);      \
        }                                                                                     \
        offs[(i) + 1] = (int32_t)len;                                                         \
    } while (0)
    /* Eight rows per iteration: an eighth of the exits under a timeout
     * (sixteen measured no faster). */
    for (; i + 8 <= n; i += 8) {
        ROW(i);
        ROW(i + 1);
        ROW(i + 2);
        ROW(i + 3);
        ROW(i + 4);
        ROW(i + 5);
        ROW(i + 6);
        ROW(i + 7);
    }
    for (; i < n; i++) ROW(i);
#undef ROW
    w->len = len;
    w->rows = n;
}

static int process(dw_batch *b) {
    for (uint32_t c = 0; c < ncols; c++) {
        dw_view v = dw_view_of(b, ins[c]);
        mask_column(b, outs[c], &v);
    }
    return 0;
}

static dw_process_fn setup(dw_setup *s) {
    dw_str *names = NULL;
    if (!dw_config_strings(s, "columns", &names, &ncols) || ncols == 0) {
        if (!dw_setup_failed(s)) dw_errorf(s, "config: columns: name at least one string column to mask");
        return NULL;
    }
    ins = calloc(ncols, sizeof *ins);
    outs = calloc(ncols, sizeof *outs);
    if (ins == NULL || outs == NULL) return NULL;
    for (uint32_t i = 0; i < ncols; i++) {
        ins[i] = dw_read(s, names[i].ptr, DW_STRING);
        outs[i] = dw_write(s, names[i].ptr, "utf8");
    }
    return process;
}

DW_STAGE(setup)
