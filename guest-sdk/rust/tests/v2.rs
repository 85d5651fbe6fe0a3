//! ABI v2 through the testing host: emitted rows and their origins,
//! values of every kind and nulls, the bind answer's v2 fields, end of
//! input, watermarks, state, and the misuse a stage can make of them.

use dataweaver_guest::json::Json;
use dataweaver_guest::testing::{Column, Host};
use dataweaver_guest::{tumble, Batch, Col, Out, OutBool, OutStr, Setup, StageV2, StateReader, StrCol};

const SCHEMA: &[(&str, &str)] = &[("id", "int64"), ("amount", "float64"), ("name", "utf8")];

fn columns(amounts: &[Option<f64>], names: &[Option<&str>]) -> Vec<Column> {
    let ids: Vec<Option<i64>> = (0..amounts.len() as i64).map(Some).collect();
    vec![Column::i64(&ids), Column::f64(amounts), Column::utf8(names)]
}

/// Explode: each input row k times (config `times`), with its origin,
/// and a value of every output kind per copy; a null amount gives nulls
/// in every written column; a negative amount is rejected.
struct Explode {
    times: usize,
    amount: Col<f64>,
    name: StrCol,
    copy: Out<i32>,
    big: Out<i64>,
    half: Out<f64>,
    even: OutBool,
    label: OutStr,
}

impl StageV2 for Explode {
    fn process(&mut self, b: &Batch) -> Result<(), String> {
        let (a, n) = (self.amount.view(b), self.name.view(b));
        for i in 0..b.len() {
            if a.is_valid(i) && a.values[i] < 0.0 {
                b.reject(i, format!("amount {} is negative", a.values[i]));
                continue;
            }
            for k in 0..self.times {
                let row = b.emit(Some(i));
                assert_eq!(row + 1, b.emitted());
                // Columns may be given in any order.
                self.label.put_bytes(b, n.bytes(i));
                if !a.is_valid(i) {
                    self.copy.put_null(b);
                    self.big.put_null(b);
                    self.half.put_null(b);
                    self.even.put_null(b);
                    continue;
                }
                self.copy.put(b, k as i32);
                self.big.put(b, (a.values[i] * 100.0) as i64);
                self.half.put(b, a.values[i] / 2.0);
                self.even.put(b, k % 2 == 0);
            }
        }
        Ok(())
    }
}

fn explode(s: &mut Setup) -> Result<Explode, String> {
    let times = s.config(&["times"])?.f64("times")?.unwrap_or(2.0) as usize;
    let amount = s.read::<f64>("amount");
    let name = s.read_string("name");
    s.drop_column("id");
    Ok(Explode {
        times,
        amount,
        name,
        copy: s.write::<i32>("copy", "int32"),
        big: s.write::<i64>("big", "int64"),
        half: s.write::<f64>("half", "float64"),
        even: s.write_bool("even"),
        label: s.write_string("label"),
    })
}

