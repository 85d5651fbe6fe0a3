//! window_agg counts, sums and averages a value per key per tumbling
//! window of event time (ABI v2), with the same output as the C one
//! (transforms/c/window_agg) row for row, and the same state layout, so
//! either restores the other's snapshot. For the orders table, the count,
//! sum and average of amount per country per minute of ts:
//!
//! ```yaml
//! stages:
//!   - wasm: transforms/rust/window_agg/window_agg.wasm
//!     config: {key: country, value: amount, time: ts, seconds: 60}
//! ```
//!
//! Its output is one row per key and window: window_start (the time
//! column's type), key (utf8), count (int64, rows), sum and avg (float64,
//! over the rows whose value is not null; avg is null when there are
//! none). Every input column is dropped.
//!
//! Without an event-time column declared, the input is taken to arrive in
//! event-time order: the open window is emitted when the first row of a
//! later window arrives. With one (the wasm stage's event_time and
//! lateness, and config time naming the same column), several windows
//! stay open, and each is emitted once the host's watermark passes its
//! end. Either way what is open is emitted at end of input, and a row
//! whose window was already emitted is rejected as too late, as is a row
//! whose key or time is null, so the error policy decides about it.
//!
//! The open windows are the stage's state: saved at every checkpoint and
//! restored when a run resumes.

use dataweaver_guest::{stage_v2, tumble, Batch, Col, Out, OutStr, Setup, StageV2, StateReader, StrCol};

stage_v2!(setup);

/// One key's aggregate in one window.
struct Group {
    window: i64,
    key: Box<[u8]>,
    count: i64,
    values: i64,
    sum: f64,
}

struct WindowAgg {
    key: StrCol,
    value: Col<f64>,
    time: Col<i64>,
    o_start: Out<i64>,
    o_key: OutStr,
    o_count: Out<i64>,
    o_sum: Out<f64>,
    o_avg: Out<f64>,
    /// In the time column's unit.
    width: i64,
    by_watermark: bool,
    /// The open groups in order of arrival (the order they are emitted
    /// in); latest is the newest window opened, closed_before the end of
    /// the windows already emitted (a row of an earlier window is late).
    groups: Vec<Group>,
    any: bool,
    latest: i64,
    closed_before: i64,
    /// Open addressing over groups: index + 1, 0 = empty. A table of our
    /// own because std's HashMap cannot look up a (window, &[u8]) key
    /// without building an owned key per row.
    table: Vec<u32>,
}

/// FNV-1a over the key, mixed with the window (C's hash: only where a
/// group sits in the table depends on it, never the output).
fn hash(w: i64, key: &[u8]) -> u32 {
    let mut h = 2166136261u32;
    for &b in key {
        h = (h ^ b as u32).wrapping_mul(16777619);
    }
    h ^ ((w ^ (w >> 32)) as u32).wrapping_mul(2654435761)
}

impl WindowAgg {
    fn rehash(&mut self, cap: usize) {
        self.table.clear();
        self.table.resize(cap, 0);
        let mask = cap - 1;
        for (i, g) in self.groups.iter().enumerate() {
            let mut h = hash(g.window, &g.key) as usize & mask;
            while self.table[h] != 0 {
                h = (h + 1) & mask;
            }
            self.table[h] = i as u32 + 1;
        }
    }

    /// The group of window w and key, made (with a copy of the key) if new.
    fn group(&mut self, w: i64, key: &[u8]) -> &mut Group {
        if 2 * (self.groups.len() + 1) > self.table.len() {
            let cap = (2 * self.table.len()).max(64);
            self.rehash(cap);
        }
        let mask = self.table.len() - 1;
        let mut h = hash(w, key) as usize & mask;
        while self.table[h] != 0 {
            let i = self.table[h] as usize - 1;
            let g = &self.groups[i];
            if g.window == w && *g.key == *key {
                return &mut self.groups[i];
            }
            h = (h + 1) & mask;
        }
        self.groups.push(Group {
            window: w,
            key: key.into(),
            count: 0,
            values: 0,
            sum: 0.0,
        });
        self.table[h] = self.groups.len() as u32;
        self.groups.last_mut().expect("just pushed")
    }

