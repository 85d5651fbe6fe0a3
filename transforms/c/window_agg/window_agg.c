/*
 * window_agg counts, sums and averages a value per key per tumbling window
 * of event time (ABI v2): for the orders table, the count, sum and
 * average of amount per country per minute of ts.
 *
 *     stages:
 *       - wasm: transforms/c/window_agg/window_agg.wasm
 *         config: {key: country, value: amount, time: ts, seconds: 60}
 *
 * Its output is one row per key and window: window_start (the time
 * column's type), key (utf8), count (int64, rows), sum and avg (float64,
 * over the rows whose value is not null; avg is null when there are
 * none). Every input column is dropped.
 *
 * The input is taken to arrive in event-time order (a log, a file sorted
 * by time): a window is emitted when the first row of a later window
 * arrives, and the last one at end of input. A row older than the open
 * window comes too late (its window was emitted) and is rejected, as is a
 * row whose key or time is null, so the error policy decides about it.
 *
 * The open window is the stage's state: it is saved at every checkpoint
 * and restored when a run resumes, so a killed run's rerun gives the
 * aggregates a clean run gives.
 */
#include <stdlib.h>

#include "dataweaver.h"

static dw_col key_col, val_col, time_col;
static dw_out o_start, o_key, o_count, o_sum, o_avg;
static int64_t width; /* in the time column's unit */

/* The open window: its start, and per key (in order of arrival) the
 * count of rows, of non-null values, and their sum. */
struct group {
    char *key;
    uint32_t len;
    int64_t count, values;
    double sum;
};
static bool open;
static int64_t start;
static struct group *groups;
static uint32_t ngroups, capgroups;
static uint32_t *table; /* open addressing: group index + 1, 0 = empty */
static uint32_t tablecap;

static uint32_t hash(const char *p, uint32_t n) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (uint32_t i = 0; i < n; i++) h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h;
}

static void rehash(void) {
    free(table);
    tablecap = tablecap ? 2 * tablecap : 64;
    table = calloc(tablecap, sizeof *table);
    if (table == NULL) abort();
    for (uint32_t g = 0; g < ngroups; g++) {
        uint32_t h = hash(groups[g].key, groups[g].len) & (tablecap - 1);
        while (table[h]) h = (h + 1) & (tablecap - 1);
        table[h] = g + 1;
    }
}

static struct group *group_of(const char *p, uint32_t n) {
    if (2 * (ngroups + 1) > tablecap) rehash();
    uint32_t h = hash(p, n) & (tablecap - 1);
    for (; table[h]; h = (h + 1) & (tablecap - 1)) {
        struct group *g = &groups[table[h] - 1];
        if (g->len == n && memcmp(g->key, p, n) == 0) return g;
    }
    if (ngroups == capgroups) {
        capgroups = capgroups ? 2 * capgroups : 16;
        groups = realloc(groups, capgroups * sizeof *groups);
        if (groups == NULL) abort();
    }
    struct group *g = &groups[ngroups];
    g->key = malloc(n ? n : 1);
    if (g->key == NULL) abort();
    memcpy(g->key, p, n);
    g->len = n;
    g->count = g->values = 0;
    g->sum = 0;
    table[h] = ++ngroups;
    return g;
}

static void forget(void) {
    for (uint32_t g = 0; g < ngroups; g++) free(groups[g].key);
    ngroups = 0;
    if (table) memset(table, 0, tablecap * sizeof *table);
    open = false;
}

/* emit hands on one row per key of the open window and forgets it. */
static void emit(dw_batch *b) {
    for (uint32_t i = 0; i < ngroups; i++) {
        struct group *g = &groups[i];
        dw_emit(b, DW_NO_ORIGIN);
        dw_put_int64(b, o_start, start);
        dw_put_str(b, o_key, (dw_str){g->key, g->len});
        dw_put_int64(b, o_count, g->count);
        dw_put_float64(b, o_sum, g->sum);
        if (g->values)
            dw_put_float64(b, o_avg, g->sum / (double)g->values);
        else
            dw_put_null(b, o_avg);
    }
    forget();
}

static int process(dw_batch *b) {
    dw_view k = dw_view_of(b, key_col), v = dw_view_of(b, val_col), t = dw_view_of(b, time_col);
    for (uint32_t i = 0; i < k.len; i++) {
        if (!dw_valid(&k, i) || !dw_valid(&t, i)) {
            dw_rejectf(b, i, "window_agg: the key or the time is null");
            continue;
        }
        int64_t w = dw_tumble(t.i64[i], width);
        if (open && w < start) {
            dw_rejectf(b, i, "window_agg: row older than the open window (its window was already emitted)");
            continue;
        }
        if (open && w > start) emit(b);
        open = true;
        start = w;
        dw_str s = dw_string(&k, i);
        struct group *g = group_of(s.ptr, s.len);
        g->count++;
        if (dw_valid(&v, i)) {
            g->values++;
            g->sum += v.f64[i];
        }
    }
    return 0;
}