#[test]
fn emits_rows_with_origins_values_and_nulls() {
    let mut h = Host::bind_v2(explode, r#"{"times":3}"#, SCHEMA, None).unwrap();
    // The bind answer: no v2 fields the stage did not ask for.
    assert_eq!(h.response.get("drop_all"), None);
    assert_eq!(h.response.get("state"), None);
    assert_eq!(h.response.get("filter").and_then(Json::as_bool), Some(false));

    let out = h
        .process(&columns(
            &[Some(1.5), None, Some(-1.0), Some(4.0)],
            &[Some("a"), Some("bé"), Some("c"), None],
        ))
        .unwrap();
    let o = |i| Some(i);
    assert_eq!(out.origins, [o(0), o(0), o(0), o(1), o(1), o(1), o(3), o(3), o(3)]);
    assert_eq!(out.rejected, [(2, "amount -1 is negative".to_string())]);
    assert_eq!(
        out.fixed::<i32>("copy"),
        [Some(0), Some(1), Some(2), None, None, None, Some(0), Some(1), Some(2)]
    );
    assert_eq!(
        out.fixed::<i64>("big"),
        [
            Some(150),
            Some(150),
            Some(150),
            None,
            None,
            None,
            Some(400),
            Some(400),
            Some(400)
        ]
    );
    assert_eq!(
        out.fixed::<f64>("half")[..4],
        [Some(0.75), Some(0.75), Some(0.75), None]
    );
    let even = out.bytes("even");
    assert_eq!(even[3..6], [None, None, None]);
    assert_eq!(even[6..], [Some(vec![1]), Some(vec![0]), Some(vec![1])]);
    // The null input name is an empty value (the stage put its bytes).
    let labels = out.strings("label");
    assert_eq!(
        labels[3..7],
        [Some("bé".into()), Some("bé".into()), Some("bé".into()), Some("".into())]
    );

    // The next call starts empty, and more rows than a bitmap byte with a
    // null far from the first keeps the rows after it valid.
    let amounts: Vec<Option<f64>> = (0..20).map(|i| if i == 9 { None } else { Some(i as f64) }).collect();
    let names: Vec<Option<&str>> = (0..20).map(|_| Some("x")).collect();
    let out = h.process(&columns(&amounts, &names)).unwrap();
    assert_eq!(out.origins.len(), 60);
    let copy = out.fixed::<i32>("copy");
    for (r, v) in copy.iter().enumerate() {
        assert_eq!(v.is_none(), r / 3 == 9, "row {}", r);
    }
    assert!(out.rejected.is_empty());

    // No rows at all: a batch of zero, or one that emits nothing.
    let mut none = Host::bind_v2(explode, r#"{"times":0}"#, SCHEMA, None).unwrap();
    let out = none.process(&columns(&[Some(1.0)], &[Some("a")])).unwrap();
    assert!(out.origins.is_empty() && out.fixed::<i32>("copy").is_empty());
}

/// Count: the number of rows and the sum of amount per tumbling window of
/// `id` (width 10), all input dropped, emitted when a later window comes,
/// on a watermark, and at end of input; the open window is its state.
#[derive(Default)]
struct Count {
    id: Option<Col<i64>>,
    amount: Option<Col<f64>>,
    start: Option<Out<i64>>,
    rows: Option<Out<i64>>,
    sum: Option<Out<f64>>,
    open: Option<(i64, i64, f64)>,
}

impl Count {
    fn close(&mut self, b: &Batch) {
        if let Some((w, n, s)) = self.open.take() {
            b.emit(None);
            self.start.unwrap().put(b, w);
            self.rows.unwrap().put(b, n);
            self.sum.unwrap().put(b, s);
        }
    }
}

impl StageV2 for Count {
    fn process(&mut self, b: &Batch) -> Result<(), String> {
        let (id, a) = (self.id.unwrap().view(b), self.amount.unwrap().view(b));
        for i in 0..b.len() {
            let w = tumble(id.values[i], 10);
            match self.open {
                Some((o, _, _)) if o == w => {}
                _ => {
                    self.close(b);
                    self.open = Some((w, 0, 0.0));
                }
            }
            let g = self.open.as_mut().unwrap();
            g.1 += 1;
            g.2 += a.values[i];
        }
        Ok(())
    }

    fn finish(&mut self, b: &Batch) -> Result<(), String> {
        self.close(b);
        Ok(())
    }

    fn watermark(&mut self, b: &Batch, wm: i64) -> Result<(), String> {
        if matches!(self.open, Some((w, _, _)) if w + 9 <= wm) {
            self.close(b);
        }
        Ok(())
    }

    fn snapshot(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"CNT1");
        if let Some((w, n, s)) = self.open {
            out.extend_from_slice(&w.to_le_bytes());
            out.extend_from_slice(&n.to_le_bytes());
            out.extend_from_slice(&s.to_le_bytes());
        }
    }

    fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        let mut r = StateReader::new(state);
        r.magic(b"CNT1")?;
        self.open = None;
        if state.len() > 4 {
            self.open = Some((r.i64("the window")?, r.i64("the window")?, r.f64("the window")?));
        }
        r.end()
    }
}

