/*
 * dw_json.c — the SDK's JSON reader and writer, its allocation helpers,
 * and UTF-8 decoding as Go does it (dw_float.c prints numbers as Go).
 *
 * The bind request is the only JSON a stage reads. It is validated once,
 * in full, by an iterative scanner (no recursion: a hostile document
 * nested 10,000 deep must not overflow the 64 KiB Wasm stack); the
 * accessors then walk the validated text lazily, without building a tree,
 * because a setup function asks for a handful of keys once per instance.
 * Everything here is plain C so that it is tested natively
 * (guest-sdk/c/sdktest) against Go's
 * encoding/json and strconv.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dw_internal.h"

/* ---------------------------------------------------------------- */
/* Allocation                                                       */

void *dw__xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (p == NULL) dw__die("dataweaver: out of memory");
    return p;
}

void *dw__xrealloc(void *p, size_t n) {
    p = realloc(p, n ? n : 1);
    if (p == NULL) dw__die("dataweaver: out of memory");
    return p;
}

char *dw__xstrndup(const char *s, size_t n) {
    char *p = dw__xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

/* ---------------------------------------------------------------- */
/* Validation                                                       */

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && is_ws(*p)) p++;
    return p;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* scan_string checks the string at p (which is '"') and returns the byte
 * after its closing quote, or NULL with *err set. */
static const char *scan_string(const char *p, const char *end, const char **err) {
    p++;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') return p + 1;
        if (c < 0x20) {
            *err = "control character in string";
            return NULL;
        }
        if (c != '\\') {
            p++;
            continue;
        }
        if (end - p < 2) break;
        switch (p[1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            p += 2;
            continue;
        case 'u':
            if (end - p < 6 || hexval(p[2]) < 0 || hexval(p[3]) < 0 || hexval(p[4]) < 0 || hexval(p[5]) < 0) {
                *err = "bad \\u escape in string";
                return NULL;
            }
            p += 6;
            continue;
        }
        *err = "bad escape in string";
        return NULL;
    }
    *err = "unterminated string";
    return NULL;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static const char *scan_number(const char *p, const char *end, const char **err) {
    if (p < end && *p == '-') p++;
    if (p < end && *p == '0') {
        p++;
    } else if (p < end && *p >= '1' && *p <= '9') {
        while (p < end && is_digit(*p)) p++;
    } else {
        *err = "bad number";
        return NULL;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !is_digit(*p)) {
            *err = "bad number";
            return NULL;
        }
        while (p < end && is_digit(*p)) p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || !is_digit(*p)) {
            *err = "bad number";
            return NULL;
        }
        while (p < end && is_digit(*p)) p++;
    }
    return p;
}

static const char *scan_literal(const char *p, const char *end, const char *lit, const char **err) {
    size_t n = strlen(lit);
    if ((size_t)(end - p) < n || memcmp(p, lit, n) != 0) {
        *err = "invalid literal";
        return NULL;
    }
    return p + n;
}

