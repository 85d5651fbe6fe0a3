//! The README's v2 example, compiled and run: if this file needs a
//! change, so does guest-sdk/rust/README.md ("ABI v2").

use dataweaver_guest::{stage_v2, tumble, Batch, Col, Out, OutStr, Setup, StageV2, StateReader, StrCol};

/// Rows per key per minute of ts, emitted when a later minute starts.
struct PerMinute {
    key: StrCol,
    ts: Col<i64>,
    o_start: Out<i64>,
    o_key: OutStr,
    o_rows: Out<i64>,
    open: Vec<(i64, Vec<u8>, i64)>, // window, key, rows
}

impl StageV2 for PerMinute {
    fn process(&mut self, b: &Batch) -> Result<(), String> {
        let (k, t) = (self.key.view(b), self.ts.view(b));
        for i in 0..b.len() {
            let w = tumble(t.values[i], 60_000_000); // µs
            if self.open.first().map_or(false, |g| g.0 < w) {
                self.finish(b)?; // a later minute: emit the open one
            }
            match self.open.iter_mut().find(|g| g.1 == k.bytes(i)) {
                Some(g) => g.2 += 1,
                None => self.open.push((w, k.bytes(i).to_vec(), 1)),
            }
        }
        Ok(())
    }

    // End of input: emit what is open. The rows come from no input row.
    fn finish(&mut self, b: &Batch) -> Result<(), String> {
        for (w, key, n) in self.open.drain(..) {
            b.emit(None);
            self.o_start.put(b, w);
            self.o_key.put_bytes(b, &key);
            self.o_rows.put(b, n);
        }
        Ok(())
    }

    fn snapshot(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"PM1"); // a tag naming the layout
        for (w, key, n) in &self.open {
            out.extend_from_slice(&w.to_le_bytes());
            out.extend_from_slice(&(key.len() as u32).to_le_bytes());
            out.extend_from_slice(key);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.magic(b"PM1")?; // refuse what it cannot read
        self.open.clear();
        while !r.is_empty() {
            let w = r.i64("a window")?;
            let len = r.u32("a key")? as usize;
            let key = r.bytes(len, "a key")?.to_vec();
            self.open.push((w, key, r.i64("a count")?));
        }
        r.end()
    }
}

fn setup(s: &mut Setup) -> Result<PerMinute, String> {
    s.drop_all(); // the output is the written columns only
    s.keep_state();
    Ok(PerMinute {
        key: s.read_string("country"),
        ts: s.read::<i64>("ts"),
        o_start: s.write::<i64>("start", "timestamp[us, UTC]"),
        o_key: s.write_string("key"),
        o_rows: s.write::<i64>("rows", "int64"),
        open: Vec::new(),
    })
}

stage_v2!(setup); // dw_bind, dw_process, dw_finish, dw_snapshot…

#[test]
fn readme_example() {
    use dataweaver_guest::testing::{Column, Host};
    const SCHEMA: &[(&str, &str)] = &[("country", "utf8"), ("ts", "timestamp[us, UTC]")];
    let mut h = Host::bind_v2(setup, "{}", SCHEMA, None).unwrap();
    let cols = [
        Column::utf8(&[Some("FR"), Some("DE"), Some("FR"), Some("FR")]),
        Column::fixed::<i64>("timestamp[us, UTC]", &[Some(1), Some(2), Some(3), Some(60_000_001)]),
    ];
    let out = h.process(&cols).unwrap();
    assert_eq!(out.strings("key"), [Some("FR".to_string()), Some("DE".to_string())]);
    assert_eq!(out.fixed::<i64>("rows"), [Some(2), Some(1)]);
    let state = h.snapshot();
    let mut fresh = Host::bind_v2(setup, "{}", SCHEMA, None).unwrap();
    assert!(fresh.restore(b"XX").is_err());
    fresh.restore(&state).unwrap();
    let end = fresh.finish().unwrap();
    assert_eq!(end.fixed::<i64>("start"), [Some(60_000_000)]);
    assert_eq!(end.fixed::<i64>("rows"), [Some(1)]);
    assert_eq!(end.origins, [None]);
}