fn count(s: &mut Setup) -> Result<Count, String> {
    s.drop_all();
    s.keep_state();
    let c = Count {
        id: Some(s.read::<i64>("id")),
        amount: Some(s.read::<f64>("amount")),
        start: Some(s.write::<i64>("start", "int64")),
        rows: Some(s.write::<i64>("rows", "int64")),
        sum: Some(s.write::<f64>("sum", "float64")),
        open: None,
    };
    if let Some(ev) = s.event_time() {
        if ev != "id" {
            s.error(format!("event_time {} is not id", ev));
        }
    }
    Ok(c)
}

/// Rows with ids from..to, amount 1 each.
fn ids(from: i64, to: i64) -> Vec<Column> {
    let ids: Vec<Option<i64>> = (from..to).map(Some).collect();
    let amounts = vec![Some(1.0); ids.len()];
    let names = vec![Some("n"); ids.len()];
    vec![Column::i64(&ids), Column::f64(&amounts), Column::utf8(&names)]
}

fn windows(out: &dataweaver_guest::testing::Output) -> Vec<(i64, i64)> {
    let (s, n) = (out.fixed::<i64>("start"), out.fixed::<i64>("rows"));
    s.iter().zip(&n).map(|(s, n)| (s.unwrap(), n.unwrap())).collect()
}

#[test]
fn finish_watermark_and_state() {
    let mut h = Host::bind_v2(count, "{}", SCHEMA, Some("id")).unwrap();
    assert_eq!(h.response.get("drop_all").and_then(Json::as_bool), Some(true));
    assert_eq!(h.response.get("state").and_then(Json::as_bool), Some(true));

    let out = h.process(&ids(0, 25)).unwrap();
    assert_eq!(windows(&out), [(0, 10), (10, 10)]);
    assert!(
        out.origins.iter().all(Option::is_none),
        "aggregates come from no input row"
    );
    assert!(
        windows(&h.watermark(28).unwrap()).is_empty(),
        "20..30 is not complete at 28"
    );
    let state = h.snapshot();

    // A fresh instance restored from the state goes on with window 20.
    let mut fresh = Host::bind_v2(count, "{}", SCHEMA, Some("id")).unwrap();
    fresh.restore(&state).unwrap();
    assert_eq!(fresh.snapshot(), state, "restore takes back the state it was given");
    assert!(windows(&fresh.process(&ids(25, 27)).unwrap()).is_empty());
    assert_eq!(windows(&fresh.watermark(29).unwrap()), [(20, 7)]);
    assert!(windows(&fresh.finish().unwrap()).is_empty(), "nothing open");
    fresh.process(&ids(30, 33)).unwrap();
    let end = fresh.finish().unwrap();
    assert_eq!(windows(&end), [(30, 3)]);
    assert_eq!(end.origins, [None]);

    // Refusals: another layout, a cut state, bytes past its end.
    assert!(fresh.restore(b"XXXX").unwrap_err().contains("want CNT1"));
    assert!(fresh.restore(&state[..10]).unwrap_err().contains("cut short"));
    let mut long = state.clone();
    long.push(0);
    assert!(fresh.restore(&long).unwrap_err().contains("past its end"));
    // The event-time column reaches setup.
    let err = Host::bind_v2(count, "{}", SCHEMA, Some("amount")).err().unwrap();
    assert!(err.contains("event_time amount is not id"), "{}", err);
}

