//! The SDK end to end through its testing host: bind answers, batches in
//! the ABI's layout, outputs, selections and rejections.

use dataweaver_guest::testing::{Column, Host};
use dataweaver_guest::{bitmap, json::Json, Batch, Process, Setup};

const SCHEMA: &[(&str, &str)] = &[
    ("id", "int64"),
    ("amount", "float64"),
    ("email", "utf8"),
    ("note", "large_utf8"),
];

fn columns(amounts: &[Option<f64>], emails: &[Option<&str>]) -> Vec<Column> {
    let ids: Vec<Option<i64>> = (0..amounts.len() as i64).map(Some).collect();
    let notes: Vec<Option<&[u8]>> = emails.iter().map(|e| e.map(str::as_bytes)).collect();
    vec![
        Column::i64(&ids),
        Column::f64(amounts),
        Column::utf8(emails),
        Column::var("large_utf8", &notes, 5),
    ]
}

/// cents: amount*100 as int64, null stays null, a negative amount is
/// rejected; upper: email uppercased into a new column.
fn cents(s: &mut Setup) -> Result<Process, String> {
    let c = s.config(&["target"])?;
    let target = c.str("target")?.unwrap_or("cents").to_string();
    let amount = s.read::<f64>("amount");
    let email = s.read_string("email");
    let out = s.write::<i64>(&target, "int64");
    let upper = s.write_string("upper");
    s.drop_column("id");
    Ok(Box::new(move |b: &Batch| {
        let v = amount.view(b);
        let mut o = out.values(b);
        for (i, x) in v.values.iter().enumerate() {
            if !v.is_valid(i) {
                o.set_null(i);
            } else if *x < 0.0 {
                b.reject(i, format!("amount {} is negative", x));
            } else {
                o[i] = (x * 100.0).round() as i64;
            }
        }
        let e = email.view(b);
        let mut w = upper.builder(b);
        for i in 0..b.len() {
            if e.is_valid(i) {
                w.append(&e.str(i).unwrap().to_uppercase());
            } else {
                w.append_null();
            }
        }
        Ok(())
    }))
}

