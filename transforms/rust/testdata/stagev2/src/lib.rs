//! stagev2 is the Rust twin of the C SDK's v2 test stage
//! (guest-sdk/c/sdktest/testdata/stagev2): transforms/v2test checks that
//! both give the same output through the host, call for call. It reads
//! int64 "id" and utf8 "s" and writes int64 "n", int32 "m", bool "even",
//! utf8 "txt" and float64 "x". For each input row i:
//!
//! - id < 0: the row is rejected ("negative id"), nothing emitted;
//! - else one row from i: n = tumble(id, 10), m = id, even = id is even,
//!   txt = s, x = id / 2;
//! - and when id is a multiple of 3, a second row from i whose five
//!   columns are null.
//!
//! Input columns pass through unless config drop_all is true. The state
//! is the count of rows seen (8 bytes, little-endian, as the C stage's);
//! at end of input a drop_all stage emits one row of no origin with n =
//! that count, txt = "end" and the rest null.

use dataweaver_guest::{stage_v2, tumble, Batch, Col, Out, OutBool, OutStr, Setup, StageV2, StrCol};

stage_v2!(setup);

struct Check {
    id: Col<i64>,
    s: StrCol,
    n: Out<i64>,
    m: Out<i32>,
    even: OutBool,
    txt: OutStr,
    x: Out<f64>,
    drop_all: bool,
    seen: i64,
}

impl StageV2 for Check {
    fn process(&mut self, b: &Batch) -> Result<(), String> {
        let (iv, sv) = (self.id.view(b), self.s.view(b));
        for (i, &v) in iv.values.iter().enumerate() {
            self.seen += 1;
            if v < 0 {
                b.reject(i, "negative id");
                continue;
            }
            b.emit(Some(i));
            self.n.put(b, tumble(v, 10));
            self.m.put(b, v as i32);
            self.even.put(b, v % 2 == 0);
            self.txt.put_bytes(b, sv.bytes(i));
            self.x.put(b, v as f64 / 2.0);
            if v % 3 == 0 {
                b.emit(Some(i));
                self.n.put_null(b);
                self.m.put_null(b);
                self.even.put_null(b);
                self.txt.put_null(b);
                self.x.put_null(b);
            }
        }
        Ok(())
    }

    fn finish(&mut self, b: &Batch) -> Result<(), String> {
        if !self.drop_all {
            return Ok(());
        }
        b.emit(None);
        self.n.put(b, self.seen);
        self.m.put_null(b);
        self.even.put_null(b);
        self.txt.put(b, "end");
        self.x.put_null(b);
        Ok(())
    }

    fn snapshot(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.seen.to_le_bytes());
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        let mut a = [0u8; 8];
        if state.len() != 8 {
            return Err("stagev2: want 8 bytes of state".into());
        }
        a.copy_from_slice(state);
        self.seen = i64::from_le_bytes(a);
        Ok(())
    }
}

fn setup(s: &mut Setup) -> Result<Check, String> {
    let drop_all = s.config(&["drop_all"])?.bool("drop_all")?.unwrap_or(false);
    let c = Check {
        id: s.read::<i64>("id"),
        s: s.read_string("s"),
        n: s.write::<i64>("n", "int64"),
        m: s.write::<i32>("m", "int32"),
        even: s.write_bool("even"),
        txt: s.write_string("txt"),
        x: s.write::<f64>("x", "float64"),
        drop_all,
        seen: 0,
    };
    if drop_all {
        s.drop_all();
    }
    s.keep_state();
    Ok(c)
}
