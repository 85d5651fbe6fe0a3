/*
 * top_k ranks keys per window of event time (ABI v2): per window, the k
 * keys with the largest sum of a value, for the orders table the three
 * countries with the most revenue per minute of ts. Windows slide: of
 * `seconds` width, one starting every `slide` seconds (default: seconds,
 * tumbling windows), so a row counts in every window holding it
 * (dw_hop).
 *
 *     stages:
 *       - wasm: transforms/c/top_k/top_k.wasm
 *         config: {key: country, value: amount, time: ts, seconds: 60, slide: 60, k: 3}
 *
 * Its output is, per window closed, up to k rows: window_start (the time
 * column's type), rank (int32, from 1), key (utf8), sum (float64, over
 * the key's rows whose value is not null) and count (int64, the key's
 * rows). Keys rank by sum, largest first; equal sums (and NaN, which
 * ranks last) by key, in byte order, so the output is the same whatever
 * order the rows came in. Every input column is dropped.
 *
 * A window [start, start + width) closes, without an event-time column,
 * when a row at or after its end arrives (the input is taken to be in
 * event-time order, though a row behind the latest may still count in
 * the windows still open); with one (the wasm stage's event_time), when
 * the watermark passes its last instant. What is open is emitted at end
 * of input. A row one of whose windows was already emitted comes too
 * late, and is rejected, as is a row whose key or time is null.
 *
 * The ranking is over all keys, so the stage needs every row of a window:
 * run it on one worker (a `key:` of the wasm stage would rank each
 * instance's keys apart). The open windows are its state, saved at every
 * checkpoint and restored on resume.
 */
#include <math.h>
#include <stdlib.h>

#include "dataweaver.h"

static dw_col key_col, val_col, time_col;
static dw_out o_start, o_rank, o_key, o_sum, o_count;
static int64_t width, slide; /* in the time column's unit */
static uint32_t topk;
static bool by_watermark;

/* The open windows' groups, one per window and key. seen_max is the
 * latest time seen (any: whether one was), closed_before the start before
 * which every window was emitted. */
struct group {
    int64_t window;
    char *key;
    uint32_t len;
    int64_t count;
    double sum;
};
static bool any;
static int64_t seen_max, closed_before = INT64_MIN;
static struct group *groups;
static uint32_t ngroups, capgroups;
static uint32_t *table; /* open addressing: group index + 1, 0 = empty */
static uint32_t tablecap;
static uint32_t *order; /* scratch for close_before */
static uint32_t caporder;

static uint32_t hash(int64_t w, const char *p, uint32_t n) {
    uint32_t h = 2166136261u;
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
    g->count = 0;
    g->sum = 0;
    table[h] = ++ngroups;
    return g;
}

/* rank orders groups by window, then sum (largest first, NaN last), then
 * key bytes. */
static int rank(const void *pa, const void *pb) {
    const struct group *a = &groups[*(const uint32_t *)pa], *b = &groups[*(const uint32_t *)pb];
    if (a->window != b->window) return a->window < b->window ? -1 : 1;
    bool na = isnan(a->sum), nb = isnan(b->sum);
    if (na != nb) return na ? 1 : -1;
    if (!na && a->sum != b->sum) return a->sum > b->sum ? -1 : 1;
    uint32_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->key, b->key, n);
    if (c != 0) return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* close_before emits the top k of every window starting before end, in
 * window order, and forgets their groups. */
static void close_before(dw_batch *b, int64_t end) {
    if (end <= closed_before) return;
    closed_before = end;
    uint32_t n = 0;
    if (caporder < ngroups) {
        caporder = ngroups;
        order = realloc(order, caporder * sizeof *order);
        if (order == NULL) abort();
    }
    for (uint32_t i = 0; i < ngroups; i++)
        if (groups[i].window < end) order[n++] = i;
    if (n == 0) return;
    qsort(order, n, sizeof *order, rank);
    int32_t r = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct group *g = &groups[order[i]];
        r = i > 0 && groups[order[i - 1]].window == g->window ? r + 1 : 1;
        if ((uint32_t)r > topk) continue;
        dw_emit(b, DW_NO_ORIGIN);
        dw_put_int64(b, o_start, g->window);
        dw_put_int32(b, o_rank, r);
        dw_put_str(b, o_key, (dw_str){g->key, g->len});
        dw_put_float64(b, o_sum, g->sum);
        dw_put_int64(b, o_count, g->count);
    }
    uint32_t kept = 0;
    for (uint32_t i = 0; i < ngroups; i++) {
        if (groups[i].window < end) {
            free(groups[i].key);
            continue;
        }
        groups[kept++] = groups[i];
    }
    ngroups = kept;
    rehash(tablecap ? tablecap : 64);
}

