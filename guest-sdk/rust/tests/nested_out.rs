//! Nested output builders through the testing host: the types
//! `write_nested` parses and refuses at setup, a null at each level, and
//! each misuse stopped with a message naming the column. The columns'
//! contents are checked through the real host against arrow-go and the C
//! and Go SDKs (transforms/v2test/nestout_test.go).

use std::panic::{catch_unwind, AssertUnwindSafe};

use dataweaver_guest::testing::{Column, Host};
use dataweaver_guest::{Batch, Col, Node, Setup, StageV2};

/// For each input row v: l = [v, v+1] (null when v < 0), s = {x: v}
/// (null when v == 0), or the misuse named by `misuse`.
struct Nest {
    n: Col<i64>,
    l: Node,
    s: Node,
    x: Node,
    misuse: &'static str,
}

impl StageV2 for Nest {
    fn process(&mut self, b: &Batch) -> Result<(), String> {
        for (i, &v) in self.n.view(b).values.iter().enumerate() {
            b.emit(Some(i));
            if v < 0 {
                self.l.put_null(b);
            } else {
                self.l.put_list(b, &[v, v + 1]);
            }
            if v == 0 {
                self.s.put_null(b);
                continue;
            }
            if self.misuse == "outside" {
                self.x.put(b, v);
            }
            self.s.begin(b);
            if self.misuse != "missing" && self.misuse != "wrong type" {
                self.x.put(b, v);
            }
            if self.misuse == "twice" {
                self.x.put(b, v);
            }
            if self.misuse == "wrong type" {
                self.x.put(b, 1i32);
            }
            if self.misuse != "unended" {
                self.s.end(b);
            }
        }
        Ok(())
    }
}

fn bind(misuse: &'static str, l: &'static str, s: &'static str) -> Result<Host, String> {
    Host::bind_v2(
        move |st: &mut Setup| {
            let n = st.read::<i64>("n");
            let l = st.write_nested("l", l);
            let s = st.write_nested("s", s);
            let x = s.child(st, 0);
            Ok(Nest { n, l, s, x, misuse })
        },
        "{}",
        &[("n", "int64")],
        None,
    )
}

#[test]
fn types_refused_at_setup() {
    for (l, want) in [
        (
            "list<large_utf8>",
            "column \"l.item\": type \"large_utf8\" cannot be written",
        ),
        (
            "list<list<list<list<list<int8>>>>>",
            "column \"l.item.item.item.item\": nested deeper than 4 levels",
        ),
        ("map<utf8>", "column \"l\": map<utf8> is not a type"),
        ("int64", "column \"l\": int64 is not a list, struct or map"),
    ] {
        let err = bind("", l, "struct<x:int64>").err().unwrap_or_default();
        assert!(err.contains(want), "{}: {:?}, want {:?}", l, err, want);
    }
    let err = bind("", "list<int64>", "struct<int64>").err().unwrap_or_default();
    assert!(err.contains("struct field \"int64\" has no name"), "{}", err);
    let err = bind("", "list<int64>", "struct<x:int64>").and_then(|_| {
        Host::bind_v2(
            |st: &mut Setup| {
                let n = st.read::<i64>("n");
                let s = st.write_nested("s", "struct<x:int64>");
                let x = s.child(st, 1);
                s.field(st, "y");
                Ok(Nest {
                    n,
                    l: s,
                    s,
                    x,
                    misuse: "",
                })
            },
            "{}",
            &[("n", "int64")],
            None,
        )
    });
    let err = err.err().unwrap_or_default();
    assert!(
        err.contains("column \"s\" has 1 children, not 2") && err.contains("has no field \"y\""),
        "{}",
        err
    );
    bind(
        "",
        "list<list<list<list<int8>>>>",
        "struct<x:timestamp[us,UTC],m:map<int32,bool>>",
    )
    .expect("4 levels; commas inside [] and <> belong to the inner type");
}

#[test]
fn nulls_at_each_level() {
    let mut h = bind("", "list<int64>", "struct<x:int64>").unwrap();
    let out = h.process(&[Column::i64(&[Some(-1), Some(0), Some(2)])]).unwrap();
    assert_eq!(out.bytes("l"), vec![None, Some(vec![]), Some(vec![])]);
    assert_eq!(out.bytes("s"), vec![Some(vec![]), None, Some(vec![])]);
}

#[test]
fn misuse_names_the_column() {
    for (misuse, want) in [
        (
            "outside",
            "a value outside its parent's begin/end (output column \"s.x\")",
        ),
        (
            "twice",
            "a second value for a struct's field in one row (output column \"s.x\")",
        ),
        (
            "missing",
            "a struct row ended without a value for this field (output column \"s.x\")",
        ),
        ("wrong type", "output column storage of the wrong type"),
    ] {
        let mut h = bind(misuse, "list<int64>", "struct<x:int64>").unwrap();
        let r = catch_unwind(AssertUnwindSafe(|| h.process(&[Column::i64(&[Some(3)])])));
        let msg = match r {
            Err(p) => p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default(),
            Ok(r) => format!("no panic: {:?}", r.err()),
        };
        assert!(msg.contains(want), "{}: {:?}, want {:?}", misuse, msg, want);
    }
    let mut h = bind("unended", "list<int64>", "struct<x:int64>").unwrap();
    let err = h.process(&[Column::i64(&[Some(3)])]).err().unwrap_or_default();
    assert_eq!(err, "output column \"s\": a row begun and not ended");
}
