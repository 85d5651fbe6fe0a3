// Window helpers for v2 stages, beside tumble (v2.ts): sliding (hop) and
// session windows, on times in any unit (the event-time column's). The
// C (dw_window.h), Go (guest.Hop, guest.SessionAdd) and Rust (hop,
// session_add) SDKs have the same helpers with the same answers.
// Differences are taken unsigned, so times near the ends of i64 do not
// overflow; a window starting before i64.MIN_VALUE wraps, as tumble's
// does.

/**
 * hop writes the starts of the sliding windows of width w (> 0) that
 * start every s (> 0; at multiples of s) and hold t, earliest first, into
 * starts (as many as its length holds), and returns how many windows hold
 * t: a window [start, start+w) holds t when start <= t < start+w. That
 * is at most hopMax(w, s); with s > w some times are in none. Window k
 * starts at starts[0] + k*s, so a return over starts.length loses
 * nothing. Make starts once (new Array<i64>(hopMax(w, s))): hop never
 * allocates.
 */
export function hop(t: i64, w: i64, s: i64, starts: Array<i64>): i64 {
  let r = t % s;
  if (r < 0) r += s;
  // t - latest start = r; each earlier window is s further.
  if (<u64>r >= <u64>w) return 0;
  let n = (<u64>w - 1 - <u64>r) / <u64>s + 1;
  let first = <u64>t - <u64>r - (n - 1) * <u64>s;
  let room = <u64>starts.length;
  for (let i: u64 = 0; i < n && i < room; i++) unchecked(starts[<i32>i] = <i64>(first + i * <u64>s));
  return <i64>n;
}

/** hopMax is the most sliding windows of width w sliding by s that one
 * time is in: ceil(w / s). */
export function hopMax(w: i64, s: i64): i64 {
  return <i64>((<u64>w - 1) / <u64>s + 1);
}

/**
 * Sessions is one key's open session windows, kept sorted and apart. A
 * session is rows of the key no more than a gap apart: it spans [start,
 * last + gap), each row at t opening [t, t + gap), and rows whose spans
 * overlap are one session (Flink's event-time session windows). Session
 * i is start(i) .. last(i), its earliest and latest rows. The sessions
 * are pairs of i64 in one managed array: adding a row allocates only
 * when the array grows, and a Sessions dropped is collected whole.
 */
@final
export class Sessions {
  private a: Array<i64> = new Array<i64>();

  /** The number of open sessions. */
  @inline get length(): i32 {
    return this.a.length >> 1;
  }

  /** Session i's earliest row. */
  @inline start(i: i32): i64 {
    return load<i64>(this.a.dataStart + (<usize>i << 4));
  }

  /** Session i's latest row. */
  @inline last(i: i32): i64 {
    return load<i64>(this.a.dataStart + (<usize>i << 4), 8);
  }

  // touches: whether a row at t overlaps session i (gap > 0).
  private touches(i: i32, t: i64, gap: i64): bool {
    let last = this.last(i);
    if (t >= last) return <u64>t - <u64>last < <u64>gap;
    let start = this.start(i);
    if (t >= start) return true;
    return <u64>start - <u64>t < <u64>gap;
  }

  /**
   * add adds a row at t (gap > 0): it joins the session it touches,
   * merges those it bridges (rows may come in any order), or opens one.
   * Returns the index of the session now holding t.
   */
  add(t: i64, gap: i64): i32 {
    let m = this.length;
    let i = 0;
    while (i < m && this.last(i) < t && !this.touches(i, t, gap)) i++;
    let j = i;
    while (j < m && this.touches(j, t, gap)) j++;
    let a = this.a;
    if (j == i) {
      // push, not a longer length: it grows the array by doubling.
      a.push(0);
      a.push(0);
      let p = a.dataStart + (<usize>i << 4);
      memory.copy(p + 16, p, <usize>(m - i) << 4);
      store<i64>(p, t);
      store<i64>(p, t, 8);
      return i;
    }
    let last = this.last(j - 1);
    let p = a.dataStart + (<usize>i << 4);
    if (t < load<i64>(p)) store<i64>(p, t);
    store<i64>(p, last > t ? last : t, 8);
    memory.copy(p + 16, a.dataStart + (<usize>j << 4), <usize>(m - j) << 4);
    a.length = 2 * (m - (j - i - 1));
    return i;
  }

  /**
   * closed is how many of the first sessions no row can reach any more
   * once the watermark is wm (rows at or before it are late): those
   * whose span ends at or before wm + 1. They close in order, so a stage
   * emits them and then drops them with dropFirst.
   */
  closed(wm: i64, gap: i64): i32 {
    let m = this.length;
    let k = 0;
    while (k < m && wm >= this.last(k) && <u64>wm - <u64>this.last(k) >= <u64>gap - 1) k++;
    return k;
  }

  /** dropFirst forgets the first k sessions (k <= length). */
  dropFirst(k: i32): void {
    let a = this.a;
    let m = this.length;
    memory.copy(a.dataStart, a.dataStart + (<usize>k << 4), <usize>(m - k) << 4);
    a.length = 2 * (m - k);
  }

  /** clear forgets every session (keeping the memory). */
  clear(): void {
    this.a.length = 0;
  }
}
