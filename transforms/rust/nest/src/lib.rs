//! nest: an ABI v2 stage that packs columns into one struct column, the
//! inverse of explode on a struct (the C transforms/c/nest's and Go
//! transforms/nest's output, byte for byte).
//!
//! ```yaml
//! stages:
//!   - wasm: build/nest.wasm
//!     config: {columns: [sku, qty], as: item}
//! ```
//!
//! Each input row gives one row (its origin, so the other columns are
//! handed on) whose column `as` is struct<sku:…,qty:…>, the values of the
//! columns in that order, nulls kept; the packed columns are dropped. `as`
//! is appended, or takes the place of a packed column of its name. Columns
//! may be int64 or timestamps, int32 or date32, float64, bool, utf8 or
//! binary (large_ ones written as utf8 or binary).

use dataweaver_guest::{stage_v2, BoolCol, Col, Node, Setup, StageV2, StrCol};

stage_v2!(setup);

enum Input {
    I64(Col<i64>),
    I32(Col<i32>),
    F64(Col<f64>),
    Bool(BoolCol),
    Str(StrCol),
}

struct Nest {
    st: Node,
    fields: Vec<(Input, Node)>,
}

impl StageV2 for Nest {
    fn process(&mut self, b: &dataweaver_guest::Batch) -> Result<(), String> {
        for i in 0..b.len() {
            b.emit(Some(i));
            self.st.begin(b);
            for (input, node) in &self.fields {
                // Views are zero-copy slices: making one per value costs
                // no allocation.
                match input {
                    Input::I64(c) => {
                        let v = c.view(b);
                        if v.is_valid(i) {
                            node.put(b, v.values[i])
                        } else {
                            node.put_null(b)
                        }
                    }
                    Input::I32(c) => {
                        let v = c.view(b);
                        if v.is_valid(i) {
                            node.put(b, v.values[i])
                        } else {
                            node.put_null(b)
                        }
                    }
                    Input::F64(c) => {
                        let v = c.view(b);
                        if v.is_valid(i) {
                            node.put(b, v.values[i])
                        } else {
                            node.put_null(b)
                        }
                    }
                    Input::Bool(c) => {
                        let v = c.view(b);
                        if v.is_valid(i) {
                            node.put_bool(b, v.value(i))
                        } else {
                            node.put_null(b)
                        }
                    }
                    Input::Str(c) => {
                        let v = c.view(b);
                        if v.is_valid(i) {
                            node.put_bytes(b, v.bytes(i))
                        } else {
                            node.put_null(b)
                        }
                    }
                }
            }
            self.st.end(b);
        }
        Ok(())
    }
}

fn setup(s: &mut Setup) -> Result<Nest, String> {
    let c = s.config(&["columns", "as"])?;
    let columns: Vec<String> = c
        .strings("columns")?
        .unwrap_or_default()
        .iter()
        .map(|x| x.to_string())
        .collect();
    let as_ = c.str("as")?.unwrap_or("").to_string();
    if columns.is_empty() || as_.is_empty() {
        return Err("config: columns (a list) and as are required".into());
    }
    let mut inputs = vec![];
    let mut ty = String::from("struct<");
    for (f, name) in columns.iter().enumerate() {
        let t = s.field(name).map(|f| f.ty.clone()).unwrap_or_default();
        let (input, t) = match t.as_str() {
            "int64" => (Input::I64(s.read::<i64>(name)), t),
            x if x.starts_with("timestamp[") => (Input::I64(s.read::<i64>(name)), t),
            "int32" | "date32" => (Input::I32(s.read::<i32>(name)), t),
            "float64" => (Input::F64(s.read::<f64>(name)), t),
            "bool" => (Input::Bool(s.read_bool(name)), t),
            "utf8" | "large_utf8" => (Input::Str(s.read_string(name)), "utf8".to_string()),
            "binary" | "large_binary" => (Input::Str(s.read_string(name)), "binary".to_string()),
            "" => (Input::I64(s.read::<i64>(name)), t), // says there is no such column
            _ => return Err(format!("column \"{}\" of type {} cannot be nested", name, t)),
        };
        inputs.push(input);
        if f > 0 {
            ty.push(',');
        }
        ty.push_str(&format!("{}:{}", name, t));
    }
    s.err()?;
    for name in &columns {
        if *name != as_ {
            s.drop_column(name);
        }
    }
    ty.push('>');
    let st = s.write_nested(&as_, &ty);
    let fields = inputs
        .into_iter()
        .enumerate()
        .map(|(f, input)| (input, st.child(s, f)))
        .collect();
    Ok(Nest { st, fields })
}
