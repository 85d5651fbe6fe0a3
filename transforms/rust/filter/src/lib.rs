//! filter keeps the rows matching a predicate on one numeric or string
//! column: the Rust twin of transforms/filter (same configuration, same
//! rows kept, byte for byte).
//!
//! ```yaml
//! stages:
//!   - wasm: transforms/rust/filter/filter.wasm
//!     config: {column: amount, op: ">=", value: 0}
//! ```
//!
//! Ops: ==, !=, <, <=, >, >= (numbers, compared as f64; NaN matches
//! only !=), ==, != (strings; value is a string or a list of strings,
//! meaning "any of"). Null rows never match.

use dataweaver_guest::json::Json;
use dataweaver_guest::{bitmap, stage, Batch, Col, Fixed, Offsets, Process, Setup};

stage!(setup);

fn setup(s: &mut Setup) -> Result<Process, String> {
    let c = s.config(&["column", "op", "value"])?;
    let column = c.str("column")?.unwrap_or("").to_string();
    let op = match c.str("op")?.unwrap_or("") {
        "" => "==".to_string(),
        op => op.to_string(),
    };
    let value = c.get("value").cloned();
    if column.is_empty() {
        return Err("config: column is required".into());
    }
    let ty = match s.field(&column) {
        Some(f) => f.ty.clone(),
        None => return Err(format!("no column {:?} in the input", column)),
    };
    s.filter();
    match ty.as_str() {
        "utf8" | "large_utf8" | "binary" | "large_binary" => string_filter(s, &column, &op, value),
        "float64" => number_filter(&column, &op, value, s.read::<f64>(&column)),
        "int64" => number_filter(&column, &op, value, s.read::<i64>(&column)),
        "int32" => number_filter(&column, &op, value, s.read::<i32>(&column)),
        _ => Err(format!(
            "column {:?} is {}; filter takes float64, int64, int32 or string columns",
            column, ty
        )),
    }
}

fn string_filter(s: &mut Setup, column: &str, op: &str, value: Option<Json>) -> Result<Process, String> {
    let mut set: Vec<Vec<u8>> = match value {
        Some(Json::String(v)) => vec![v.into_bytes()],
        Some(Json::Array(items)) => {
            let mut set = Vec::with_capacity(items.len());
            for x in items {
                match x {
                    Json::String(v) => set.push(v.into_bytes()),
                    x => return Err(format!("config: value: {} is not a string", x.kind())),
                }
            }
            set
        }
        _ => {
            return Err(format!(
                "config: value must be a string or a list of strings for column {:?}",
                column
            ))
        }
    };
    // keep: rows in the set (==) or not in it (!=).
    let inv: u8 = match op {
        "==" => 0,
        "!=" => 0xff,
        _ => return Err(format!("config: op {:?} does not apply to strings (use == or !=)", op)),
    };
    set.sort();
    set.dedup();
    let col = s.read_string(column);
    Ok(Box::new(move |b: &Batch| {
        let v = col.view(b);
        let mut sel = b.keep_bits();
        let (offs, data) = v.raw();
        match (set.len(), offs) {
            (1, Offsets::Small(o)) => str_eq(&mut sel, o, data, &set[0], inv),
            (1, Offsets::Large(o)) => str_eq(&mut sel, o, data, &set[0], inv),
            _ => {
                for j in (0..b.len()).step_by(8) {
                    let mut m = 0u8;
                    for k in 0..(b.len() - j).min(8) {
                        let hit = set.binary_search_by(|w| w.as_slice().cmp(v.bytes(j + k))).is_ok();
                        m |= (hit as u8) << k;
                    }
                    sel[j >> 3] = m ^ inv;
                }
            }
        }
        if let Some(valid) = v.validity() {
            bitmap::and_assign(&mut sel, valid);
        }
        Ok(())
    }))
}

/// Columns a numeric filter reads, compared as f64 like the Go version
/// (int64 values beyond 2^53 round to the nearest f64 first).
trait Number: Fixed {
    fn f(self) -> f64;
}
impl Number for f64 {
    #[inline(always)]
    fn f(self) -> f64 {
        self
    }
}
impl Number for i64 {
    #[inline(always)]
    fn f(self) -> f64 {
        self as f64
    }
}
impl Number for i32 {
    #[inline(always)]
    fn f(self) -> f64 {
        self as f64
    }
}