#[test]
fn a_stage_without_state_refuses_one() {
    let mut h = Host::bind_v2(explode, "{}", SCHEMA, None).unwrap();
    assert_eq!(h.snapshot(), Vec::<u8>::new());
    assert_eq!(h.restore(b"x"), Err("the stage keeps no state".to_string()));
    let out = h.finish().unwrap();
    assert!(out.origins.is_empty(), "finish emits nothing by default");
}

/// A stage whose process runs a closure given by the test.
struct With<F>(F);

impl<F: FnMut(&Batch) -> Result<(), String> + 'static> StageV2 for With<F> {
    fn process(&mut self, b: &Batch) -> Result<(), String> {
        (self.0)(b)
    }
}

#[test]
fn a_call_fails_on_a_missing_value_and_on_err() {
    let mut h = Host::bind_v2(
        |s: &mut Setup| {
            let a = s.write::<i64>("a", "int64");
            let t = s.write_string("t");
            Ok(With(move |b: &Batch| {
                b.emit(None);
                a.put(b, 1);
                if b.len() > 1 {
                    t.put(b, "x");
                }
                if b.len() > 2 {
                    return Err("three is too many".into());
                }
                Ok(())
            }))
        },
        "{}",
        SCHEMA,
        None,
    )
    .unwrap();
    let err = h.process(&ids(0, 1)).unwrap_err();
    assert_eq!(err, "output column \"t\": 0 values put for 1 rows emitted");
    assert!(h.process(&ids(0, 2)).is_ok());
    assert_eq!(h.process(&ids(0, 3)).unwrap_err(), "three is too many");
}

#[test]
fn v1_and_v2_declarations_do_not_mix() {
    let err = Host::bind_v2(
        |s: &mut Setup| {
            s.filter();
            Ok(With(|_: &Batch| Ok(())))
        },
        "{}",
        SCHEMA,
        None,
    )
    .err()
    .unwrap();
    assert!(err.contains("filter is ABI v1's"), "{}", err);

    let err = Host::bind(
        |s: &mut Setup| {
            s.drop_all();
            s.keep_state();
            Ok(|_: &Batch| Ok(()))
        },
        "{}",
        SCHEMA,
    )
    .err()
    .unwrap();
    assert!(
        err.contains("drop_all is ABI v2's") && err.contains("keep_state is ABI v2's"),
        "{}",
        err
    );
}

fn v2_calling(f: fn(&Batch, Out<i64>)) -> Host {
    Host::bind_v2(
        move |s: &mut Setup| {
            let a = s.write::<i64>("a", "int64");
            Ok(With(move |b: &Batch| {
                f(b, a);
                Ok(())
            }))
        },
        "{}",
        SCHEMA,
        None,
    )
    .unwrap()
}

#[test]
#[should_panic(expected = "call emit first")]
fn put_without_emit_panics() {
    v2_calling(|b, a| a.put(b, 1)).process(&ids(0, 1)).ok();
}

#[test]
#[should_panic(expected = "call emit first")]
fn two_values_for_a_row_panic() {
    v2_calling(|b, a| {
        b.emit(Some(0));
        a.put(b, 1);
        a.put_null(b);
    })
    .process(&ids(0, 1))
    .ok();
}

#[test]
#[should_panic(expected = "emit(Some(1)) in a batch of 1 rows")]
fn an_origin_past_the_batch_panics() {
    v2_calling(|b, _| {
        b.emit(Some(1));
    })
    .process(&ids(0, 1))
    .ok();
}

#[test]
#[should_panic(expected = "is ABI v1's")]
fn v1_outputs_in_v2_panic() {
    v2_calling(|b, a| {
        a.values(b);
    })
    .process(&ids(0, 1))
    .ok();
}

#[test]
#[should_panic(expected = "emit is ABI v2's")]
fn emit_in_v1_panics() {
    Host::bind(
        |_: &mut Setup| {
            Ok(|b: &Batch| {
                b.emit(None);
                Ok(())
            })
        },
        "{}",
        SCHEMA,
    )
    .unwrap()
    .process(&ids(0, 1))
    .ok();
}
