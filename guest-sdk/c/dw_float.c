/*
 * dw_float.c — float64 as Go's %v prints it, so the C transforms' messages
 * are the Go ones byte for byte. Plain C, tested natively against fmt
 * (guest-sdk/c/sdktest).
 *
 * Shortest digits by Ryū (Ulf Adams, PLDI 2018), the algorithm Go's
 * strconv uses for %v, so the digits are the same: the fewest that read
 * back as x, the closest to x among those. It is written from the paper;
 * the two tables of 125-bit powers of five are computed at first use from
 * a small big integer instead of being compiled in (10 KiB less module,
 * ~10^4 loop iterations once per instance). printf and strtod could find
 * the same digits, but their big-number loops cost ~300 µs per value
 * under a stage timeout, where every loop iteration exits to the host.
 */
#include <math.h>
#include <string.h>

#include "dataweaver.h"

typedef unsigned __int128 u128;

#define POW5_N 326 /* 5^i,   i up to 1076-751 (smallest subnormal) */
#define POW5_INV_N 292 /* 2^k/5^q, q up to log10(2^969) */
static uint64_t pow5[POW5_N][2], pow5_inv[POW5_INV_N][2];
static bool tables_ready;

/* pow5bits(e) is the bit length of 5^e (0 <= e <= 3528). */
static int32_t pow5bits(int32_t e) { return (int32_t)(((uint32_t)e * 1217359u) >> 19) + 1; }
static uint32_t log10_pow2(int32_t e) { return ((uint32_t)e * 78913u) >> 18; }
static uint32_t log10_pow5(int32_t e) { return ((uint32_t)e * 732923u) >> 20; }

#define BIG_WORDS 28 /* 896 bits: 5^325 has 755, 2^832 needs 833 */

/* top125 stores the 128-bit value floor(big / 2^shift) (it has at most
 * 125 bits), or big << -shift when shift is negative (big < 2^125 then). */
static void top125(const uint32_t *big, int32_t shift, uint64_t out[2]) {
    if (shift < 0) {
        u128 v = ((u128)big[3] << 96 | (u128)big[2] << 64 | (u128)big[1] << 32 | big[0]) << -shift;
        out[0] = (uint64_t)v;
        out[1] = (uint64_t)(v >> 64);
        return;
    }
    uint32_t w[4];
    int32_t q = shift / 32, r = shift % 32;
    for (int k = 0; k < 4; k++) {
        uint64_t lo = q + k < BIG_WORDS ? big[q + k] : 0, hi = q + k + 1 < BIG_WORDS ? big[q + k + 1] : 0;
        w[k] = (uint32_t)((lo | hi << 32) >> r);
    }
    out[0] = (uint64_t)w[1] << 32 | w[0];
    out[1] = (uint64_t)w[3] << 32 | w[2];
}

static void make_tables(void) {
    uint32_t big[BIG_WORDS] = {1};
    /* pow5[i] = floor(5^i / 2^(pow5bits(i) - 125)). */
    for (int32_t i = 0; i < POW5_N; i++) {
        top125(big, pow5bits(i) - 125, pow5[i]);
        uint64_t carry = 0;
        for (int k = 0; k < BIG_WORDS; k++) {
            uint64_t v = (uint64_t)big[k] * 5 + carry;
            big[k] = (uint32_t)v;
            carry = v >> 32;
        }
    }
    /* pow5_inv[q] = floor(2^(pow5bits(q) - 1 + 125) / 5^q) + 1, from
     * V = floor(2^832 / 5^q) (floors of repeated division compose). */
    enum { MAX_SHIFT = 832 };
    memset(big, 0, sizeof big);
    big[MAX_SHIFT / 32] = 1u << MAX_SHIFT % 32;
    for (int32_t q = 0; q < POW5_INV_N; q++) {
        uint64_t *e = pow5_inv[q];
        top125(big, MAX_SHIFT - (pow5bits(q) - 1 + 125), e);
        if (++e[0] == 0) e[1]++;
        uint64_t rem = 0;
        for (int k = BIG_WORDS - 1; k >= 0; k--) {
            uint64_t cur = rem << 32 | big[k];
            big[k] = (uint32_t)(cur / 5);
            rem = cur % 5;
        }
    }
    tables_ready = true;
}

/* mul_shift is (m * mul) >> j for a 125-bit mul, j >= 64. */
static uint64_t mul_shift(uint64_t m, const uint64_t mul[2], int32_t j) {
    u128 b0 = (u128)m * mul[0], b2 = (u128)m * mul[1];
    return (uint64_t)(((b0 >> 64) + b2) >> (j - 64));
}

static bool multiple_of_pow5(uint64_t v, uint32_t p) {
    uint32_t n = 0;
    while (v != 0 && v % 5 == 0) {
        v /= 5;
        n++;
    }
    return n >= p;
}

/* shortest returns the digits of finite x > 0 as an integer and the
 * decimal exponent of its last digit: x reads back from digits*10^exp. */
