//! Window helpers for ABI v2 stages, beside [`tumble`](crate::tumble):
//! sliding (hop) and session windows, on times in any unit (the
//! event-time column's). The C SDK (`dw_window.h`) and Go's guest package
//! have the same helpers with the same answers. Differences are taken
//! unsigned, so times near `i64::MIN`/`i64::MAX` do not overflow; a
//! window starting before `i64::MIN` wraps, as `tumble`'s does.

/// The starts of the sliding windows of width `w` (> 0) that start every
/// `s` (> 0; at multiples of `s`) and hold `t`, earliest first: a window
/// `[start, start + w)` holds `t` when `start <= t < start + w`. At most
/// [`hop_max`]`(w, s)`; with `s > w` some times are in none.
///
/// ```
/// use dataweaver_guest::hop;
/// assert_eq!(hop(65, 60, 20).collect::<Vec<_>>(), vec![20, 40, 60]);
/// ```
pub fn hop(t: i64, w: i64, s: i64) -> Hops {
    let r = t.rem_euclid(s) as u64;
    if r >= w as u64 {
        return Hops {
            next: 0,
            left: 0,
            step: s as u64,
        };
    }
    let n = (w as u64 - 1 - r) / s as u64 + 1;
    let first = (t as u64).wrapping_sub(r).wrapping_sub((n - 1).wrapping_mul(s as u64));
    Hops {
        next: first,
        left: n,
        step: s as u64,
    }
}

/// The most sliding windows of width `w` sliding by `s` one time is in:
/// `ceil(w / s)`.
pub fn hop_max(w: i64, s: i64) -> u64 {
    (w as u64 - 1) / s as u64 + 1
}

/// The window starts [`hop`] yields.
#[derive(Clone, Debug)]
pub struct Hops {
    next: u64,
    left: u64,
    step: u64,
}

