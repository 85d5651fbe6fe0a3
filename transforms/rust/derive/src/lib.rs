//! derive adds a computed column: the Rust twin of transforms/derive. The
//! new int64 column holds round(source × factor), half away from zero; a
//! row whose result is NaN or outside int64 is rejected (the pipeline's
//! error policy handles it), and nulls stay null. The default turns an
//! amount into cents.
//!
//! ```yaml
//! stages:
//!   - wasm: transforms/rust/derive/derive.wasm
//!     config: {source: amount, target: amount_cents, factor: 100}
//! ```

use dataweaver_guest::{stage, Batch, Process, Setup};

stage!(setup);

/// 2^63: rounded values in [-LIM, LIM) fit in i64.
const LIM: f64 = 9223372036854775808.0;

fn setup(s: &mut Setup) -> Result<Process, String> {
    let c = s.config(&["source", "target", "factor"])?;
    let source = c.str("source")?.unwrap_or("amount").to_string();
    let target = c.str("target")?.unwrap_or("amount_cents").to_string();
    let f = c.f64("factor")?.unwrap_or(100.0);
    if target.is_empty() {
        return Err("config: target must name the new column".into());
    }
    let src = s.read::<f64>(&source);
    let dst = s.write::<i64>(&target, "int64");
    Ok(Box::new(move |b: &Batch| {
        let v = src.view(b);
        let mut out = dst.values(b);
        // 8 rows per iteration with no branch and no call per row (under a
        // stage timeout each iteration is a check by the host,
        // wasmabi/BENCH_NOTES.md); a block holding a row that does not
        // fit is redone row by row, out of line.
        let reject = |i: usize, x: f64| {
            if v.is_valid(i) {
                b.reject(
                    i,
                    format!("{}: {} × {} does not fit in int64", source, go_float(x), go_float(f)),
                );
            }
        };
        let mut o = out.chunks_exact_mut(8);
        let mut xs = v.values.chunks_exact(8);
        let mut at = 0;
        for (o, x) in (&mut o).zip(&mut xs) {
            let mut bad = 0u8;
            for k in 0..8 {
                let y = round(x[k] * f);
                bad |= outside(y);
                o[k] = y as i64;
            }
            if bad != 0 {
                redo(at, x, f, &reject);
            }
            at += 8;
        }
        let x = xs.remainder();
        for (o, x) in o.into_remainder().iter_mut().zip(x) {
            *o = round(x * f) as i64;
        }
        redo(at, x, f, &reject);
        if let Some(valid) = v.validity() {
            out.set_validity(valid);
        }
        Ok(())
    }))
}

/// Rejects the rows of a block (starting at row `at`) whose result does
/// not fit; the rare path, kept out of the block loop.
#[inline(never)]
#[cold]
fn redo(at: usize, x: &[f64], f: f64, reject: &dyn Fn(usize, f64)) {
    for (k, &x) in x.iter().enumerate() {
        if outside(round(x * f)) != 0 {
            reject(at + k, x);
        }
    }
}

/// f64::round (half away from zero) from operations that are single Wasm
/// instructions (f64.trunc, f64.abs, f64.copysign) and a select, so it
/// inlines with no call and no branch: f64::round itself is a call into
/// libm. x-t is exact (the fraction of an f64 is representable), and for
/// |x| ≥ 2^52, ±inf and NaN, x-t is 0 or NaN, so t (x itself) is the
/// result; -0 and small negatives keep their sign (t + ±0 with the sign
/// of x).
#[inline(always)]
fn round(x: f64) -> f64 {
    let t = x.trunc();
    t + f64::from(((x - t).abs() >= 0.5) as u8).copysign(x)
}

/// 1 when y (a rounded value) is NaN or does not fit in i64.
#[inline(always)]
fn outside(y: f64) -> u8 {
    !(-LIM..LIM).contains(&y) as u8
}