#[test]
fn bind_answers_the_handshake() {
    let h = Host::bind(cents, r#"{"target":"amount"}"#, SCHEMA).unwrap();
    let mut got = String::new();
    h.response.write(&mut got);
    assert_eq!(
        got,
        r#"{"reads":["amount","email"],"writes":[{"name":"amount","type":"int64","nullable":true},{"name":"upper","type":"utf8","nullable":true}],"drops":["id"],"filter":false}"#
    );
}

#[test]
fn bind_errors() {
    for (config, want) in [
        (r#"{"targe":"x"}"#, "unknown field \"targe\""),
        (r#"{"target":1}"#, "config: target: want a string, got a number"),
        (r#"{"target":"upper"}"#, "column \"upper\" is written twice"),
        ("[]", "want a mapping"),
    ] {
        match Host::bind(cents, config, SCHEMA) {
            Ok(_) => panic!("{} bound", config),
            Err(e) => assert!(e.contains(want), "{}: {:?} lacks {:?}", config, e, want),
        }
    }
    let err = Host::bind(cents, "{}", &[("amount", "utf8")]).err().unwrap();
    assert!(
        err.contains("column \"amount\" is utf8, this stage reads it as f64"),
        "{}",
        err
    );
    assert!(
        err.contains("no column \"email\""),
        "every problem is reported: {}",
        err
    );
    let err = Host::bind(
        |s: &mut Setup| -> Result<Process, String> {
            s.write::<i64>("x", "list<int64>");
            Ok(Box::new(|_: &Batch| Ok(())))
        },
        "{}",
        SCHEMA,
    )
    .err()
    .unwrap();
    assert!(err.contains("type list<int64> cannot be written as i64"), "{}", err);
}

#[test]
fn process_writes_columns_nulls_and_rejections() {
    let mut h = Host::bind(cents, "null", SCHEMA).unwrap();
    for round in 0..2 {
        // The second round reuses the output buffers of the first.
        let out = h
            .process(&columns(
                &[Some(1.005), None, Some(-3.0), Some(2.5)],
                &[Some("a@b"), None, Some(""), Some("é")],
            ))
            .unwrap();
        assert_eq!(out.selection, None, "round {}", round);
        assert_eq!(out.rejected, vec![(2, "amount -3 is negative".to_string())]);
        assert_eq!(out.fixed::<i64>("cents"), [Some(100), None, Some(0), Some(250)]);
        assert_eq!(
            out.strings("upper"),
            [Some("A@B".into()), None, Some("".into()), Some("É".into())]
        );
        assert_eq!(out.kept(), [true, true, false, true]);
    }
    let out = h.process(&columns(&[], &[])).unwrap();
    assert_eq!(out.fixed::<i64>("cents"), []);
}

#[test]
fn filters_by_drop_row_and_keep_bits() {
    // keep_bits: rows with an even id; then drop_row on top of it.
    let setup = |s: &mut Setup| -> Result<Process, String> {
        let id = s.read::<i64>("id");
        s.filter();
        Ok(Box::new(move |b: &Batch| {
            let v = id.view(b);
            {
                let mut sel = b.keep_bits();
                for (i, x) in v.values.iter().enumerate() {
                    if x % 2 == 0 {
                        bitmap::set(&mut sel, i);
                    }
                }
            }
            if b.len() > 10 {
                b.drop_row(10);
            }
            Ok(())
        }))
    };
    let mut h = Host::bind(setup, "{}", SCHEMA).unwrap();
    let n = 21;
    let out = h.process(&columns(&vec![Some(1.0); n], &vec![Some("x"); n])).unwrap();
    let want: Vec<bool> = (0..n).map(|i| i % 2 == 0 && i != 10).collect();
    assert_eq!(out.selection, Some(want));

    let drop_only = |s: &mut Setup| -> Result<Process, String> {
        s.filter();
        Ok(Box::new(|b: &Batch| {
            b.drop_row(1);
            Ok(())
        }))
    };
    let mut h = Host::bind(drop_only, "{}", SCHEMA).unwrap();
    let out = h.process(&columns(&[Some(1.0); 3], &[Some("x"); 3])).unwrap();
    assert_eq!(
        out.selection,
        Some(vec![true, false, true]),
        "drop_row starts from all kept"
    );
}

#[test]
fn views_read_offsets_that_do_not_start_at_zero() {
    let setup = |s: &mut Setup| -> Result<Process, String> {
        let note = s.read_string("note");
        let len = s.write::<i32>("len", "int32");
        Ok(Box::new(move |b: &Batch| {
            let v = note.view(b);
            let mut o = len.values(b);
            for i in 0..b.len() {
                o[i] = v.bytes(i).len() as i32 * if v.is_valid(i) { 1 } else { -1 };
            }
            Ok(())
        }))
    };
    let mut h = Host::bind(setup, "{}", SCHEMA).unwrap();
    let out = h
        .process(&columns(&[Some(0.0); 3], &[Some("abc"), None, Some("de")]))
        .unwrap();
    assert_eq!(out.fixed::<i32>("len"), [Some(3), Some(0), Some(2)]);
}

#[test]
fn a_batch_fails_on_unwritten_or_short_outputs_and_on_err() {
    let lazy = |s: &mut Setup| -> Result<Process, String> {
        let o = s.write::<i64>("x", "int64");
        let w = s.write_string("y");
        Ok(Box::new(move |b: &Batch| {
            if b.len() == 1 {
                return Err("one row is not enough".into());
            }
            o.values(b);
            if b.len() == 2 {
                w.builder(b).append("only one");
            }
            Ok(())
        }))
    };
    let mut h = Host::bind(lazy, "{}", SCHEMA).unwrap();
    let err = h.process(&columns(&[Some(0.0); 3], &[Some("a"); 3])).unwrap_err();
    assert_eq!(err, "output column \"y\" was not written for this batch");
    let err = h.process(&columns(&[Some(0.0); 2], &[Some("a"); 2])).unwrap_err();
    assert_eq!(err, "output column \"y\": 1 values appended for 2 rows");
    let err = h.process(&columns(&[Some(0.0)], &[Some("a")])).unwrap_err();
    assert_eq!(err, "one row is not enough");
}

#[test]
fn json_is_public_for_stages_with_their_own_config_shapes() {
    let v = Json::parse(br#"{"rules":[{"col":"a","max":3}]}"#).unwrap();
    assert_eq!(v.get("rules").and_then(Json::as_array).map(<[Json]>::len), Some(1));
}

#[test]
fn raw_builders_and_copied_validity() {
    // Copies the email column through StrBuilder::raw, nulls by
    // set_validity, and writes amount's nulls onto an int64 column.
    let setup = |s: &mut Setup| -> Result<Process, String> {
        let (email, amount) = (s.read_string("email"), s.read::<f64>("amount"));
        let (copy, flag) = (s.write_string("copy"), s.write::<i64>("flag", "int64"));
        Ok(Box::new(move |b: &Batch| {
            let v = email.view(b);
            let mut w = copy.builder(b);
            let (bytes, offs) = w.raw();
            for i in 0..b.len() {
                bytes.extend_from_slice(v.bytes(i));
                offs.push(bytes.len() as i32);
            }
            if let Some(valid) = v.validity() {
                w.set_validity(valid);
            }
            if b.len() > 2 {
                w.set_null(2);
            }
            let a = amount.view(b);
            let mut f = flag.values(b);
            f.iter_mut().for_each(|x| *x = 7);
            if let Some(valid) = a.validity() {
                f.set_validity(valid);
            }
            Ok(())
        }))
    };
    let mut h = Host::bind(setup, "{}", SCHEMA).unwrap();
    let out = h
        .process(&columns(
            &[None, Some(1.0), Some(2.0), None],
            &[Some("a"), None, Some("c"), Some("d")],
        ))
        .unwrap();
    assert_eq!(out.strings("copy"), [Some("a".into()), None, None, Some("d".into())]);
    assert_eq!(out.fixed::<i64>("flag"), [None, Some(7), Some(7), None]);
    let out = h.process(&columns(&[Some(1.0); 2], &[Some("x"), Some("y")])).unwrap();
    assert_eq!(
        out.strings("copy"),
        [Some("x".into()), Some("y".into())],
        "no nulls left from the last batch"
    );
    assert_eq!(out.fixed::<i64>("flag"), [Some(7), Some(7)]);
}