    /// Emits the groups of every window starting before end, in order of
    /// arrival, and forgets them.
    fn close_before(&mut self, b: &Batch, end: i64) {
        let before = self.groups.len();
        let mut kept = 0;
        for i in 0..before {
            if self.groups[i].window >= end {
                self.groups.swap(kept, i);
                kept += 1;
                continue;
            }
            let g = &self.groups[i];
            b.emit(None);
            self.o_start.put(b, g.window);
            self.o_key.put_bytes(b, &g.key);
            self.o_count.put(b, g.count);
            self.o_sum.put(b, g.sum);
            if g.values > 0 {
                self.o_avg.put(b, g.sum / g.values as f64);
            } else {
                self.o_avg.put_null(b);
            }
        }
        if kept != before {
            self.groups.truncate(kept);
            let cap = self.table.len().max(64);
            self.rehash(cap);
        }
        self.closed_before = self.closed_before.max(end);
    }
}

impl StageV2 for WindowAgg {
    fn process(&mut self, b: &Batch) -> Result<(), String> {
        let (k, v, t) = (self.key.view(b), self.value.view(b), self.time.view(b));
        for i in 0..b.len() {
            if !k.is_valid(i) || !t.is_valid(i) {
                b.reject(i, "window_agg: the key or the time is null");
                continue;
            }
            let w = tumble(t.values[i], self.width);
            if w < self.closed_before || (!self.by_watermark && self.any && w < self.latest) {
                b.reject(i, "window_agg: row too late (its window was already emitted)");
                continue;
            }
            if !self.by_watermark && self.any && w > self.latest {
                self.close_before(b, w);
            }
            if !self.any || w > self.latest {
                self.latest = w;
            }
            self.any = true;
            let valid = v.is_valid(i);
            let x = v.values[i];
            let g = self.group(w, k.bytes(i));
            g.count += 1;
            if valid {
                g.values += 1;
                g.sum += x;
            }
        }
        Ok(())
    }

    /// A watermark wm says no row of time <= wm is still to come, so the
    /// window [w, w+width) is complete once w+width-1 <= wm.
    fn watermark(&mut self, b: &Batch, wm: i64) -> Result<(), String> {
        let end = wm.saturating_sub(self.width).saturating_add(2);
        self.close_before(b, end);
        Ok(())
    }

    /// Emits every open window. Rows of the windows emitted are late from
    /// now on, later ones are not: a run resuming after this one (a file
    /// source reading files added since) goes on with new windows.
    fn finish(&mut self, b: &Batch) -> Result<(), String> {
        let next = self.latest.saturating_add(self.width);
        let end = if self.any && next > self.closed_before {
            next
        } else {
            self.closed_before
        };
        self.close_before(b, i64::MAX);
        self.closed_before = end;
        self.any = false;
        Ok(())
    }

