/*
 * harness runs the C SDK's JSON reader, float formatter and UTF-8 decoder
 * natively for guest-sdk/c/sdktest, which compare its answers
 * with encoding/json, strconv and unicode/utf8.
 *
 *     harness selftest   C-side unit tests; prints "ok"
 *     harness json       frames of u32 length + bytes on stdin; one line
 *                        out per frame: "invalid", "range", or the
 *                        document in canonical form
 *     harness float      8-byte doubles on stdin; one line per value
 *     harness utf8       frames as for json; one line per frame with the
 *                        sequence length at each byte offset
 *     harness window     lines of "hop t w s": one line of the window
 *                        starts; or "session gap lateness t…": a line
 *                        per session closed by the watermark ("closed
 *                        start last"), per row behind it ("late t"), per
 *                        session open at the end ("open start last"),
 *                        then "end"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dw_internal.h"

_Noreturn void dw__die(const char *msg) {
    fprintf(stderr, "%s\n", msg);
    abort();
}

static int failures;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                          \
        }                                                                        \
    } while (0)

static dw_json doc(const char *s) {
    size_t off;
    const char *err = dwj_validate(s, strlen(s), &off);
    if (err != NULL) {
        dw_json none = {NULL, 0};
        return none;
    }
    return dwj_root(s, strlen(s));
}

static bool str_is(dw_json v, const char *want, size_t n) {
    dw_str s;
    return dw_json_string(v, &s) && s.len == n && memcmp(s.ptr, want, n) == 0 && s.ptr[n] == 0;
}

static void selftest(void) {
    dw_json d = doc(" {\"a\": 1, \"b\": [true, null, \"x\\u00e9\\ud83d\\ude00\"], \"a\": -2.5e1, \"A\": 7} ");
    CHECK(dw_json_type(d) == DW_JSON_OBJECT);
    double x = 0;
    CHECK(dw_json_number(dw_json_get(d, "a"), &x) && x == -25); /* last repeat wins */
    CHECK(dw_json_number(dw_json_get(d, "A"), &x) && x == 7);   /* dw_json_get is exact */
    CHECK(dw_json_type(dw_json_get(d, "c")) == DW_JSON_ABSENT);
    dw_json b = dw_json_get(d, "b"), e;
    dw_json_iter it = dw_json_items(b);
    bool t = false;
    CHECK(dw_json_next(&it, NULL, &e) && dw_json_bool(e, &t) && t);
    CHECK(dw_json_next(&it, NULL, &e) && dw_json_type(e) == DW_JSON_NULL);
    CHECK(dw_json_next(&it, NULL, &e) && str_is(e, "x\xc3\xa9\xf0\x9f\x98\x80", 7));
    CHECK(!dw_json_next(&it, NULL, &e) && dw_json_type(e) == DW_JSON_ABSENT);
    CHECK(!dw_json_next(&it, NULL, &e));

    /* Keys: escapes, ASCII folding for config lookups. */
    dw_json k = doc("\"C\\u006flumn\"");
    CHECK(dwj_key_is(k, "Column", false) && !dwj_key_is(k, "column", false) && dwj_key_is(k, "cOLUMN", true));

    /* Strings Go would coerce: lone surrogates and invalid UTF-8 → U+FFFD. */
    CHECK(str_is(doc("\"\\ud800x\""), "\xef\xbf\xbdx", 4));
    CHECK(str_is(doc("\"\\udc00\\ud800\\udc00\""), "\xef\xbf\xbd\xf0\x90\x80\x80", 7));
    CHECK(str_is(doc("\"a\xff" "b\""), "a\xef\xbf\xbd" "b", 5));
    CHECK(str_is(doc("\"\\u0000\""), "\0", 1));
    CHECK(str_is(doc("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""), "\"\\/\b\f\n\r\t", 8));

    /* Numbers outside float64 are refused, as Go refuses them. */
    CHECK(!dw_json_number(doc("1e400"), &x));
    CHECK(dw_json_number(doc("1e-400"), &x) && x == 0);
    CHECK(dw_json_number(doc("-0"), &x) && x == 0);

    /* Invalid documents, each with a message. */
    const char *bad[] = {"", " ", "{", "[1,]", "{\"a\"}", "{\"a\":}", "{a:1}", "01", "1.", ".5", "-", "1e", "+1",
                         "tru", "nul", "\"\\x\"", "\"\\u12\"", "\"a", "\"\x01\"", "[1 2]", "{} {}", "[]]", "nan"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t off;
        CHECK(dwj_validate(bad[i], strlen(bad[i]), &off) != NULL);
    }

    /* Writer. */
    dwj_buf w = {0};
    dwj_put_string(&w, "a\"\\\n\x01\xc3\xa9", 7);
    CHECK(strcmp(w.p, "\"a\\\"\\\\\\u000a\\u0001\xc3\xa9\"") == 0);

    /* Floats as Go's %v. */
    struct {
        double x;
        const char *want;
    } f[] = {{0, "0"},           {-0.0, "-0"},        {1, "1"},           {100, "100"},        {123456, "123456"},
             {1234567, "1.234567e+06"}, {1e21, "1e+21"}, {1e-4, "0.0001"}, {1e-5, "1e-05"},  {0.015, "0.015"},
             {9.3e16, "9.3e+16"}, {1e300, "1e+300"},  {5e-324, "5e-324"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
             {0.1, "0.1"},        {2.5, "2.5"},       {-1.125, "-1.125"}, {1.0 / 0.0, "+Inf"}, {-1.0 / 0.0, "-Inf"}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        char buf[32];
        dw_format_float(buf, f[i].x);
        if (strcmp(buf, f[i].want) != 0) {
            fprintf(stderr, "dw_format_float(%g) = %s, want %s\n", f[i].x, buf, f[i].want);
            failures++;
        }
    }
}

/* canon prints a validated value in the canonical form the Go test
 * builds: numbers as their float64 bits, strings as hex. Returns false
 * when a number is outside float64's range. */
static bool canon(dw_json v, dwj_buf *out) {
    dw_json k, e;
    dw_json_iter it;
    double x;
    dw_str s;
    switch (dw_json_type(v)) {
    case DW_JSON_NULL: dwj_puts(out, "null"); return true;
    case DW_JSON_BOOL: dwj_puts(out, v.ptr[0] == 't' ? "true" : "false"); return true;
    case DW_JSON_NUMBER: {
        if (!dw_json_number(v, &x)) return false;
        uint64_t bits;
        memcpy(&bits, &x, 8);
        dwj_printf(out, "n%016llx", (unsigned long long)bits);
        return true;
    }
    case DW_JSON_STRING:
        dw_json_string(v, &s);
        dwj_putc(out, 's');
        for (uint32_t i = 0; i < s.len; i++) dwj_printf(out, "%02x", (unsigned char)s.ptr[i]);
        free((void *)s.ptr);
        return true;
    case DW_JSON_ARRAY:
    case DW_JSON_OBJECT:
        dwj_putc(out, v.ptr[0]);
        it = dw_json_items(v);
        for (int i = 0; dw_json_next(&it, &k, &e); i++) {
            if (i) dwj_putc(out, ',');
            if (k.ptr) {
                if (!canon(k, out)) return false;
                dwj_putc(out, ':');
            }
            if (!canon(e, out)) return false;
        }
        dwj_putc(out, v.ptr[0] == '[' ? ']' : '}');
        return true;
    default: return false;
    }
}

static unsigned char *frame(size_t *n) {
    uint32_t len;
    if (fread(&len, 4, 1, stdin) != 1) return NULL;
    unsigned char *b = dw__xmalloc(len + 1);
    if (len && fread(b, 1, len, stdin) != len) return NULL;
    *n = len;
    return b;
}

/* windows answers dw_hop and dw_session_add requests (mode "window"). A
 * session request is one key's rows in arrival order; the watermark is
 * the largest time seen minus lateness, and rows at or behind it are
 * late, as window_agg treats them. */
static int windows(void) {
    static char line[1 << 20];
    while (fgets(line, sizeof line, stdin) != NULL) {
        char *p = line, *end;
        if (strncmp(p, "hop ", 4) == 0) {
            int64_t t = strtoll(p + 4, &end, 10), w = strtoll(end, &end, 10), s = strtoll(end, &end, 10);
            int64_t starts[64];
            uint32_t n = dw_hop(t, w, s, starts, 64);
            printf("%u", n);
            for (uint32_t i = 0; i < n && i < 64; i++) printf(" %lld", (long long)starts[i]);
            printf("\n");
        } else if (strncmp(p, "session ", 8) == 0) {
            int64_t gap = strtoll(p + 8, &end, 10), late = strtoll(end, &end, 10);
            dw_session s[256];
            uint32_t n = 0;
            bool seen = false;
            int64_t max = 0;
            for (;;) {
                p = end;
                int64_t t = strtoll(p, &end, 10);
                if (end == p) break;
                if (seen && t <= max - late) {
                    printf("late %lld\n", (long long)t);
                    continue;
                }
                if (dw_session_add(s, &n, 256, t, gap) < 0) {
                    printf("full\n");
                    continue;
                }
                if (!seen || t > max) max = t, seen = true;
                uint32_t k = dw_sessions_closed(s, n, max - late, gap);
                for (uint32_t i = 0; i < k; i++) printf("closed %lld %lld\n", (long long)s[i].start, (long long)s[i].last);
                memmove(s, s + k, (n - k) * sizeof *s);
                n -= k;
            }
            for (uint32_t i = 0; i < n; i++) printf("open %lld %lld\n", (long long)s[i].start, (long long)s[i].last);
            printf("end\n");
        } else {
            fprintf(stderr, "window: bad request %s", line);
            return 2;
        }
        fflush(stdout);
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "selftest") == 0) {
        selftest();
        printf(failures ? "FAIL\n" : "ok\n");
        return failures != 0;
    }
    if (strcmp(mode, "json") == 0) {
        size_t n, off;
        unsigned char *b;
        while ((b = frame(&n)) != NULL) {
            dwj_buf out = {0};
            if (dwj_validate((char *)b, n, &off) != NULL) dwj_puts(&out, "invalid");
            else if (!canon(dwj_root((char *)b, n), &out)) out.len = 0, dwj_puts(&out, "range");
            printf("%s\n", out.p);
            fflush(stdout);
            free(out.p);
            free(b);
        }
        return 0;
    }
    if (strcmp(mode, "float") == 0) {
        double x;
        char buf[32];
        while (fread(&x, 8, 1, stdin) == 1) {
            dw_format_float(buf, x);
            printf("%s\n", buf);
        }
        return 0;
    }
    if (strcmp(mode, "utf8") == 0) {
        size_t n;
        unsigned char *b;
        while ((b = frame(&n)) != NULL) {
            for (size_t i = 0; i < n; i++) printf("%u", dw_utf8_len(b + i, (uint32_t)(n - i)));
            printf("\n");
            fflush(stdout);
            free(b);
        }
        return 0;
    }
    if (strcmp(mode, "window") == 0) return windows();
    fprintf(stderr, "usage: harness selftest|json|float|utf8|window\n");
    return 2;
}