/* end_of is the first start of a window still open at time t: every
 * window ending at or before t (start + width <= t) is complete. */
static int64_t end_of(int64_t t) {
    return (int64_t)((uint64_t)t - (uint64_t)width + 1);
}

static int process(dw_batch *b) {
    dw_view k = dw_view_of(b, key_col), v = dw_view_of(b, val_col), t = dw_view_of(b, time_col);
    int64_t starts[64];
    for (uint32_t i = 0; i < k.len; i++) {
        if (!dw_valid(&k, i) || !dw_valid(&t, i)) {
            dw_rejectf(b, i, "top_k: the key or the time is null");
            continue;
        }
        int64_t ts = t.i64[i];
        uint32_t n = dw_hop(ts, width, slide, starts, 64);
        if (n > 0 && starts[0] < closed_before) {
            dw_rejectf(b, i, "top_k: row too late (a window holding it was already emitted)");
            continue;
        }
        if (!by_watermark && (!any || ts > seen_max)) close_before(b, end_of(ts));
        if (!any || ts > seen_max) seen_max = ts;
        any = true;
        dw_str s = dw_string(&k, i);
        for (uint32_t j = 0; j < n; j++) {
            struct group *g = group_of(starts[j], s.ptr, s.len);
            g->count++;
            if (dw_valid(&v, i)) g->sum += v.f64[i];
        }
    }
    return 0;
}

/* watermark closes the windows whose every instant is at or before wm:
 * [w, w + width) once w + width - 1 <= wm. */
static int watermark(dw_batch *b, int64_t wm) {
    close_before(b, end_of(wm) + 1);
    return 0;
}

static int finish(dw_batch *b) {
    /* Every window starting at or before the latest row's last window
     * was emitted (or held none of its rows): later rows in them are late. */
    int64_t end = closed_before;
    if (any && dw_tumble(seen_max, slide) + slide > end) end = dw_tumble(seen_max, slide) + slide;
    close_before(b, INT64_MAX);
    /* Later windows are welcome in a run that goes on after this one. */
    closed_before = end;
    return 0;
}

/* The snapshot: "TOPK", width, slide, k, any, seen_max, closed_before,
 * the number of groups, then per group its window, key length and bytes,
 * count, sum. */
static void snapshot(dw_state *st) {
    uint8_t a = any;
    dw_state_put(st, "TOPK", 4);
    dw_state_put(st, &width, 8);
    dw_state_put(st, &slide, 8);
    dw_state_put(st, &topk, 4);
    dw_state_put(st, &a, 1);
    dw_state_put(st, &seen_max, 8);
    dw_state_put(st, &closed_before, 8);
    dw_state_put(st, &ngroups, 4);
    for (uint32_t i = 0; i < ngroups; i++) {
        struct group *g = &groups[i];
        dw_state_put(st, &g->window, 8);
        dw_state_put(st, &g->len, 4);
        dw_state_put(st, g->key, g->len);
        dw_state_put(st, &g->count, 8);
        dw_state_put(st, &g->sum, 8);
    }
}

static bool take(const uint8_t **p, const uint8_t *end, void *dst, uint32_t n) {
    if ((size_t)(end - *p) < n) return false;
    memcpy(dst, *p, n);
    *p += n;
    return true;
}

