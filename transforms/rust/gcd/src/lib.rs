//! gcd is arrow-udf's benchmark function: gcd(a, b) over two int32
//! columns into a new int32 column, by Euclid's algorithm on Rust's
//! truncating remainder (so, like Go's version, gcd(-6, 4) = -2 and
//! gcd(x, 0) = x). A row where either input is null is null.
//!
//! ```yaml
//! stages:
//!   - wasm: transforms/rust/gcd/gcd.wasm
//!     config: {a: a, b: b, target: gcd}
//! ```

use dataweaver_guest::{bitmap, stage, Batch, Process, Setup};

stage!(setup);

fn setup(s: &mut Setup) -> Result<Process, String> {
    let c = s.config(&["a", "b", "target"])?;
    let a = c.str("a")?.unwrap_or("a").to_string();
    let b = c.str("b")?.unwrap_or("b").to_string();
    let target = c.str("target")?.unwrap_or("gcd").to_string();
    let (ca, cb) = (s.read::<i32>(&a), s.read::<i32>(&b));
    let out = s.write::<i32>(&target, "int32");
    Ok(Box::new(move |batch: &Batch| {
        let (va, vb) = (ca.view(batch), cb.view(batch));
        let mut o = out.values(batch);
        // Four groups (64 rows) per loop iteration.
        let mut oc = o.chunks_exact_mut(4 * LANES);
        let (mut xa, mut xb) = (va.values.chunks_exact(4 * LANES), vb.values.chunks_exact(4 * LANES));
        for ((o, a), b) in (&mut oc).zip(&mut xa).zip(&mut xb) {
            gcd_lanes(&a[..LANES], &b[..LANES], &mut o[..LANES]);
            gcd_lanes(&a[LANES..2 * LANES], &b[LANES..2 * LANES], &mut o[LANES..2 * LANES]);
            gcd_lanes(
                &a[2 * LANES..3 * LANES],
                &b[2 * LANES..3 * LANES],
                &mut o[2 * LANES..3 * LANES],
            );
            gcd_lanes(&a[3 * LANES..], &b[3 * LANES..], &mut o[3 * LANES..]);
        }
        for ((o, a), b) in oc.into_remainder().iter_mut().zip(xa.remainder()).zip(xb.remainder()) {
            *o = gcd(*a, *b);
        }
        match (va.validity(), vb.validity()) {
            (None, None) => {}
            (Some(v), None) | (None, Some(v)) => o.set_validity(v),
            (Some(v), Some(w)) => {
                let mut both = v.to_vec();
                bitmap::and_assign(&mut both, w);
                o.set_validity(&both);
            }
        }
        Ok(())
    }))
}

/// Rows computed together: Euclid's loop runs until the slowest of them
/// is done, so a group costs the most steps one of its rows needs rather
/// than their sum. Under a stage timeout each loop iteration is a check by
/// the host, and the independent divisions of a group overlap in the CPU.
const LANES: usize = 16;

fn gcd(mut a: i32, mut b: i32) -> i32 {
    while b != 0 {
        (a, b) = (b, a.wrapping_rem(b));
    }
    a
}