/// The comparisons a kernel is specialised for: < and <= are > and >= on
/// negated operands (exact in f64; NaN still fails both), != is == with
/// the result inverted, so three kernels cover the six ops.
#[derive(Clone, Copy)]
enum Cmp {
    Eq,
    Gt,
    Ge,
}

fn number_filter<T: Number>(column: &str, op: &str, value: Option<Json>, col: Col<T>) -> Result<Process, String> {
    let x = match value {
        Some(Json::Number(x)) => x,
        _ => return Err(format!("config: value must be a number for column {:?}", column)),
    };
    let (cmp, sign, inv) = match op {
        "==" => (Cmp::Eq, 1.0, 0),
        "!=" => (Cmp::Eq, 1.0, 0xff),
        "<" => (Cmp::Gt, -1.0, 0),
        "<=" => (Cmp::Ge, -1.0, 0),
        ">" => (Cmp::Gt, 1.0, 0),
        ">=" => (Cmp::Ge, 1.0, 0),
        _ => return Err(format!("config: unknown op {:?} (==, !=, <, <=, >, >=)", op)),
    };
    let sx = sign * x;
    Ok(Box::new(move |b: &Batch| {
        let v = col.view(b);
        let mut sel = b.keep_bits();
        match cmp {
            Cmp::Eq => fill(&mut sel, v.values, inv, |y: T| sign * y.f() == sx),
            Cmp::Gt => fill(&mut sel, v.values, inv, |y: T| sign * y.f() > sx),
            Cmp::Ge => fill(&mut sel, v.values, inv, |y: T| sign * y.f() >= sx),
        }
        if let Some(valid) = v.validity() {
            bitmap::and_assign(&mut sel, valid);
        }
        Ok(())
    }))
}

/// Sets bit i of sel to pred(vals[i]) ^ inv, 64 rows per loop iteration:
/// the eight bytes of a block are unrolled and each byte's eight
/// comparisons are branch-free selects, so under a stage timeout the host
/// checks once per 64 rows (wasmabi/BENCH_NOTES.md).
#[inline(always)]
fn fill<T: Copy>(sel: &mut [u8], vals: &[T], inv: u8, pred: impl Fn(T) -> bool + Copy) {
    #[inline(always)]
    fn byte<T: Copy>(w: &[T], pred: impl Fn(T) -> bool) -> u8 {
        (pred(w[0]) as u8)
            | (pred(w[1]) as u8) << 1
            | (pred(w[2]) as u8) << 2
            | (pred(w[3]) as u8) << 3
            | (pred(w[4]) as u8) << 4
            | (pred(w[5]) as u8) << 5
            | (pred(w[6]) as u8) << 6
            | (pred(w[7]) as u8) << 7
    }
    let mut blocks = vals.chunks_exact(64);
    let mut out = sel.chunks_exact_mut(8);
    for (w, s) in (&mut blocks).zip(&mut out) {
        let m = u64::from_le_bytes([
            byte(&w[0..8], pred),
            byte(&w[8..16], pred),
            byte(&w[16..24], pred),
            byte(&w[24..32], pred),
            byte(&w[32..40], pred),
            byte(&w[40..48], pred),
            byte(&w[48..56], pred),
            byte(&w[56..64], pred),
        ]);
        s.copy_from_slice(&(m ^ u64::from_ne_bytes([inv; 8])).to_le_bytes());
    }
    let done = vals.len() - blocks.remainder().len();
    for (j, w) in blocks.remainder().chunks(8).enumerate() {
        let mut m = 0u8;
        for (k, &y) in w.iter().enumerate() {
            m |= (pred(y) as u8) << k;
        }
        sel[done / 8 + j] = m ^ inv;
    }
}

/// Offsets of a utf8 (i32) or large (i64) column.
trait Offset: Copy {
    fn at(self) -> usize;
}
impl Offset for i32 {
    #[inline(always)]
    fn at(self) -> usize {
        self as usize
    }
}
impl Offset for i64 {
    #[inline(always)]
    fn at(self) -> usize {
        self as usize
    }
}

