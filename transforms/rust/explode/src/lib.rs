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
//!
//! A list of structs gives one row per item with the struct's fields as
//! columns of their own names (DuckDB's unnest(recursive := true)), in the
//! list's place: a field named like an input column replaces it; a null
//! struct gives a row of nulls. The fields may be of the types above and
//! date32; `as` does not apply. A struct column is unnested the same way,
//! one row per input row (a null struct, a row of nulls).

use dataweaver_guest::{
    stage_v2, struct_fields, Batch, ListCol, ListView, Out, OutBool, OutStr, Setup, StageV2, StructCol, StructView,
};

stage_v2!(setup);

enum Output {
    I64(Out<i64>),
    I32(Out<i32>),
    F64(Out<f64>),
    Bool(OutBool),
    Str(OutStr),
}

struct Explode {
    list: Option<ListCol>,
    mode: Mode,
    /// A struct column, unnested one row per input row.
    whole: Option<StructCol>,
}

enum Mode {
    /// A list of v1 items: the item's column.
    Items(Output),
    /// A list of structs: one output per field, in order.
    Fields(Vec<Output>),
}

/// Gives the emitted row field f of struct item k (null when the struct
/// or the field is).
fn put_field(b: &Batch, v: &StructView, f: usize, k: usize, o: &Output) {
    let valid = v.is_valid(k);
    match o {
        Output::I64(o) => {
            let it = v.field_of::<i64>(f);
            if valid && it.is_valid(k) {
                o.put(b, it.values[k])
            } else {
                o.put_null(b)
            }
        }
        Output::I32(o) => {
            let it = v.field_of::<i32>(f);
            if valid && it.is_valid(k) {
                o.put(b, it.values[k])
            } else {
                o.put_null(b)
            }
        }
        Output::F64(o) => {
            let it = v.field_of::<f64>(f);
            if valid && it.is_valid(k) {
                o.put(b, it.values[k])
            } else {
                o.put_null(b)
            }
        }
        Output::Bool(o) => {
            let it = v.bools(f);
            if valid && it.is_valid(k) {
                o.put(b, it.value(k))
            } else {
                o.put_null(b)
            }
        }
        Output::Str(o) => {
            let it = v.strings(f);
            if valid && it.is_valid(k) {
                o.put_bytes(b, it.bytes(k))
            } else {
                o.put_null(b)
            }
        }
    }
}

/// The output of items (or fields) of type t written as column name;
/// None when t is not supported.
fn output(s: &mut Setup, name: &str, t: &str, date32: bool) -> Option<Output> {
    Some(match t {
        "int64" => Output::I64(s.write::<i64>(name, t)),
        t if t.starts_with("timestamp[") => Output::I64(s.write::<i64>(name, t)),
        "int32" => Output::I32(s.write::<i32>(name, t)),
        "date32" if date32 => Output::I32(s.write::<i32>(name, t)),
        "float64" => Output::F64(s.write::<f64>(name, t)),
        "bool" => Output::Bool(s.write_bool(name)),
        "utf8" | "large_utf8" => Output::Str(s.write_string(name)),
        "binary" | "large_binary" => Output::Str(s.write_binary(name)),
        _ => return None,
    })
}

/// Setup of a list of structs: its fields as columns.
/// `whole`: a struct column (one row per input row), not a list of them.
fn setup_structs(s: &mut Setup, column: &str, as_: &str, whole: bool) -> Result<Explode, String> {
    if !as_.is_empty() {
        return Err("config: as names the item's column; a list of structs gives its fields as columns".into());
    }
    let (list, whole) = if whole {
        (None, Some(s.read_struct(column)))
    } else {
        (Some(s.read_list_of_structs(column)), None)
    };
    let types = match (&list, &whole) {
        (_, Some(c)) => c.fields().to_vec(),
        (Some(l), _) => struct_fields(l.elem()),
        _ => vec![],
    };
    s.err()?;
    let mut fields = vec![];
    let mut replaced = false;
    for f in types {
        replaced |= f.name == column;
        match output(s, &f.name, &f.ty, true) {
            Some(o) => fields.push(o),
            None => {
                return Err(format!(
                    "column \"{}\": field \"{}\" of type {} is not supported",
                    column, f.name, f.ty
                ))
            }
        }
    }
    // A field of the list's name takes its place; else the list goes.
    if !replaced {
        s.drop_column(column);
    }
    Ok(Explode {
        list,
        mode: Mode::Fields(fields),
        whole,
    })
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
        if let (Some(c), Mode::Fields(fields)) = (&self.whole, &self.mode) {
            let st = c.view(b);
            for i in 0..b.len() {
                b.emit(Some(i));
                for (f, o) in fields.iter().enumerate() {
                    put_field(b, &st, f, i, o);
                }
            }
            return Ok(());
        }
        let v = self.list.as_ref().expect("a list column").view(b);
        let out = match &self.mode {
            Mode::Items(out) => out,
            Mode::Fields(fields) => {
                let items = v.structs();
                each(b, &v, |k| {
                    for (f, o) in fields.iter().enumerate() {
                        put_field(b, &items, f, k, o);
                    }
                });
                return Ok(());
            }
        };
        match out {
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
    let ty = s.field(&column).map(|f| f.ty.clone()).unwrap_or_default();
    if ty.starts_with("list<struct<") || ty.starts_with("struct<") {
        return setup_structs(s, &column, &as_, ty.starts_with("struct<"));
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
    Ok(Explode {
        list: Some(list),
        mode: Mode::Items(out),
        whole: None,
    })
}