static int finish(dw_batch *b) {
    if (open) emit(b);
    return 0;
}

/* The snapshot: "WAG1", the window width, open, start, the number of
 * groups, then per group its key's length and bytes, count, values, sum. */
static void snapshot(dw_state *st) {
    uint32_t n = open ? ngroups : 0;
    uint8_t o = open;
    dw_state_put(st, "WAG1", 4);
    dw_state_put(st, &width, 8);
    dw_state_put(st, &o, 1);
    dw_state_put(st, &start, 8);
    dw_state_put(st, &n, 4);
    for (uint32_t i = 0; i < n; i++) {
        struct group *g = &groups[i];
        dw_state_put(st, &g->len, 4);
        dw_state_put(st, g->key, g->len);
        dw_state_put(st, &g->count, 8);
        dw_state_put(st, &g->values, 8);
        dw_state_put(st, &g->sum, 8);
    }
}

/* take copies n bytes from the state at *p, if that many are left. */
static bool take(const uint8_t **p, const uint8_t *end, void *dst, uint32_t n) {
    if ((size_t)(end - *p) < n) return false;
    memcpy(dst, *p, n);
    *p += n;
    return true;
}

static const char *restore(const uint8_t *p, uint32_t len) {
    const uint8_t *end = p + len;
    char magic[4];
    int64_t w;
    uint8_t o;
    uint32_t n;
    forget();
    if (!take(&p, end, magic, 4) || memcmp(magic, "WAG1", 4) != 0) return "not a window_agg state (want WAG1)";
    if (!take(&p, end, &w, 8) || !take(&p, end, &o, 1) || !take(&p, end, &start, 8) || !take(&p, end, &n, 4))
        return "state cut short in its header";
    if (w != width) return "the state is of windows of another width; reset the positions to change it";
    for (uint32_t i = 0; i < n; i++) {
        uint32_t kl;
        if (!take(&p, end, &kl, 4) || (size_t)(end - p) < kl) return "state cut short in a key";
        struct group *g = group_of((const char *)p, kl);
        p += kl;
        if (!take(&p, end, &g->count, 8) || !take(&p, end, &g->values, 8) || !take(&p, end, &g->sum, 8))
            return "state cut short in a group";
    }
    if (p != end) return "state has bytes past its last group";
    open = o != 0;
    return NULL;
}

/* unit_per_second reads the time unit off an ABI timestamp type name. */
static int64_t unit_per_second(const char *type) {
    if (strncmp(type, "timestamp[s", 11) == 0 && (type[11] == ']' || type[11] == ',')) return 1;
    if (strncmp(type, "timestamp[ms", 12) == 0) return 1000;
    if (strncmp(type, "timestamp[us", 12) == 0) return 1000000;
    if (strncmp(type, "timestamp[ns", 12) == 0) return 1000000000;
    return 0;
}

static dw_process_fn setup(dw_setup *s) {
    dw_str key = {"country", 7}, value = {"amount", 6}, tcol = {"ts", 2};
    double seconds = 60;
    dw_config_string(s, "key", &key);
    dw_config_string(s, "value", &value);
    dw_config_string(s, "time", &tcol);
    dw_config_number(s, "seconds", &seconds);
    key_col = dw_read(s, key.ptr, DW_STRING);
    val_col = dw_read(s, value.ptr, DW_FLOAT64);
    time_col = dw_read(s, tcol.ptr, DW_INT64);
    const dw_field *tf = dw_field_of(s, tcol.ptr);
    int64_t per = tf ? unit_per_second(tf->type) : 0;
    if (tf && per == 0) dw_errorf(s, "time column %s is %s, want a timestamp", tcol.ptr, tf->type);
    if (!(seconds >= 1 && seconds <= 366 * 86400.0) || seconds != (double)(int64_t)seconds)
        dw_errorf(s, "seconds must be a whole number of seconds from 1 to a year");
    width = (int64_t)seconds * per;
    dw_drop_all(s);
    o_start = dw_write(s, "window_start", tf ? tf->type : "int64");
    o_key = dw_write(s, "key", "utf8");
    o_count = dw_write(s, "count", "int64");
    o_sum = dw_write(s, "sum", "float64");
    o_avg = dw_write(s, "avg", "float64");
    return process;
}

DW_STAGE_V2(setup)
DW_FINISH(finish)
DW_STATE(snapshot, restore)