/// x as Go's fmt prints it with %v, so rejections read the same as the Go
/// stage's: the shortest digits that read back as x, in exponent form
/// when the decimal exponent is below -4 or 6 and above, as strconv's 'g'
/// with the shortest precision decides ("1e+06", "123456", "1e-05",
/// "0.0001", "+Inf", "NaN").
fn go_float(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    // Rust's {:e} is the shortest round-trip form too: "-1.5e-7", "0e0".
    let e = format!("{:e}", x);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mant) = match mant.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mant),
    };
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let mut out = String::from(sign);
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push_str(&format!("e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs()));
    } else if exp < 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-exp - 1) as usize));
        out.push_str(&digits);
    } else {
        let int = exp as usize + 1;
        if digits.len() <= int {
            out.push_str(&digits);
            out.push_str(&"0".repeat(int - digits.len()));
        } else {
            out.push_str(&digits[..int]);
            out.push('.');
            out.push_str(&digits[int..]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataweaver_guest::testing::{Column, Host};

    /// round must be f64::round bit for bit (sign of zero included) on
    /// edge values and many random ones; outside must agree with it.
    #[test]
    #[allow(clippy::manual_range_contains)] // spelled out: the model of outside
    fn round_is_f64_round() {
        let mut vals = vec![
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            -f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            0.49999999999999994,
            -0.49999999999999994,
            0.5000000000000001,
            -0.5000000000000001,
            4503599627370496.0,
            -4503599627370496.0,
            4503599627370497.0,
            4503599627370495.5,
            -4503599627370495.5,
            2251799813685248.5,
            LIM,
            -LIM,
            1.8446744073709552e19,
            9223372036854774784.0, // the largest f64 below 2^63
            123.455 * 100.0,
            1.005 * 100.0,
        ];
        for i in -40..=40 {
            let x = i as f64 / 2.0;
            vals.extend([
                x,
                f64::from_bits(x.to_bits() + 1),
                f64::from_bits(x.to_bits().wrapping_sub(1)),
            ]);
        }
        // xorshift: deterministic random bit patterns and magnitudes.
        let mut r = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            r
        };
        for _ in 0..200_000 {
            vals.push(f64::from_bits(next()));
            let m = (next() >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            vals.push(m * 2f64.powi((next() % 130) as i32 - 60));
        }
        for x in vals {
            let (got, want) = (round(x), x.round());
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "round({:e}) = {:e}, want {:e}",
                x,
                got,
                want
            );
            let out = want.is_nan() || want >= LIM || want < -LIM;
            assert_eq!(outside(want), out as u8, "outside({:e})", want);
        }
    }

    /// The outputs of Go's fmt.Sprintf("%v", x) for these values.
    #[test]
    fn go_float_is_go_v() {
        for (x, want) in [
            (100.0, "100"),
            (1e6, "1e+06"),
            (123456.0, "123456"),
            (123456789.0, "1.23456789e+08"),
            (1e20, "1e+20"),
            (9.223372036854776e18, "9.223372036854776e+18"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (-1e300, "-1e+300"),
            (-0.0, "-0"),
            (0.1, "0.1"),
            (92233720368547758.07, "9.223372036854776e+16"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (0.5, "0.5"),
            (-2.5, "-2.5"),
            (12.34, "12.34"),
            (99999.5, "99999.5"),
        ] {
            assert_eq!(go_float(x), want, "{:e}", x);
        }
    }

    #[test]
    fn stage_rounds_rejects_and_keeps_nulls() {
        let schema = [("amount", "float64"), ("s", "utf8")];
        let mut h = Host::bind(super::setup, "null", &schema).unwrap();
        for n in [0, 3, 8, 17] {
            let amounts: Vec<Option<f64>> = (0..n)
                .map(|i| match i % 6 {
                    0 => Some(1.005),
                    1 => None,
                    2 => Some(-2.345),
                    3 => Some(1e17),
                    4 => Some(f64::NAN),
                    _ => Some(i as f64 / 8.0),
                })
                .collect();
            let strs = vec![Some(""); n];
            let out = h.process(&[Column::f64(&amounts), Column::utf8(&strs)]).unwrap();
            let mut want_rej = vec![];
            let want: Vec<Option<i64>> = (0..n)
                .map(|i| match i % 6 {
                    0 => Some(100),
                    1 => None,
                    2 => Some(-235),
                    3 => {
                        want_rej.push((i, "amount: 1e+17 × 100 does not fit in int64".to_string()));
                        Some(i64::MAX)
                    }
                    4 => {
                        want_rej.push((i, "amount: NaN × 100 does not fit in int64".to_string()));
                        Some(0)
                    }
                    _ => Some((i as f64 / 8.0 * 100.0).round() as i64),
                })
                .collect();
            assert_eq!(out.rejected, want_rej, "n={}", n);
            // Rejected rows' values are left out by the host: compare the rest.
            let got = out.fixed::<i64>("amount_cents");
            for i in 0..n {
                if want_rej.iter().all(|r| r.0 != i) {
                    assert_eq!(got[i], want[i], "row {} of {}", i, n);
                }
            }
        }
        for (conf, err) in [
            (r#"{"target":""}"#, "target must name"),
            (r#"{"source":"s"}"#, "column \"s\" is utf8"),
            (r#"{"factor":"x"}"#, "factor: want a number"),
            (r#"{"source":"nope"}"#, "no column \"nope\""),
        ] {
            let got = Host::bind(super::setup, conf, &schema).err().unwrap_or_default();
            assert!(got.contains(err), "{}: {:?}", conf, got);
        }
    }
}