static const char *restore(const uint8_t *p, uint32_t len) {
    const uint8_t *end = p + len;
    char magic[4];
    int64_t w, s;
    uint32_t kk, n;
    uint8_t a;
    for (uint32_t i = 0; i < ngroups; i++) free(groups[i].key);
    ngroups = 0;
    rehash(64);
    if (!take(&p, end, magic, 4) || memcmp(magic, "TOPK", 4) != 0) return "not a top_k state (want TOPK)";
    if (!take(&p, end, &w, 8) || !take(&p, end, &s, 8) || !take(&p, end, &kk, 4) || !take(&p, end, &a, 1) ||
        !take(&p, end, &seen_max, 8) || !take(&p, end, &closed_before, 8) || !take(&p, end, &n, 4))
        return "state cut short in its header";
    if (w != width || s != slide || kk != topk)
        return "the state is of other windows or another k; reset the positions to change them";
    for (uint32_t i = 0; i < n; i++) {
        int64_t gw;
        uint32_t kl;
        if (!take(&p, end, &gw, 8) || !take(&p, end, &kl, 4) || (size_t)(end - p) < kl) return "state cut short in a key";
        struct group *g = group_of(gw, (const char *)p, kl);
        p += kl;
        if (!take(&p, end, &g->count, 8) || !take(&p, end, &g->sum, 8)) return "state cut short in a group";
    }
    if (p != end) return "state has bytes past its last group";
    any = a != 0;
    return NULL;
}

static int64_t unit_per_second(const char *type) {
    if (strncmp(type, "timestamp[s", 11) == 0 && (type[11] == ']' || type[11] == ',')) return 1;
    if (strncmp(type, "timestamp[ms", 12) == 0) return 1000;
    if (strncmp(type, "timestamp[us", 12) == 0) return 1000000;
    if (strncmp(type, "timestamp[ns", 12) == 0) return 1000000000;
    return 0;
}

static bool whole_seconds(double x) { return x >= 1 && x <= 366 * 86400.0 && x == (double)(int64_t)x; }

static dw_process_fn setup(dw_setup *s) {
    dw_str key = {"country", 7}, value = {"amount", 6}, tcol = {"ts", 2};
    double seconds = 60, sl = -1, k = 3;
    dw_config_string(s, "key", &key);
    dw_config_string(s, "value", &value);
    dw_config_string(s, "time", &tcol);
    dw_config_number(s, "seconds", &seconds);
    dw_config_number(s, "slide", &sl);
    dw_config_number(s, "k", &k);
    if (sl < 0) sl = seconds;
    key_col = dw_read(s, key.ptr, DW_STRING);
    val_col = dw_read(s, value.ptr, DW_FLOAT64);
    time_col = dw_read(s, tcol.ptr, DW_INT64);
    const dw_field *tf = dw_field_of(s, tcol.ptr);
    int64_t per = tf ? unit_per_second(tf->type) : 0;
    if (tf && per == 0) dw_errorf(s, "time column %s is %s, want a timestamp", tcol.ptr, tf->type);
    if (!whole_seconds(seconds) || !whole_seconds(sl))
        dw_errorf(s, "seconds and slide must be whole numbers of seconds from 1 to a year");
    else if (dw_hop_max((int64_t)seconds, (int64_t)sl) > 64)
        dw_errorf(s, "a row would fall in %u windows (seconds / slide); at most 64", dw_hop_max((int64_t)seconds, (int64_t)sl));
    if (!(k >= 1 && k <= 1000000) || k != (double)(int64_t)k) dw_errorf(s, "k must be a whole number from 1 to 1000000");
    const char *ev = dw_event_time(s);
    if (ev != NULL && strcmp(ev, tcol.ptr) != 0)
        dw_errorf(s, "the pipeline's event_time is %s, but config time is %s: window by the column the watermark follows", ev, tcol.ptr);
    by_watermark = ev != NULL;
    width = (int64_t)seconds * per;
    slide = (int64_t)sl * per;
    topk = (uint32_t)k;
    dw_drop_all(s);
    o_start = dw_write(s, "window_start", tf ? tf->type : "int64");
    o_rank = dw_write(s, "rank", "int32");
    o_key = dw_write(s, "key", "utf8");
    o_sum = dw_write(s, "sum", "float64");
    o_count = dw_write(s, "count", "int64");
    return process;
}

DW_STAGE_V2(setup)
DW_FINISH(finish)
DW_STATE(snapshot, restore)
DW_WATERMARK(watermark)
