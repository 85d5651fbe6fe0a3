/*
 * Window helpers for ABI v2 stages, beside dw_tumble (dataweaver.h):
 * sliding (hop) windows and session windows, on times in any unit (the
 * event-time column's). Pure functions over the caller's memory: where a
 * stage keeps its windows, and when it emits them, stays its own. Go's
 * guest package and the Rust SDK have the same helpers with the same
 * answers (guest.Hop, guest.SessionAdd; hop, session_add).
 *
 * Arithmetic is done on unsigned differences, so times near INT64_MIN or
 * INT64_MAX do not overflow (a window starting before INT64_MIN wraps,
 * as dw_tumble's does).
 */
#ifndef DW_WINDOW_H
#define DW_WINDOW_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* dw_hop writes the starts of the sliding windows of width w (> 0) that
 * start every s (> 0; a multiple of s, as tumbling windows do) and hold
 * t, earliest first, into starts (room for cap), and returns how many
 * windows hold t: a window [start, start+w) holds t when start ≤ t <
 * start+w. That is at most dw_hop_max(w, s); with s > w, some t are in
 * none. A return over cap means only the first cap were written. */
static inline uint32_t dw_hop(int64_t t, int64_t w, int64_t s, int64_t *starts, uint32_t cap) {
    int64_t r = t % s;
    if (r < 0) r += s;
    /* t - latest start = r; each earlier window is s further. */
    if ((uint64_t)r >= (uint64_t)w) return 0;
    uint64_t n = ((uint64_t)w - 1 - (uint64_t)r) / (uint64_t)s + 1;
    uint64_t first = (uint64_t)t - (uint64_t)r - (n - 1) * (uint64_t)s;
    for (uint64_t i = 0; i < n && i < cap; i++) starts[i] = (int64_t)(first + i * (uint64_t)s);
    return (uint32_t)n;
}

/* dw_hop_max is the most sliding windows of width w sliding by s that
 * one time falls in: ceil(w / s). */
static inline uint32_t dw_hop_max(int64_t w, int64_t s) {
    return (uint32_t)(((uint64_t)w - 1) / (uint64_t)s + 1);
}

/* A session: rows of one key no more than gap apart. It spans [start,
 * last + gap): each row at t opens [t, t + gap), and rows whose spans
 * overlap are one session (Flink's event-time session windows). */
typedef struct dw_session {
    int64_t start; /* earliest row */
    int64_t last;  /* latest row */
} dw_session;

/* dw__touches: whether a row at t overlaps session s (gap > 0). */
static inline bool dw__touches(const dw_session *s, int64_t t, int64_t gap) {
    if (t >= s->last) return (uint64_t)t - (uint64_t)s->last < (uint64_t)gap;
    if (t >= s->start) return true;
    return (uint64_t)s->start - (uint64_t)t < (uint64_t)gap;
}

/* dw_session_add adds a row at t to a key's open sessions s[0..*n), kept
 * sorted and apart (room for cap): the row joins the session it touches,
 * merges the two it bridges (rows may come in any order), or opens one.
 * Returns the index of the session now holding t, or -1 when a new one
 * would not fit in cap (nothing changed). */
static inline int dw_session_add(dw_session *s, uint32_t *n, uint32_t cap, int64_t t, int64_t gap) {
    uint32_t m = *n, i = 0;
    while (i < m && s[i].last < t && !dw__touches(&s[i], t, gap)) i++;
    uint32_t j = i;
    while (j < m && dw__touches(&s[j], t, gap)) j++;
    if (j == i) {
        if (m >= cap) return -1;
        memmove(&s[i + 1], &s[i], (m - i) * sizeof *s);
        s[i].start = t;
        s[i].last = t;
        *n = m + 1;
        return (int)i;
    }
    if (t < s[i].start) s[i].start = t;
    s[i].last = s[j - 1].last > t ? s[j - 1].last : t;
    memmove(&s[i + 1], &s[j], (m - j) * sizeof *s);
    *n = m - (j - i - 1);
    return (int)i;
}

/* dw_sessions_closed is how many of the first sessions of s[0..n) no row
 * can reach any more once the watermark is wm (rows at or before it are
 * late): those whose span ends at or before wm + 1. They close in order,
 * so a stage emits and drops that many from the front. */
static inline uint32_t dw_sessions_closed(const dw_session *s, uint32_t n, int64_t wm, int64_t gap) {
    uint32_t k = 0;
    while (k < n && wm >= s[k].last && (uint64_t)wm - (uint64_t)s[k].last >= (uint64_t)gap - 1) k++;
    return k;
}

#ifdef __cplusplus
}
#endif
#endif