    /// "WAG2", the window width, any, latest, closed_before, the number
    /// of groups, then per group its window, key length and bytes, count,
    /// values, sum; little-endian, as the C window_agg writes it.
    fn snapshot(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"WAG2");
        out.extend_from_slice(&self.width.to_le_bytes());
        out.push(self.any as u8);
        out.extend_from_slice(&self.latest.to_le_bytes());
        out.extend_from_slice(&self.closed_before.to_le_bytes());
        out.extend_from_slice(&(self.groups.len() as u32).to_le_bytes());
        for g in &self.groups {
            out.extend_from_slice(&g.window.to_le_bytes());
            out.extend_from_slice(&(g.key.len() as u32).to_le_bytes());
            out.extend_from_slice(&g.key);
            out.extend_from_slice(&g.count.to_le_bytes());
            out.extend_from_slice(&g.values.to_le_bytes());
            out.extend_from_slice(&g.sum.to_le_bytes());
        }
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        self.groups.clear();
        self.rehash(64);
        let mut r = StateReader::new(state);
        r.magic(b"WAG2")?;
        let width = r.i64("its header")?;
        let any = r.u8("its header")? != 0;
        self.latest = r.i64("its header")?;
        self.closed_before = r.i64("its header")?;
        let n = r.u32("its header")?;
        if width != self.width {
            return Err("the state is of windows of another width; reset the positions to change it".into());
        }
        for _ in 0..n {
            let w = r.i64("a key")?;
            let len = r.u32("a key")? as usize;
            let key = r.bytes(len, "a key")?;
            let (count, values, sum) = (r.i64("a group")?, r.i64("a group")?, r.f64("a group")?);
            let g = self.group(w, key);
            g.count = count;
            g.values = values;
            g.sum = sum;
        }
        r.end()?;
        self.any = any;
        Ok(())
    }
}

/// The time unit of an ABI timestamp type name, per second.
fn unit_per_second(ty: &str) -> Option<i64> {
    let unit = ty.strip_prefix("timestamp[")?;
    let unit = &unit[..unit.find(|c| c == ']' || c == ',')?];
    match unit {
        "s" => Some(1),
        "ms" => Some(1_000),
        "us" => Some(1_000_000),
        "ns" => Some(1_000_000_000),
        _ => None,
    }
}

