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
 * Without an event-time column declared, the input is taken to arrive in
 * event-time order (a log, a file sorted by time): the open window is
 * emitted when the first row of a later window arrives. With one
 * (the wasm stage's event_time and lateness, and config time naming the
 * same column), rows may arrive out of order: several windows stay open,
 * and each is emitted once the host's watermark (the latest time seen
 * minus the lateness) passes its end. Either way what is open is emitted
 * at end of input, and a row whose window was already emitted comes too
 * late and is rejected, as is a row whose key or time is null, so the
 * error policy decides about it.
 *
 * The open windows are the stage's state: saved at every checkpoint and
 * restored when a run resumes, so a killed run's rerun gives the
 * aggregates a clean run gives.
 */
#include <stdlib.h>

#include "dataweaver.h"

static dw_col key_col, val_col, time_col;
static dw_out o_start, o_key, o_count, o_sum, o_avg;
static int64_t width; /* in the time column's unit */
static bool by_watermark;

/* The open windows, per window and key in order of arrival: the count of
 * rows, of non-null values, and their sum. latest is the newest window
 * opened; closed_before the end of the windows already emitted (a row of
 * an earlier window is late). */
struct group {
    int64_t window;
    char *key;
    uint32_t len;
    int64_t count, values;
    double sum;
};
static bool any;
static int64_t latest, closed_before = INT64_MIN;
static struct group *groups;
static uint32_t ngroups, capgroups;
static uint32_t *table; /* open addressing: group index + 1, 0 = empty */
static uint32_t tablecap;

static uint32_t hash(int64_t w, const char *p, uint32_t n) {
    uint32_t h = 2166136261u; /* FNV-1a over the key, mixed with the window */
    for (uint32_t i = 0; i < n; i++) h = (h ^ (uint8_t)p[i]) * 16777619u;
    return h ^ (uint32_t)(w ^ (w >> 32)) * 2654435761u;
}

static void rehash(uint32_t cap) {
    free(table);
    tablecap = cap;
    table = calloc(tablecap, sizeof *table);
    if (table == NULL) abort();
    for (uint32_t g = 0; g < ngroups; g++) {
        uint32_t h = hash(groups[g].window, groups[g].key, groups[g].len) & (tablecap - 1);
        while (table[h]) h = (h + 1) & (tablecap - 1);
        table[h] = g + 1;
    }
}

static struct group *group_of(int64_t w, const char *p, uint32_t n) {
    if (2 * (ngroups + 1) > tablecap) rehash(tablecap ? 2 * tablecap : 64);
    uint32_t h = hash(w, p, n) & (tablecap - 1);
    for (; table[h]; h = (h + 1) & (tablecap - 1)) {
        struct group *g = &groups[table[h] - 1];
        if (g->window == w && g->len == n && memcmp(g->key, p, n) == 0) return g;
    }
    if (ngroups == capgroups) {
        capgroups = capgroups ? 2 * capgroups : 16;
        groups = realloc(groups, capgroups * sizeof *groups);
        if (groups == NULL) abort();
    }
    struct group *g = &groups[ngroups];
    g->window = w;
    g->key = malloc(n ? n : 1);
    if (g->key == NULL) abort();
    memcpy(g->key, p, n);
    g->len = n;
    g->count = g->values = 0;
    g->sum = 0;
    table[h] = ++ngroups;
    return g;
}

/* close_before emits the groups of every window starting before end (in
 * order of arrival) and forgets them. */
static void close_before(dw_batch *b, int64_t end) {
    uint32_t kept = 0;
    for (uint32_t i = 0; i < ngroups; i++) {
        struct group *g = &groups[i];
        if (g->window >= end) {
            groups[kept++] = *g;
            continue;
        }
        dw_emit(b, DW_NO_ORIGIN);
        dw_put_int64(b, o_start, g->window);
        dw_put_str(b, o_key, (dw_str){g->key, g->len});
        dw_put_int64(b, o_count, g->count);
        dw_put_float64(b, o_sum, g->sum);
        if (g->values)
            dw_put_float64(b, o_avg, g->sum / (double)g->values);
        else
            dw_put_null(b, o_avg);
        free(g->key);
    }
    if (kept != ngroups) {
        ngroups = kept;
        rehash(tablecap ? tablecap : 64);
    }
    if (end > closed_before) closed_before = end;
}