/// Runs $body once for each lane index 0..16 written out: LLVM does not
/// fully unroll a 16-iteration loop holding divisions, and every
/// iteration left would be a check under a stage timeout.
macro_rules! lanes {
    ($k:ident => $body:block) => {
        lanes!(@ $k $body; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
    };
    (@ $k:ident $body:block; $($i:literal)*) => {
        $({
            let $k: usize = $i;
            $body
        })*
    };
}

/// a.wrapping_rem(b) for b != 0 (Go's %: the sign of a, 0 for
/// i32::MIN % -1) on the magnitudes: an unsigned remainder cannot
/// overflow, so neither Rust nor the host's compiled division tests for
/// -1 (wrapping_rem's test is a 3-way br_table per step in Wasm, and
/// wazero's i32.rem_s tests for -1 again).
#[inline(always)]
fn rem(a: i32, b: i32) -> i32 {
    let s = a >> 31;
    let r = (a.unsigned_abs() % b.unsigned_abs()) as i32;
    (r ^ s).wrapping_sub(s)
}

/// One Euclid step, (a, b) -> (b, a % b), on Go's % and leaving a row
/// that is done (b = 0) as it is. A divisor of 0 or -1 (whose remainder is
/// 0) is tested for with one unsigned comparison, so LLVM emits a bare
/// i32.rem_s behind it: wrapping_rem's own test for -1 became a 3-way
/// br_table per step, about 15% of the stage's CPU on arrow-udf's
/// batch.
#[inline(always)]
fn step(a: i32, b: i32) -> (i32, i32) {
    if (b as u32).wrapping_add(1) > 1 {
        (b, a % b)
    } else if b == 0 {
        (a, 0)
    } else {
        (-1, 0)
    }
}

/// gcd of LANES rows: two Euclid steps per row written out (branches, no
/// loop) straight into out; if a row is unfinished after them, finish
/// redoes the group in lockstep. The rows that need more than two steps
/// are out of line so that the batch loop's four groups stay a compact
/// run of code (arrow-udf's pairs all finish in the two steps: with the
/// lockstep loop inline, each group carried 1,700 rarely run Wasm
/// instructions between the hot ones).
#[inline(always)]
fn gcd_lanes(x: &[i32], y: &[i32], out: &mut [i32]) {
    let (x, y): (&[i32; LANES], &[i32; LANES]) = (x.try_into().unwrap(), y.try_into().unwrap());
    let out: &mut [i32; LANES] = out.try_into().unwrap();
    let mut live = 0;
    lanes!(k => {
        let (p, q) = step(x[k], y[k]);
        let (p, q) = step(p, q);
        out[k] = p;
        live |= q;
    });
    if live != 0 {
        finish(x, y, out);
    }
}

/// gcd of LANES rows in lockstep, branch-free: a row that is done (b = 0)
/// divides by 1 and keeps its a. Each iteration is one step of every row,
/// so a group costs the most steps one of its rows needs rather than their
/// sum, and the loop's checks under a stage timeout are per group step.
#[cold]
#[inline(never)]
fn finish(x: &[i32; LANES], y: &[i32; LANES], out: &mut [i32; LANES]) {
    let (mut a, mut b) = (*x, *y);
    let mut live = 1;
    while live != 0 {
        live = 0;
        lanes!(k => {
            let done = b[k] == 0;
            let r = rem(a[k], b[k] | done as i32);
            a[k] = if done { a[k] } else { b[k] };
            b[k] = if done { 0 } else { r };
            live |= b[k];
        });
    }
    *out = a;
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataweaver_guest::testing::{Column, Host};

    #[test]
    fn gcd_like_go() {
        for (a, b, want) in [
            (12, 18, 6),
            (-6, 4, -2),
            (6, -4, 2),
            (0, 5, 5),
            (-5, 0, -5),
            (0, 0, 0),
            (i32::MAX, i32::MAX - 1, 1),
            (i32::MIN, -1, -1),
            (-1, i32::MIN, -1),
            (i32::MIN, i32::MIN, i32::MIN),
            (i32::MIN, 0, i32::MIN),
        ] {
            assert_eq!(gcd(a, b), want, "gcd({}, {})", a, b);
            let mut o = [0; LANES];
            gcd_lanes(&[a; LANES], &[b; LANES], &mut o);
            assert_eq!(o, [want; LANES], "gcd_lanes({}, {})", a, b);
        }
    }

    #[test]
    fn lanes_agree_with_the_scalar_loop() {
        let mut r = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            r as i32 >> (r >> 59)
        };
        for _ in 0..20_000 {
            let a: Vec<i32> = (0..LANES).map(|_| next()).collect();
            let b: Vec<i32> = (0..LANES).map(|_| next()).collect();
            let mut o = [0; LANES];
            gcd_lanes(&a, &b, &mut o);
            for k in 0..LANES {
                assert_eq!(o[k], gcd(a[k], b[k]), "gcd({}, {})", a[k], b[k]);
            }
        }
    }

    #[test]
    fn stage() {
        let schema = [("a", "int32"), ("b", "int32"), ("id", "int64")];
        let mut h = Host::bind(super::setup, "{}", &schema).unwrap();
        let a: Vec<Option<i32>> = (0..150)
            .map(|i| if i == 4 { None } else { Some(i * 6 - 300) })
            .collect();
        let b: Vec<Option<i32>> = (0..150).map(|i| if i == 7 { None } else { Some(i * 4 + 2) }).collect();
        let out = h
            .process(&[Column::i32(&a), Column::i32(&b), Column::i64(&[Some(0); 150])])
            .unwrap();
        let want: Vec<Option<i32>> = (0..150)
            .map(|i| {
                if i == 4 || i == 7 {
                    None
                } else {
                    Some(gcd(i * 6 - 300, i * 4 + 2))
                }
            })
            .collect();
        assert_eq!(out.fixed::<i32>("gcd"), want);
        let h = Host::bind(super::setup, r#"{"a":"b","b":"a","target":"g"}"#, &schema).unwrap();
        assert_eq!(h.response.get("reads").unwrap().as_array().unwrap().len(), 2);
        let err = Host::bind(super::setup, r#"{"a":"id"}"#, &schema).err().unwrap();
        assert!(err.contains("column \"id\" is int64"), "{}", err);
    }
}