impl Iterator for Hops {
    type Item = i64;
    fn next(&mut self) -> Option<i64> {
        if self.left == 0 {
            return None;
        }
        let v = self.next as i64;
        self.next = self.next.wrapping_add(self.step);
        self.left -= 1;
        Some(v)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

impl ExactSizeIterator for Hops {}

/// A session: rows of one key no more than `gap` apart. It spans
/// `[start, last + gap)`: each row at `t` opens `[t, t + gap)`, and rows
/// whose spans overlap are one session (Flink's event-time sessions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    /// The earliest row.
    pub start: i64,
    /// The latest row.
    pub last: i64,
}

impl Session {
    fn touches(&self, t: i64, gap: i64) -> bool {
        if t >= self.last {
            (t as u64).wrapping_sub(self.last as u64) < gap as u64
        } else if t >= self.start {
            true
        } else {
            (self.start as u64).wrapping_sub(t as u64) < gap as u64
        }
    }
}

/// Adds a row at `t` to a key's open sessions `s`, kept sorted and apart:
/// the row joins the session it touches, merges the two it bridges (rows
/// may come in any order), or opens one. Returns the index of the session
/// now holding `t`.
///
/// ```
/// use dataweaver_guest::{session_add, Session};
/// let mut s = Vec::new();
/// session_add(&mut s, 0, 10);
/// session_add(&mut s, 30, 10);
/// assert_eq!(s.len(), 2);
/// session_add(&mut s, 15, 10); // touches neither: a third session
/// session_add(&mut s, 22, 10); // bridges 15 and 30
/// assert_eq!(s, vec![Session { start: 0, last: 0 }, Session { start: 15, last: 30 }]);
/// ```
pub fn session_add(s: &mut Vec<Session>, t: i64, gap: i64) -> usize {
    let mut i = 0;
    while i < s.len() && s[i].last < t && !s[i].touches(t, gap) {
        i += 1;
    }
    let mut j = i;
    while j < s.len() && s[j].touches(t, gap) {
        j += 1;
    }
    if j == i {
        s.insert(i, Session { start: t, last: t });
        return i;
    }
    let last = s[j - 1].last.max(t);
    s[i].start = s[i].start.min(t);
    s[i].last = last;
    s.drain(i + 1..j);
    i
}

/// How many of the first sessions of `s` no row can reach any more once
/// the watermark is `wm` (rows at or before it are late): those whose
/// span ends at or before `wm + 1`. They close in order, so a stage emits
/// and drops that many from the front.
pub fn sessions_closed(s: &[Session], wm: i64, gap: i64) -> usize {
    s.iter()
        .take_while(|x| wm >= x.last && (wm as u64).wrapping_sub(x.last as u64) >= gap as u64 - 1)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small PCG-like generator: the SDK has no dependencies.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let x = self.0;
            (x ^ (x >> 33)).wrapping_mul(0xff51afd7ed558ccd) ^ (x >> 29)
        }
        fn below(&mut self, n: i64) -> i64 {
            (self.next() % n as u64) as i64
        }
    }

    /// The windows holding t by definition, in exact (i128) arithmetic.
    fn hop_ref(t: i64, w: i64, s: i64) -> Vec<i64> {
        let (t, w, s) = (t as i128, w as i128, s as i128);
        let mut k = t.div_euclid(s);
        let mut out = Vec::new();
        while k * s > t - w {
            out.push((k * s) as i64); // wraps as the SDK does
            k -= 1;
        }
        out.reverse();
        out
    }

    #[test]
    fn hop_is_its_definition() {
        let mut rng = Rng(18);
        let mut cases = vec![
            (0, 60, 10),
            (-1, 60, 10),
            (65, 60, 60),
            (15, 10, 20),
            (i64::MAX, 60, 10),
            (i64::MIN, 60, 10),
            (0, i64::MAX, i64::MAX / 3),
            (i64::MAX, i64::MAX, i64::MAX),
            (i64::MIN, i64::MAX, i64::MAX / 2),
        ];
        for _ in 0..3000 {
            cases.push((rng.below(20000) - 10000, 1 + rng.below(300), 1 + rng.below(100)));
        }
        for (t, w, s) in cases {
            let got: Vec<i64> = hop(t, w, s).collect();
            assert_eq!(got, hop_ref(t, w, s), "hop({}, {}, {})", t, w, s);
            assert!(got.len() as u64 <= hop_max(w, s));
        }
    }

    /// Sessions by definition: rows at or behind the watermark (largest
    /// time seen minus lateness) are late; the rest, sorted, form a
    /// session while each is less than gap after the one before.
    fn sessions_ref(rows: &[i64], gap: i64, lateness: i64) -> (Vec<Session>, Vec<i64>) {
        let (mut kept, mut late, mut max) = (Vec::new(), Vec::new(), None::<i64>);
        for &t in rows {
            if let Some(m) = max {
                if t <= m - lateness {
                    late.push(t);
                    continue;
                }
            }
            kept.push(t);
            max = Some(max.map_or(t, |m| m.max(t)));
        }
        kept.sort();
        let mut out: Vec<Session> = Vec::new();
        for t in kept {
            match out.last_mut() {
                Some(s) if t - s.last < gap => s.last = t,
                _ => out.push(Session { start: t, last: t }),
            }
        }
        (out, late)
    }

    #[test]
    fn sessions_are_their_definition() {
        let mut rng = Rng(19);
        let mut closed_early = 0;
        for case in 0..400 {
            let gap = 1 + rng.below(50);
            let lateness = rng.below(3 * gap);
            let mut ts = rng.below(1000) - 500;
            let mut rows: Vec<(i64, i64)> = Vec::new(); // (arrival, time)
            for _ in 0..1 + rng.below(120) {
                ts += rng.below(2 * gap);
                rows.push((ts + rng.below(2 * gap), ts));
            }
            rows.sort_by_key(|r| r.0); // stable: arrival order
            let arrived: Vec<i64> = rows.iter().map(|r| r.1).collect();

            let (mut open, mut got, mut late, mut max) = (Vec::new(), Vec::new(), Vec::new(), None::<i64>);
            let mut closed = 0;
            for &t in &arrived {
                if let Some(m) = max {
                    if t <= m - lateness {
                        late.push(t);
                        continue;
                    }
                }
                session_add(&mut open, t, gap);
                let m = max.map_or(t, |m| m.max(t));
                max = Some(m);
                let k = sessions_closed(&open, m - lateness, gap);
                got.extend(open.drain(..k));
                closed += k;
            }
            got.extend(open.iter().copied());
            let (want, want_late) = sessions_ref(&arrived, gap, lateness);
            assert_eq!(
                (&got, &late),
                (&want, &want_late),
                "case {} gap {} lateness {} rows {:?}",
                case,
                gap,
                lateness,
                arrived
            );
            let wm = max.unwrap() - lateness;
            let want_closed = want.iter().filter(|s| wm - s.last >= gap - 1).count();
            assert_eq!(
                closed, want_closed,
                "case {}: sessions closed by the watermark {}",
                case, wm
            );
            closed_early += closed;
        }
        assert!(closed_early > 0, "the watermark closed no session");
    }
}