/// Keeps the rows equal to want (inv = 0) or different from it (inv =
/// 0xff). A want of up to 8 bytes is compared as one masked 64-bit load
/// plus the length, branch-free, 8 rows per iteration, for rows that
/// start at least 8 bytes before the end of data; other rows compare as
/// slices.
fn str_eq<O: Offset>(sel: &mut [u8], offs: &[O], data: &[u8], want: &[u8], inv: u8) {
    let n = offs.len() - 1;
    let base = offs[0].at();
    let row = |i: usize| &data[offs[i].at() - base..offs[i + 1].at() - base];
    let mut j = 0;
    if want.len() <= 8 && data.len() >= 8 {
        let mut w8 = [0u8; 8];
        w8[..want.len()].copy_from_slice(want);
        let want_word = u64::from_le_bytes(w8);
        let mask = if want.len() == 8 {
            !0
        } else {
            (1u64 << (8 * want.len())) - 1
        };
        // Rows below safe start at least 8 bytes before the end of data.
        let mut safe = n;
        while safe > 0 && offs[safe - 1].at() - base > data.len() - 8 {
            safe -= 1;
        }
        let eq = |i: usize| -> u8 {
            let (s, e) = (offs[i].at() - base, offs[i + 1].at() - base);
            let mut w = [0u8; 8];
            w.copy_from_slice(&data[s..s + 8]);
            let d = ((e - s) ^ want.len()) as u64 | ((u64::from_le_bytes(w) & mask) ^ want_word);
            (d == 0) as u8
        };
        while j + 8 <= safe {
            sel[j >> 3] = inv
                ^ (eq(j)
                    | eq(j + 1) << 1
                    | eq(j + 2) << 2
                    | eq(j + 3) << 3
                    | eq(j + 4) << 4
                    | eq(j + 5) << 5
                    | eq(j + 6) << 6
                    | eq(j + 7) << 7);
            j += 8;
        }
    }
    while j < n {
        let mut m = 0u8;
        for k in 0..(n - j).min(8) {
            m |= ((row(j + k) == want) as u8) << k;
        }
        sel[j >> 3] = m ^ inv;
        j += 8;
    }
}

#[cfg(test)]
mod tests {
    use dataweaver_guest::testing::{Column, Host};

    const SCHEMA: &[(&str, &str)] = &[
        ("i", "int64"),
        ("x", "float64"),
        ("q", "int32"),
        ("s", "utf8"),
        ("l", "large_utf8"),
    ];

    fn cols(n: usize) -> Vec<Column> {
        let words = ["FR", "DE", "", "FRANCE12", "FRANCE123", "fr", "Ünï"];
        let i: Vec<Option<i64>> = (0..n)
            .map(|k| if k % 11 == 5 { None } else { Some(k as i64 - 40) })
            .collect();
        let x: Vec<Option<f64>> = (0..n)
            .map(|k| match k % 13 {
                3 => None,
                4 => Some(f64::NAN),
                _ => Some((k as f64 - 40.0) / 4.0),
            })
            .collect();
        let q: Vec<Option<i32>> = (0..n)
            .map(|k| if k % 7 == 6 { None } else { Some(k as i32 % 5 - 2) })
            .collect();
        let s: Vec<Option<&[u8]>> = (0..n)
            .map(|k| {
                if k % 9 == 8 {
                    None
                } else {
                    Some(words[k % words.len()].as_bytes())
                }
            })
            .collect();
        vec![
            Column::i64(&i),
            Column::f64(&x),
            Column::i32(&q),
            Column::var("utf8", &s, 0),
            Column::var("large_utf8", &s, 3),
        ]
    }