fn setup(s: &mut Setup) -> Result<WindowAgg, String> {
    let c = s.config(&["key", "value", "time", "seconds"])?;
    let key = c.str("key")?.unwrap_or("country").to_string();
    let value = c.str("value")?.unwrap_or("amount").to_string();
    let tcol = c.str("time")?.unwrap_or("ts").to_string();
    let seconds = c.f64("seconds")?.unwrap_or(60.0);
    let (kc, vc, tc) = (s.read_string(&key), s.read::<f64>(&value), s.read::<i64>(&tcol));
    let tty = s.field(&tcol).map(|f| f.ty.clone());
    let per = tty.as_deref().and_then(unit_per_second);
    if let (Some(ty), None) = (&tty, per) {
        s.error(format!("time column {} is {}, want a timestamp", tcol, ty));
    }
    if !(1.0..=366.0 * 86400.0).contains(&seconds) || seconds != seconds.trunc() {
        s.error("seconds must be a whole number of seconds from 1 to a year");
    }
    let ev = s.event_time().map(str::to_string);
    if let Some(ev) = &ev {
        if *ev != tcol {
            s.error(format!(
                "the pipeline's event_time is {}, but config time is {}: window by the column the watermark follows",
                ev, tcol
            ));
        }
    }
    s.drop_all();
    s.keep_state();
    let o_start = s.write::<i64>("window_start", tty.as_deref().unwrap_or("int64"));
    let o_key = s.write_string("key");
    let o_count = s.write::<i64>("count", "int64");
    let o_sum = s.write::<f64>("sum", "float64");
    let o_avg = s.write::<f64>("avg", "float64");
    Ok(WindowAgg {
        key: kc,
        value: vc,
        time: tc,
        o_start,
        o_key,
        o_count,
        o_sum,
        o_avg,
        width: seconds as i64 * per.unwrap_or(0),
        by_watermark: ev.is_some(),
        groups: Vec::new(),
        any: false,
        latest: 0,
        closed_before: i64::MIN,
        table: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataweaver_guest::testing::{Column, Host, Output};

    const SCHEMA: &[(&str, &str)] = &[("country", "utf8"), ("amount", "float64"), ("ts", "timestamp[s]")];

    fn rows(r: &[(Option<&str>, Option<f64>, Option<i64>)]) -> Vec<Column> {
        let k: Vec<_> = r.iter().map(|x| x.0).collect();
        let a: Vec<_> = r.iter().map(|x| x.1).collect();
        let t: Vec<_> = r.iter().map(|x| x.2).collect();
        vec![Column::utf8(&k), Column::f64(&a), Column::fixed("timestamp[s]", &t)]
    }

    /// Per emitted row: window, key, count, sum, avg.
    fn aggs(o: &Output) -> Vec<(i64, String, i64, f64, Option<f64>)> {
        let (w, k, c) = (
            o.fixed::<i64>("window_start"),
            o.strings("key"),
            o.fixed::<i64>("count"),
        );
        let (s, a) = (o.fixed::<f64>("sum"), o.fixed::<f64>("avg"));
        (0..w.len())
            .map(|i| (w[i].unwrap(), k[i].clone().unwrap(), c[i].unwrap(), s[i].unwrap(), a[i]))
            .collect()
    }

    #[test]
    fn windows_in_order_late_rows_and_end_of_input() {
        let mut h = Host::bind_v2(setup, r#"{"seconds":10}"#, SCHEMA, None).unwrap();
        let out = h
            .process(&rows(&[
                (Some("FR"), Some(1.0), Some(1)),
                (Some("DE"), None, Some(2)),
                (Some("FR"), Some(2.0), Some(9)),
                (None, Some(5.0), Some(9)),
                (Some("FR"), Some(4.0), Some(12)),
                (Some("FR"), Some(8.0), Some(3)),
            ]))
            .unwrap();
        assert_eq!(
            aggs(&out),
            [(0, "FR".into(), 2, 3.0, Some(1.5)), (0, "DE".into(), 1, 0.0, None)]
        );
        assert_eq!(
            out.rejected,
            [
                (3, "window_agg: the key or the time is null".to_string()),
                (
                    5,
                    "window_agg: row too late (its window was already emitted)".to_string()
                )
            ]
        );
        assert_eq!(aggs(&h.finish().unwrap()), [(10, "FR".into(), 1, 4.0, Some(4.0))]);
    }

    #[test]
    fn watermarks_state_and_refusals() {
        let mut h = Host::bind_v2(setup, r#"{"seconds":10}"#, SCHEMA, Some("ts")).unwrap();
        let out = h
            .process(&rows(&[
                (Some("FR"), Some(1.0), Some(12)),
                (Some("FR"), Some(2.0), Some(3)),
            ]))
            .unwrap();
        assert!(aggs(&out).is_empty(), "under watermarks a later window closes nothing");
        assert!(aggs(&h.watermark(8).unwrap()).is_empty(), "[0, 10) is open until 9");
        let state = h.snapshot();
        let mut fresh = Host::bind_v2(setup, r#"{"seconds":10}"#, SCHEMA, Some("ts")).unwrap();
        fresh.restore(&state).unwrap();
        assert_eq!(
            aggs(&fresh.watermark(9).unwrap()),
            [(0, "FR".into(), 1, 2.0, Some(2.0))]
        );
        assert_eq!(aggs(&fresh.finish().unwrap()), [(10, "FR".into(), 1, 1.0, Some(1.0))]);

        let mut other = Host::bind_v2(setup, r#"{"seconds":20}"#, SCHEMA, Some("ts")).unwrap();
        assert!(other.restore(&state).unwrap_err().contains("another width"));
        assert!(fresh
            .restore(&state[..state.len() - 1])
            .unwrap_err()
            .contains("cut short"));
        let err = Host::bind_v2(setup, r#"{"seconds":1.5}"#, SCHEMA, Some("amount"))
            .err()
            .unwrap();
        assert!(
            err.contains("whole number") && err.contains("event_time is amount"),
            "{}",
            err
        );
        let err = Host::bind_v2(setup, r#"{"time":"amount"}"#, SCHEMA, None)
            .err()
            .unwrap();
        assert!(err.contains("amount"), "{}", err);
    }
}