const char *dwj_validate(const char *start, size_t n, size_t *off) {
    static unsigned char kinds[DWJ_MAX_DEPTH / 8 + 1]; /* bit set: object */
    const char *p = start, *end = start + n, *err = NULL;
    int depth = 0;

    p = skip_ws(p, end);
value:
    if (p >= end) {
        err = "unexpected end of input";
        goto fail;
    }
    switch (*p) {
    case '{':
    case '[': {
        bool obj = *p == '{';
        if (depth == DWJ_MAX_DEPTH) {
            err = "exceeded max depth";
            goto fail;
        }
        if (obj) kinds[depth >> 3] |= (unsigned char)(1u << (depth & 7));
        else kinds[depth >> 3] &= (unsigned char)~(1u << (depth & 7));
        depth++;
        p = skip_ws(p + 1, end);
        if (p < end && *p == (obj ? '}' : ']')) {
            depth--;
            p++;
            goto after;
        }
        if (!obj) goto value;
        goto key;
    }
    default: {
        const char *q;
        switch (*p) {
        case '"': q = scan_string(p, end, &err); break;
        case 't': q = scan_literal(p, end, "true", &err); break;
        case 'f': q = scan_literal(p, end, "false", &err); break;
        case 'n': q = scan_literal(p, end, "null", &err); break;
        default: q = scan_number(p, end, &err); break;
        }
        if (q == NULL) goto fail;
        p = q;
    }
    }
after:
    p = skip_ws(p, end);
    if (depth == 0) {
        if (p != end) {
            err = "data after the top-level value";
            goto fail;
        }
        return NULL;
    }
    if (p >= end) {
        err = "unexpected end of input";
        goto fail;
    }
    {
        bool obj = kinds[(depth - 1) >> 3] >> ((depth - 1) & 7) & 1;
        if (*p == ',') {
            p = skip_ws(p + 1, end);
            if (obj) goto key;
            goto value;
        }
        if (*p == (obj ? '}' : ']')) {
            depth--;
            p++;
            goto after;
        }
        err = obj ? "want ',' or '}' after object member" : "want ',' or ']' after array element";
        goto fail;
    }
key:
    if (p >= end || *p != '"') {
        err = "want a string key";
        goto fail;
    }
    {
        const char *q = scan_string(p, end, &err);
        if (q == NULL) goto fail;
        p = skip_ws(q, end);
    }
    if (p >= end || *p != ':') {
        err = "want ':' after object key";
        goto fail;
    }
    p = skip_ws(p + 1, end);
    goto value;

fail:
    *off = (size_t)(p - start);
    return err;
}

/* ---------------------------------------------------------------- */
/* Walking validated text                                           */

/* skip_value returns the end of the validated value at p. */
static const char *skip_value(const char *p, const char *end) {
    const char *err;
    if (p >= end) return end;
    if (*p == '"') {
        const char *q = scan_string(p, end, &err);
        return q ? q : end;
    }
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p < end) {
            char c = *p;
            if (c == '"') {
                const char *q = scan_string(p, end, &err);
                if (q == NULL) return end;
                p = q;
                continue;
            }
            if (c == '{' || c == '[') depth++;
            if (c == '}' || c == ']') {
                if (--depth == 0) return p + 1;
            }
            p++;
        }
        return end;
    }
    while (p < end && !is_ws(*p) && *p != ',' && *p != ']' && *p != '}' && *p != ':') p++;
    return p;
}

dw_json dwj_root(const char *p, size_t n) {
    const char *end = p + n;
    p = skip_ws(p, end);
    const char *q = skip_value(p, end);
    dw_json v = {p, (uint32_t)(q - p)};
    if (q == p) v.ptr = NULL;
    return v;
}

dw_json_kind dw_json_type(dw_json v) {
    if (v.ptr == NULL || v.len == 0) return DW_JSON_ABSENT;
    switch (v.ptr[0]) {
    case 'n': return DW_JSON_NULL;
    case 't': case 'f': return DW_JSON_BOOL;
    case '"': return DW_JSON_STRING;
    case '[': return DW_JSON_ARRAY;
    case '{': return DW_JSON_OBJECT;
    }
    return DW_JSON_NUMBER;
}

