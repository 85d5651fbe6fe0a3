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
        let mut oc = o.chunks_exact_mut(LANES);
        let (mut xa, mut xb) = (va.values.chunks_exact(LANES), vb.values.chunks_exact(LANES));
        for ((o, a), b) in (&mut oc).zip(&mut xa).zip(&mut xb) {
            gcd_lanes(a, b, o);
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
/// is done, so more lanes cost more remainders but fewer loop iterations
/// (each one a check by the host under a stage timeout) and let the CPU
/// overlap independent divisions.
const LANES: usize = 8;

fn gcd(mut a: i32, mut b: i32) -> i32 {
    while b != 0 {
        (a, b) = (b, a.wrapping_rem(b));
    }
    a
}

/// gcd of LANES rows in lockstep, branch-free inside the loop: a lane
/// that is done (b = 0) divides by 1 and keeps its a. wrapping_rem is
/// Go's % for i32::MIN % -1 (0, where Rust's % would panic).
#[inline(always)]
fn gcd_lanes(a: &[i32], b: &[i32], out: &mut [i32]) {
    let mut x = [0i32; LANES];
    let mut y = [0i32; LANES];
    x.copy_from_slice(a);
    y.copy_from_slice(b);
    loop {
        let mut live = 0;
        for k in 0..LANES {
            let done = y[k] == 0;
            let r = x[k].wrapping_rem(if done { 1 } else { y[k] });
            x[k] = if done { x[k] } else { y[k] };
            y[k] = if done { 0 } else { r };
            live |= y[k];
        }
        if live == 0 {
            break;
        }
    }
    out.copy_from_slice(&x);
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
        let a: Vec<Option<i32>> = (0..19).map(|i| if i == 4 { None } else { Some(i * 6) }).collect();
        let b: Vec<Option<i32>> = (0..19).map(|i| if i == 7 { None } else { Some(i * 4 + 2) }).collect();
        let out = h
            .process(&[Column::i32(&a), Column::i32(&b), Column::i64(&[Some(0); 19])])
            .unwrap();
        let want: Vec<Option<i32>> = (0..19)
            .map(|i| {
                if i == 4 || i == 7 {
                    None
                } else {
                    Some(gcd(i * 6, i * 4 + 2))
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