static int process(dw_batch *b) {
    dw_view k = dw_view_of(b, key_col), v = dw_view_of(b, val_col), t = dw_view_of(b, time_col);
    for (uint32_t i = 0; i < k.len; i++) {
        if (!dw_valid(&k, i) || !dw_valid(&t, i)) {
            dw_rejectf(b, i, "window_agg: the key or the time is null");
            continue;
        }
        int64_t w = dw_tumble(t.i64[i], width);
        if (w < closed_before || (!by_watermark && any && w < latest)) {
            dw_rejectf(b, i, "window_agg: row too late (its window was already emitted)");
            continue;
        }
        if (!by_watermark && any && w > latest) close_before(b, w);
        if (!any || w > latest) latest = w;
        any = true;
        dw_str s = dw_string(&k, i);
        struct group *g = group_of(w, s.ptr, s.len);
        g->count++;
        if (dw_valid(&v, i)) {
            g->values++;
            g->sum += v.f64[i];
        }
    }
    return 0;
}

/* watermark closes the windows whose every time is at or before it: a
 * watermark wm says no row of time <= wm is still to come (Flink's
 * meaning), so the window [w, w+width) is complete once w+width-1 <= wm. */
static int watermark(dw_batch *b, int64_t wm) {
    close_before(b, wm - width + 2);
    return 0;
}

/* finish emits every open window. Rows of the windows emitted are late
 * from now on, but later ones are not: a run that resumes after this one
 * (a file source reading files added since) goes on with new windows. */
static int finish(dw_batch *b) {
    int64_t end = any && latest + width > closed_before ? latest + width : closed_before;
    close_before(b, INT64_MAX);
    closed_before = end;
    any = false;
    return 0;
}

/* The snapshot: "WAG2", the window width, any, latest, closed_before,
 * the number of groups, then per group its window, key length and bytes,
 * count, values, sum. */
static void snapshot(dw_state *st) {
    uint8_t a = any;
    dw_state_put(st, "WAG2", 4);
    dw_state_put(st, &width, 8);
    dw_state_put(st, &a, 1);
    dw_state_put(st, &latest, 8);
    dw_state_put(st, &closed_before, 8);
    dw_state_put(st, &ngroups, 4);
    for (uint32_t i = 0; i < ngroups; i++) {
        struct group *g = &groups[i];
        dw_state_put(st, &g->window, 8);
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
    uint8_t a;
    uint32_t n;
    for (uint32_t i = 0; i < ngroups; i++) free(groups[i].key);
    ngroups = 0;
    rehash(64);
    if (!take(&p, end, magic, 4) || memcmp(magic, "WAG2", 4) != 0) return "not a window_agg state (want WAG2)";
    if (!take(&p, end, &w, 8) || !take(&p, end, &a, 1) || !take(&p, end, &latest, 8) ||
        !take(&p, end, &closed_before, 8) || !take(&p, end, &n, 4))
        return "state cut short in its header";
    if (w != width) return "the state is of windows of another width; reset the positions to change it";
    for (uint32_t i = 0; i < n; i++) {
        int64_t gw;
        uint32_t kl;
        if (!take(&p, end, &gw, 8) || !take(&p, end, &kl, 4) || (size_t)(end - p) < kl) return "state cut short in a key";
        struct group *g = group_of(gw, (const char *)p, kl);
        p += kl;
        if (!take(&p, end, &g->count, 8) || !take(&p, end, &g->values, 8) || !take(&p, end, &g->sum, 8))
            return "state cut short in a group";
    }
    if (p != end) return "state has bytes past its last group";
    any = a != 0;
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
    const char *ev = dw_event_time(s);
    if (ev != NULL && strcmp(ev, tcol.ptr) != 0)
        dw_errorf(s, "the pipeline's event_time is %s, but config time is %s: window by the column the watermark follows", ev, tcol.ptr);
    by_watermark = ev != NULL;
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
DW_WATERMARK(watermark)