    /// The kept rows, against a per-row model of the Go filter.
    #[test]
    fn matches_a_row_by_row_model() {
        let model = |conf: &str, k: usize| -> bool {
            let words = ["FR", "DE", "", "FRANCE12", "FRANCE123", "fr", "Ünï"];
            let v: serde_like::V = serde_like::parse(conf);
            let y = |col: &str| -> Option<f64> {
                match col {
                    "i" if k % 11 != 5 => Some(k as f64 - 40.0),
                    "x" if k % 13 == 4 => Some(f64::NAN),
                    "x" if k % 13 != 3 => Some((k as f64 - 40.0) / 4.0),
                    "q" if k % 7 != 6 => Some((k as i32 % 5 - 2) as f64),
                    _ => None,
                }
            };
            match v.col.as_str() {
                "s" | "l" => {
                    if k % 9 == 8 {
                        return false;
                    }
                    let hit = v.strs.iter().any(|w| w == words[k % words.len()]);
                    hit == (v.op == "==")
                }
                col => match y(col) {
                    None => false,
                    Some(a) => match v.op.as_str() {
                        "==" => a == v.num,
                        "!=" => a != v.num,
                        "<" => a < v.num,
                        "<=" => a <= v.num,
                        ">" => a > v.num,
                        _ => a >= v.num,
                    },
                },
            }
        };
        let confs = [
            r#"{"column":"i","op":">=","value":3}"#,
            r#"{"column":"i","op":"<","value":-2.5}"#,
            r#"{"column":"x","value":1.25}"#,
            r#"{"column":"x","op":"!=","value":1.25}"#,
            r#"{"column":"x","op":"<=","value":0}"#,
            r#"{"column":"x","op":">","value":-3}"#,
            r#"{"column":"q","op":"!=","value":0}"#,
            r#"{"column":"q","op":"<","value":0.5}"#,
            r#"{"column":"s","value":"FR"}"#,
            r#"{"column":"s","op":"!=","value":"FRANCE12"}"#,
            r#"{"column":"s","value":"FRANCE123"}"#,
            r#"{"column":"s","value":""}"#,
            r#"{"column":"l","value":"DE"}"#,
            r#"{"column":"s","value":["FR","Ünï","FR"]}"#,
            r#"{"column":"l","op":"!=","value":["DE","fr"]}"#,
            r#"{"column":"s","value":[]}"#,
        ];
        for conf in confs {
            let mut h = Host::bind(super::setup, conf, SCHEMA).unwrap_or_else(|e| panic!("{}: {}", conf, e));
            for n in [0, 1, 7, 8, 9, 63, 64, 65, 200] {
                let out = h.process(&cols(n)).unwrap();
                let want: Vec<bool> = (0..n).map(|k| model(conf, k)).collect();
                assert_eq!(out.kept(), want, "{} on {} rows", conf, n);
            }
        }
    }

    #[test]
    fn config_errors() {
        for (conf, want) in [
            ("{}", "config: column is required"),
            (r#"{"column":"nope","value":1}"#, "no column \"nope\" in the input"),
            (r#"{"column":"s","op":"<","value":"FR"}"#, "does not apply to strings"),
            (r#"{"column":"x","value":"1"}"#, "value must be a number"),
            (r#"{"column":"x"}"#, "value must be a number"),
            (r#"{"column":"x","op":"~","value":1}"#, "unknown op \"~\""),
            (
                r#"{"column":"s","value":["FR",1]}"#,
                "config: value: a number is not a string",
            ),
            (
                r#"{"column":"s","value":true}"#,
                "must be a string or a list of strings",
            ),
            (r#"{"column":"s","value":"a","extra":1}"#, "unknown field \"extra\""),
            (r#"{"column":"s","op":5,"value":"a"}"#, "config: op: want a string"),
        ] {
            match Host::bind(super::setup, conf, SCHEMA) {
                Ok(_) => panic!("{} bound", conf),
                Err(e) => assert!(e.contains(want), "{}: {:?} lacks {:?}", conf, e, want),
            }
        }
        let err = Host::bind(super::setup, r#"{"column":"b","value":1}"#, &[("b", "bool")])
            .err()
            .unwrap();
        assert_eq!(
            err,
            "column \"b\" is bool; filter takes float64, int64, int32 or string columns"
        );
    }

    /// Just enough of the test configurations' JSON for the model.
    mod serde_like {
        use dataweaver_guest::json::Json;

        pub struct V {
            pub col: String,
            pub op: String,
            pub num: f64,
            pub strs: Vec<String>,
        }

        pub fn parse(conf: &str) -> V {
            let j = Json::parse(conf.as_bytes()).unwrap();
            let value = j.get("value").unwrap();
            V {
                col: j.get("column").unwrap().as_str().unwrap().into(),
                op: j.get("op").and_then(Json::as_str).unwrap_or("==").into(),
                num: value.as_f64().unwrap_or(f64::NAN),
                strs: match value {
                    Json::String(s) => vec![s.clone()],
                    Json::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
                    _ => vec![],
                },
            }
        }
    }
}
