//! explode: an ABI v2 stage that turns a list column into rows, one per
//! item, the item in place of the list (the C and Go explode's output,
//! for the item types below).
//!
//! ```yaml
//! stages:
//!   - wasm: build/explode.wasm
//!     config: {column: tags}
//! ```
//!
//! Each output row's origin is the input row its item came from, so every
//! other column is handed on with it. A null or empty list gives no row; a
//! null item gives a row with a null value. `as` names the output column
//! (default: the list's own name, which the item replaces in place).
//! Items may be int64 or timestamps, int32, float64, bool, utf8 or binary
//! (large_ ones too, written as utf8 or binary).

use dataweaver_guest::{stage_v2, Batch, ListCol, ListView, Out, OutBool, OutStr, Setup, StageV2};

stage_v2!(setup);

enum Output {
    I64(Out<i64>),
    I32(Out<i32>),
    F64(Out<f64>),
    Bool(OutBool),
    Str(OutStr),
}

struct Explode {
    list: ListCol,
    out: Output,
}

/// Emits one row per item of every non-null row of v, in order, and calls
/// put with the item's index to give it its value.
fn each(b: &Batch, v: &ListView, mut put: impl FnMut(usize)) {
    for i in 0..b.len() {
        if !v.is_valid(i) {
            continue;
        }
        for k in v.range(i) {
            b.emit(Some(i));
            put(k);
        }
    }
}

impl StageV2 for Explode {
    fn process(&mut self, b: &Batch) -> Result<(), String> {
        let v = self.list.view(b);
        match &self.out {
            Output::I64(o) => {
                let it = v.items_of::<i64>();
                each(b, &v, |k| {
                    if it.is_valid(k) {
                        o.put(b, it.values[k])
                    } else {
                        o.put_null(b)
                    }
                });
            }
            Output::I32(o) => {
                let it = v.items_of::<i32>();
                each(b, &v, |k| {
                    if it.is_valid(k) {
                        o.put(b, it.values[k])
                    } else {
                        o.put_null(b)
                    }
                });
            }
            Output::F64(o) => {
                let it = v.items_of::<f64>();
                each(b, &v, |k| {
                    if it.is_valid(k) {
                        o.put(b, it.values[k])
                    } else {
                        o.put_null(b)
                    }
                });
            }
            Output::Bool(o) => {
                let it = v.bools();
                each(b, &v, |k| {
                    if it.is_valid(k) {
                        o.put(b, it.value(k))
                    } else {
                        o.put_null(b)
                    }
                });
            }
            Output::Str(o) => {
                let it = v.strings();
                each(b, &v, |k| {
                    if it.is_valid(k) {
                        o.put_bytes(b, it.bytes(k))
                    } else {
                        o.put_null(b)
                    }
                });
            }
        }
        Ok(())
    }
}

fn setup(s: &mut Setup) -> Result<Explode, String> {
    let c = s.config(&["column", "as"])?;
    let column = c.str("column")?.unwrap_or("").to_string();
    let as_ = c.str("as")?.unwrap_or("").to_string();
    if column.is_empty() {
        return Err("config: column is required".into());
    }
    let as_ = if as_.is_empty() { column.clone() } else { as_ };
    let list = s.read_list(&column);
    if as_ != column {
        s.drop_column(&column);
    }
    let elem = list.elem().to_string();
    let out = match elem.as_str() {
        "int64" => Output::I64(s.write::<i64>(&as_, &elem)),
        t if t.starts_with("timestamp[") => Output::I64(s.write::<i64>(&as_, &elem)),
        "int32" => Output::I32(s.write::<i32>(&as_, &elem)),
        "float64" => Output::F64(s.write::<f64>(&as_, &elem)),
        "bool" => Output::Bool(s.write_bool(&as_)),
        "utf8" | "large_utf8" => Output::Str(s.write_string(&as_)),
        "binary" | "large_binary" => Output::Str(s.write_binary(&as_)),
        "" => Output::Bool(s.write_bool(&as_)), // read_list recorded why
        t => return Err(format!("column {:?}: items of type {} are not supported", column, t)),
    };
    Ok(Explode { list, out })
}