const char *dw_json_kind_name(dw_json_kind k) {
    static const char *const names[] = {"nothing", "null", "bool", "number", "string", "array", "object"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

dw_json_iter dw_json_items(dw_json v) {
    dw_json_iter it = {NULL, NULL, 0};
    dw_json_kind k = dw_json_type(v);
    if ((k == DW_JSON_ARRAY || k == DW_JSON_OBJECT) && v.len >= 2) {
        it.p = v.ptr + 1;
        it.end = v.ptr + v.len - 1;
        it.close = k == DW_JSON_OBJECT ? '}' : ']';
    }
    return it;
}

bool dw_json_next(dw_json_iter *it, dw_json *key, dw_json *val) {
    dw_json none = {NULL, 0};
    if (key) *key = none;
    if (val) *val = none;
    if (it->p == NULL) return false;
    const char *p = skip_ws(it->p, it->end);
    if (p < it->end && *p == ',') p = skip_ws(p + 1, it->end);
    if (p >= it->end) {
        it->p = it->end;
        return false;
    }
    if (it->close == '}') {
        const char *q = skip_value(p, it->end);
        if (key) {
            key->ptr = p;
            key->len = (uint32_t)(q - p);
        }
        p = skip_ws(q, it->end);
        if (p < it->end && *p == ':') p++;
        p = skip_ws(p, it->end);
    }
    const char *q = skip_value(p, it->end);
    if (val) {
        val->ptr = p;
        val->len = (uint32_t)(q - p);
    }
    it->p = q;
    return q > p;
}

/* ---------------------------------------------------------------- */
/* Unescaping                                                       */

uint32_t dw_utf8_len(const uint8_t *p, uint32_t n) {
    uint8_t c = p[0];
    if (c < 0x80) return 1;
    /* Go's utf8 acceptance ranges: no overlongs, no surrogates, ≤ U+10FFFF. */
    uint8_t lo = 0x80, hi = 0xBF;
    uint32_t w;
    if (c >= 0xC2 && c <= 0xDF) {
        w = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        w = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        w = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 1;
    }
    if (n < w || p[1] < lo || p[1] > hi) return 1;
    for (uint32_t i = 2; i < w; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 1;
    return w;
}

static size_t put_rune(char *out, uint32_t r) {
    if (r < 0x80) {
        out[0] = (char)r;
        return 1;
    }
    if (r < 0x800) {
        out[0] = (char)(0xC0 | r >> 6);
        out[1] = (char)(0x80 | (r & 0x3F));
        return 2;
    }
    if (r < 0x10000) {
        out[0] = (char)(0xE0 | r >> 12);
        out[1] = (char)(0x80 | (r >> 6 & 0x3F));
        out[2] = (char)(0x80 | (r & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | r >> 18);
    out[1] = (char)(0x80 | (r >> 12 & 0x3F));
    out[2] = (char)(0x80 | (r >> 6 & 0x3F));
    out[3] = (char)(0x80 | (r & 0x3F));
    return 4;
}

static int32_t u4(const char *p, const char *end) {
    if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return -1;
    int32_t r = 0;
    for (int i = 2; i < 6; i++) {
        int h = hexval(p[i]);
        if (h < 0) return -1;
        r = r << 4 | h;
    }
    return r;
}

/* unescape writes the string at v (validated, with quotes) to out, which
 * has room for 3*v.len bytes, as Go's encoding/json unquotes it. */
static size_t unescape(dw_json v, char *out) {
    const char *p = v.ptr + 1, *end = v.ptr + v.len - 1;
    size_t w = 0;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '\\' && end - p >= 2) {
            char e = p[1];
            p += 2;
            switch (e) {
            case 'b': out[w++] = '\b'; continue;
            case 'f': out[w++] = '\f'; continue;
            case 'n': out[w++] = '\n'; continue;
            case 'r': out[w++] = '\r'; continue;
            case 't': out[w++] = '\t'; continue;
            case 'u': break;
            default: out[w++] = e; continue;
            }
            int32_t r = u4(p - 2, end);
            if (r < 0) break; /* cannot happen in validated text */
            p += 4;
            if (r >= 0xD800 && r < 0xE000) {
                int32_t r2 = u4(p, end);
                if (r < 0xDC00 && r2 >= 0xDC00 && r2 < 0xE000) {
                    r = 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00);
                    p += 6;
                } else {
                    r = 0xFFFD;
                }
            }
            w += put_rune(out + w, (uint32_t)r);
            continue;
        }
        if (c < 0x80) {
            out[w++] = (char)c;
            p++;
            continue;
        }
        uint32_t n = dw_utf8_len((const uint8_t *)p, (uint32_t)(end - p));
        if (n == 1) {
            w += put_rune(out + w, 0xFFFD);
        } else {
            memcpy(out + w, p, n);
            w += n;
        }
        p += n;
    }
    return w;
}

bool dw_json_string(dw_json v, dw_str *out) {
    if (dw_json_type(v) != DW_JSON_STRING || v.len < 2) return false;
    char *buf = dw__xmalloc(3 * (size_t)v.len + 1);
    size_t n = unescape(v, buf);
    buf[n] = 0;
    out->ptr = buf;
    out->len = (uint32_t)n;
    return true;
}

bool dwj_key_is(dw_json key, const char *want, bool fold) {
    char small[256];
    if (dw_json_type(key) != DW_JSON_STRING || key.len < 2) return false;
    size_t need = 3 * (size_t)key.len + 1;
    char *buf = need <= sizeof small ? small : dw__xmalloc(need);
    size_t n = unescape(key, buf);
    size_t wn = strlen(want);
    bool eq = n == wn;
    for (size_t i = 0; eq && i < n; i++) {
        unsigned char a = (unsigned char)buf[i], b = (unsigned char)want[i];
        if (fold) {
            if (a >= 'A' && a <= 'Z') a += 'a' - 'A';
            if (b >= 'A' && b <= 'Z') b += 'a' - 'A';
        }
        eq = a == b;
    }
    if (buf != small) free(buf);
    return eq;
}

dw_json dw_json_get(dw_json obj, const char *key) {
    dw_json found = {NULL, 0}, k, v;
    if (dw_json_type(obj) != DW_JSON_OBJECT) return found;
    dw_json_iter it = dw_json_items(obj);
    while (dw_json_next(&it, &k, &v))
        if (dwj_key_is(k, key, false)) found = v;
    return found;
}

bool dw_json_number(dw_json v, double *out) {
    char small[64];
    if (dw_json_type(v) != DW_JSON_NUMBER) return false;
    char *buf = v.len < sizeof small ? small : dw__xmalloc((size_t)v.len + 1);
    memcpy(buf, v.ptr, v.len);
    buf[v.len] = 0;
    char *endp;
    double x = strtod(buf, &endp);
    bool ok = endp == buf + v.len && !isinf(x);
    if (buf != small) free(buf);
    if (ok) *out = x;
    return ok;
}

bool dw_json_bool(dw_json v, bool *out) {
    if (dw_json_type(v) != DW_JSON_BOOL) return false;
    *out = v.ptr[0] == 't';
    return true;
}

/* ---------------------------------------------------------------- */
/* Writing                                                          */

void dwj_put(dwj_buf *b, const void *p, size_t n) {
    if (b->cap - b->len < n + 1) {
        size_t c = b->cap ? b->cap : 256;
        while (c - b->len < n + 1) c *= 2;
        b->p = dw__xrealloc(b->p, c);
        b->cap = c;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
}

void dwj_puts(dwj_buf *b, const char *s) { dwj_put(b, s, strlen(s)); }
void dwj_putc(dwj_buf *b, char c) { dwj_put(b, &c, 1); }

void dwj_put_string(dwj_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    dwj_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        dwj_put(b, s + run, i - run);
        run = i + 1;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            dwj_put(b, e, 2);
        } else {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            dwj_put(b, e, 6);
        }
    }
    dwj_put(b, s + run, n - run);
    dwj_putc(b, '"');
}

void dwj_vprintf(dwj_buf *b, const char *fmt, va_list ap) {
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n < sizeof small) {
        dwj_put(b, small, (size_t)n);
    } else {
        char *big = dw__xmalloc((size_t)n + 1);
        vsnprintf(big, (size_t)n + 1, fmt, ap2);
        dwj_put(b, big, (size_t)n);
        free(big);
    }
    va_end(ap2);
}

void dwj_printf(dwj_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    dwj_vprintf(b, fmt, ap);
    va_end(ap);
}