static uint64_t shortest(double x, int32_t *exp10) {
    if (!tables_ready) make_tables();
    uint64_t bits;
    memcpy(&bits, &x, 8);
    uint64_t frac = bits & ((1ull << 52) - 1);
    uint32_t bexp = (uint32_t)(bits >> 52) & 0x7ff;
    int32_t e2;
    uint64_t m2;
    if (bexp == 0) {
        e2 = 1 - 1023 - 52 - 2;
        m2 = frac;
    } else {
        e2 = (int32_t)bexp - 1023 - 52 - 2;
        m2 = 1ull << 52 | frac;
    }
    bool even = (m2 & 1) == 0;
    /* The interval of values that round to x, scaled by 4: [mm, mp],
     * ends included when m2 is even; its lower gap is half the upper at
     * a power of two. */
    uint64_t mv = 4 * m2;
    uint32_t mm_shift = frac != 0 || bexp <= 1;
    uint64_t vr, vp, vm;
    int32_t e10;
    bool vm_zeros = false, vr_zeros = false;
    if (e2 >= 0) {
        uint32_t q = log10_pow2(e2) - (e2 > 3);
        e10 = (int32_t)q;
        int32_t k = 125 + pow5bits((int32_t)q) - 1, j = -e2 + (int32_t)q + k;
        vr = mul_shift(4 * m2, pow5_inv[q], j);
        vp = mul_shift(4 * m2 + 2, pow5_inv[q], j);
        vm = mul_shift(4 * m2 - 1 - mm_shift, pow5_inv[q], j);
        if (q <= 21) {
            if (mv % 5 == 0) vr_zeros = multiple_of_pow5(mv, q);
            else if (even) vm_zeros = multiple_of_pow5(mv - 1 - mm_shift, q);
            else vp -= multiple_of_pow5(mv + 2, q);
        }
    } else {
        uint32_t q = log10_pow5(-e2) - (-e2 > 1);
        e10 = (int32_t)q + e2;
        int32_t i = -e2 - (int32_t)q, k = pow5bits(i) - 125, j = (int32_t)q - k;
        vr = mul_shift(4 * m2, pow5[i], j);
        vp = mul_shift(4 * m2 + 2, pow5[i], j);
        vm = mul_shift(4 * m2 - 1 - mm_shift, pow5[i], j);
        if (q <= 1) {
            vr_zeros = true;
            if (even) vm_zeros = mm_shift == 1;
            else vp--;
        } else if (q < 63) {
            vr_zeros = (mv & ((1ull << q) - 1)) == 0;
        }
    }
    /* Drop digits while the interval still holds a shorter number. */
    int32_t removed = 0;
    uint32_t last = 0;
    uint64_t out;
    if (vm_zeros || vr_zeros) {
        while (vp / 10 > vm / 10) {
            vm_zeros &= vm % 10 == 0;
            vr_zeros &= last == 0;
            last = (uint32_t)(vr % 10);
            vr /= 10, vp /= 10, vm /= 10;
            removed++;
        }
        if (vm_zeros) {
            while (vm % 10 == 0) {
                vr_zeros &= last == 0;
                last = (uint32_t)(vr % 10);
                vr /= 10, vp /= 10, vm /= 10;
                removed++;
            }
        }
        if (vr_zeros && last == 5 && vr % 2 == 0) last = 4; /* exactly half: round to even */
        out = vr + ((vr == vm && (!even || !vm_zeros)) || last >= 5);
    } else {
        bool up = false;
        while (vp / 10 > vm / 10) {
            up = vr % 10 >= 5;
            vr /= 10, vp /= 10, vm /= 10;
            removed++;
        }
        out = vr + (vr == vm || up);
    }
    *exp10 = e10 + removed;
    return out;
}

int dw_format_float(char *out, double x) {
    if (isnan(x)) return (int)(memcpy(out, "NaN", 4), 3);
    if (isinf(x)) return (int)(memcpy(out, x > 0 ? "+Inf" : "-Inf", 5), 4);
    int n = 0;
    if (signbit(x)) {
        out[n++] = '-';
        x = -x;
    }
    if (x == 0) {
        out[n++] = '0';
        out[n] = 0;
        return n;
    }
    int32_t last;
    uint64_t v = shortest(x, &last);
    char d[24];
    int nd = 0;
    for (uint64_t t = v; t != 0; t /= 10) nd++;
    for (int i = nd - 1; i >= 0; i--, v /= 10) d[i] = (char)('0' + v % 10);
    int e = last + nd - 1; /* exponent of the first digit */
    int dp = e + 1;        /* digits before the point */
    /* Go's %v is strconv's 'g' with the shortest digits, which switches
     * to %e when the exponent is below -4 or at least 6 (the precision
     * 'g' assumes for shortest output), e.g. 1e+06 but 123456. */
    if (e < -4 || e >= 6) {
        out[n++] = d[0];
        if (nd > 1) {
            out[n++] = '.';
            memcpy(out + n, d + 1, (size_t)nd - 1);
            n += nd - 1;
        }
        out[n++] = 'e';
        out[n++] = e < 0 ? '-' : '+';
        int a = e < 0 ? -e : e;
        if (a >= 100) out[n++] = (char)('0' + a / 100);
        out[n++] = (char)('0' + a / 10 % 10);
        out[n++] = (char)('0' + a % 10);
    } else if (dp <= 0) {
        out[n++] = '0';
        out[n++] = '.';
        for (int i = 0; i < -dp; i++) out[n++] = '0';
        memcpy(out + n, d, (size_t)nd);
        n += nd;
    } else {
        for (int i = 0; i < dp; i++) out[n++] = i < nd ? d[i] : '0';
        if (nd > dp) {
            out[n++] = '.';
            memcpy(out + n, d + dp, (size_t)(nd - dp));
            n += nd - dp;
        }
    }
    out[n] = 0;
    return n;
}
