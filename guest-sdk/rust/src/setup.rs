//! What a stage declares at bind time: its configuration, the columns it
//! reads and writes, whether it filters.

use std::marker::PhantomData;

use crate::column::{BoolCol, Col, Fixed, ListCol, StrCol};
use crate::json::Json;
use crate::output::{Out, OutBool, OutStr};

/// One column of a schema as the ABI names it: `ty` is "int64", "utf8",
/// "timestamp[us, UTC]", "decimal128(10,2)" and so on (wasmabi/ABI.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub ty: String,
    pub nullable: bool,
}

/// Setup is what a stage's setup function declares the stage with. It
/// runs at bind time, once per instance, with the stage's configuration
/// and the input schema; what it declares is the stage's answer to the
/// handshake.
pub struct Setup {
    stage: String,
    schema: Vec<Field>,
    config: Json,
    pub(crate) reads: Vec<String>,
    pub(crate) writes: Vec<Field>,
    pub(crate) drops: Vec<String>,
    pub(crate) filter: bool,
    errs: Vec<String>,
    /// The ABI version the stage speaks (2 under stage_v2!).
    pub(crate) abi: i32,
    pub(crate) drop_all: bool,
    pub(crate) state: bool,
    pub(crate) event_time: Option<String>,
    /// v2: the nested output columns' children (nested_out.rs).
    pub(crate) nodes: crate::nested_out::Nodes,
}

impl Setup {
    pub(crate) fn new(stage: String, schema: Vec<Field>, config: Json) -> Setup {
        Setup {
            stage,
            schema,
            config,
            reads: vec![],
            writes: vec![],
            drops: vec![],
            filter: false,
            errs: vec![],
            abi: 1,
            drop_all: false,
            state: false,
            event_time: None,
            nodes: Default::default(),
        }
    }

    /// The pipeline step's name (`stages[1].wasm`), for messages.
    pub fn stage_name(&self) -> &str {
        &self.stage
    }

    /// The input schema.
    pub fn schema(&self) -> &[Field] {
        &self.schema
    }

    /// The input column called name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.schema.iter().find(|f| f.name == name)
    }

    /// The stage's `config:` mapping. `known` lists every key the stage
    /// takes: any other key is an error, so a typo in a pipeline file is
    /// reported when the pipeline is validated (Go's SDK does the same).
    pub fn config(&self, known: &[&str]) -> Result<Config<'_>, String> {
        let members: &[(String, Json)] = match &self.config {
            Json::Null => &[],
            Json::Object(m) => m,
            other => return Err(format!("config: want a mapping, got {}", other.kind())),
        };
        for (k, _) in members {
            if !known.iter().any(|n| key_matches(k, n)) {
                return Err(format!(
                    "config: unknown field {:?} (this stage takes: {})",
                    k,
                    known.join(", ")
                ));
            }
        }
        Ok(Config { members })
    }

    /// Declares that the stage drops rows ([`crate::Batch::drop_row`],
    /// [`crate::Batch::keep_bits`]).
    pub fn filter(&mut self) {
        if self.abi != 1 {
            self.error("filter is ABI v1's: a v2 stage keeps a row by emitting it");
        }
        self.filter = true;
    }

    /// (v2) Drops every input column: the output is the written columns
    /// only, in their order, and emitted rows need no origin (an
    /// aggregate). Without it, input columns not dropped or replaced pass
    /// through, taken from each emitted row's origin.
    pub fn drop_all(&mut self) {
        self.v2_only("drop_all");
        self.drop_all = true;
    }

    /// (v2) Declares that the stage keeps state across batches: at every
    /// checkpoint the host saves what [`crate::StageV2::snapshot`] writes
    /// with the source's position, and a resumed run hands it to
    /// [`crate::StageV2::restore`] on a fresh instance, after setup and
    /// before any batch. A stage keeping state runs on one worker, and
    /// any failed call fails the run (the state would be lost).
    pub fn keep_state(&mut self) {
        self.v2_only("keep_state");
        self.state = true;
    }

    /// (v2) The event-time column the pipeline declared for the stage
    /// (the wasm stage's `event_time`), or None: then no watermark comes
    /// ([`crate::StageV2::watermark`]).
    pub fn event_time(&self) -> Option<&str> {
        self.event_time.as_deref()
    }

    fn v2_only(&mut self, what: &str) {
        if self.abi < 2 {
            self.error(format!("{} is ABI v2's: declare the stage with stage_v2!", what));
        }
    }

    /// Removes an input column from the stage's output.
    pub fn drop_column(&mut self, name: &str) {
        if self.field(name).is_none() {
            let msg = format!(
                "drop: no column {:?} in the input (columns: {})",
                name,
                self.column_list()
            );
            self.error(msg);
            return;
        }
        self.drops.push(name.to_string());
    }

    /// Records a setup error; the stage fails to bind with every recorded
    /// message. The read and write declarations use it, so a setup
    /// function can declare all its columns and let bind report every
    /// problem at once.
    pub fn error(&mut self, msg: impl Into<String>) {
        self.errs.push(msg.into());
    }

    /// The errors recorded so far, joined, or Ok.
    pub fn err(&self) -> Result<(), String> {
        if self.errs.is_empty() {
            Ok(())
        } else {
            Err(self.errs.join("; "))
        }
    }

    /// Declares that the stage reads column name as `[T]`: `f64` for
    /// float64, `i32` for int32 and date32, `i64` for int64 and
    /// timestamps, [`crate::Decimal128`] for decimal128. A missing column
    /// or a type that does not fit T is recorded (see [`Setup::error`]).
    pub fn read<T: Fixed>(&mut self, name: &str) -> Col<T> {
        Col {
            slot: self.read_slot(name, T::fits, T::NAME),
            _t: PhantomData,
        }
    }

    /// Declares a read of a bool column.
    pub fn read_bool(&mut self, name: &str) -> BoolCol {
        BoolCol {
            slot: self.read_slot(name, |t| t == "bool", "bool"),
        }
    }

    /// Declares a read of a utf8, binary, large_utf8 or large_binary column.
    pub fn read_string(&mut self, name: &str) -> StrCol {
        let ok = |t: &str| matches!(t, "utf8" | "binary" | "large_utf8" | "large_binary");
        StrCol {
            slot: self.read_slot(name, ok, "string"),
        }
    }

    /// (v2) Declares a read of a `list<T>` column whose items are of a v1
    /// type; [`ListCol::elem`] names T.
    pub fn read_list(&mut self, name: &str) -> ListCol {
        let elem = self.field(name).map(|f| f.ty.clone()).unwrap_or_default();
        let elem = elem
            .strip_prefix("list<")
            .and_then(|t| t.strip_suffix('>'))
            .filter(|t| crate::runtime::type_code(t).is_some())
            .unwrap_or("")
            .to_string();
        let ok = !elem.is_empty();
        ListCol {
            slot: self.read_slot(name, |_| ok, "a list of a v1 type"),
            elem,
        }
    }

    /// Declares an output column of ABI type `ty` (`int64`, `float64`,
    /// `timestamp[ms]`, `decimal128(12,2)`…) filled as `[T]`. A name equal
    /// to an input column replaces it in place; other names are appended.
    pub fn write<T: Fixed>(&mut self, name: &str, ty: &str) -> Out<T> {
        if !T::fits(ty) {
            self.error(format!(
                "column {:?}: type {} cannot be written as {}",
                name,
                ty,
                T::NAME
            ));
        }
        Out {
            slot: self.write_slot(name, ty),
            _t: PhantomData,
        }
    }

    /// Declares a bool output column.
    pub fn write_bool(&mut self, name: &str) -> OutBool {
        OutBool {
            slot: self.write_slot(name, "bool"),
        }
    }

    /// Declares a utf8 output column.
    pub fn write_string(&mut self, name: &str) -> OutStr {
        OutStr {
            slot: self.write_slot(name, "utf8"),
        }
    }

    /// Declares a binary output column.
    pub fn write_binary(&mut self, name: &str) -> OutStr {
        OutStr {
            slot: self.write_slot(name, "binary"),
        }
    }

    fn column_list(&self) -> String {
        self.schema
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Declares a read and returns its slot (position in the batch's
    /// column descriptors); after recording an error the slot is never
    /// used, because the stage does not bind.
    pub(crate) fn read_slot(&mut self, name: &str, ok: impl Fn(&str) -> bool, want: &str) -> usize {
        let ty = match self.field(name) {
            Some(f) => f.ty.clone(),
            None => {
                let msg = format!("no column {:?} in the input (columns: {})", name, self.column_list());
                self.error(msg);
                return usize::MAX;
            }
        };
        if !ok(&ty) {
            self.error(format!("column {:?} is {}, this stage reads it as {}", name, ty, want));
            return usize::MAX;
        }
        if let Some(i) = self.reads.iter().position(|r| r == name) {
            return i;
        }
        self.reads.push(name.to_string());
        self.reads.len() - 1
    }

    pub(crate) fn write_slot(&mut self, name: &str, ty: &str) -> usize {
        if let Some(i) = self.writes.iter().position(|w| w.name == name) {
            self.error(format!("column {:?} is written twice", name));
            return i;
        }
        self.writes.push(Field {
            name: name.to_string(),
            ty: ty.to_string(),
            nullable: true,
        });
        self.writes.len() - 1
    }
}

/// Go's encoding/json matches a key to a struct field exactly or else
/// ignoring case; doing the same keeps every SDK accepting the same
/// configurations. (Go also folds the Kelvin sign and long s, which no
/// configuration key of ours contains.)
fn key_matches(key: &str, name: &str) -> bool {
    key.eq_ignore_ascii_case(name)
}

/// A stage's configuration, from [`Setup::config`]. Absent keys and keys
/// whose value is null read as None, so a stage applies its defaults;
/// a value of the wrong type is an error naming the key.
#[derive(Clone, Copy)]
pub struct Config<'s> {
    members: &'s [(String, Json)],
}

impl<'s> Config<'s> {
    /// The value of key, or None when it is absent or null. If the mapping
    /// holds the key more than once (possibly in different case) the last
    /// one counts, as in Go.
    pub fn get(&self, key: &str) -> Option<&'s Json> {
        self.members
            .iter()
            .rev()
            .find(|(k, _)| key_matches(k, key))
            .map(|(_, v)| v)
            .filter(|v| **v != Json::Null)
    }

    /// A string value.
    pub fn str(&self, key: &str) -> Result<Option<&'s str>, String> {
        self.typed(key, "a string", Json::as_str)
    }

    /// A number.
    pub fn f64(&self, key: &str) -> Result<Option<f64>, String> {
        self.typed(key, "a number", Json::as_f64)
    }

    /// A bool.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, String> {
        self.typed(key, "a bool", Json::as_bool)
    }

    /// A list of strings (a null item reads as "", as in Go).
    pub fn strings(&self, key: &str) -> Result<Option<Vec<&'s str>>, String> {
        let list = match self.get(key) {
            None => return Ok(None),
            Some(Json::Array(a)) => a,
            Some(v) => return Err(format!("config: {}: want a list of strings, got {}", key, v.kind())),
        };
        let mut out = Vec::with_capacity(list.len());
        for v in list {
            match v {
                Json::String(s) => out.push(s.as_str()),
                Json::Null => out.push(""),
                v => {
                    return Err(format!(
                        "config: {}: want a list of strings, got {} in it",
                        key,
                        v.kind()
                    ))
                }
            }
        }
        Ok(Some(out))
    }

    fn typed<T>(&self, key: &str, want: &str, f: impl Fn(&'s Json) -> Option<T>) -> Result<Option<T>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => f(v)
                .map(Some)
                .ok_or_else(|| format!("config: {}: want {}, got {}", key, want, v.kind())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup(config: &str) -> Setup {
        let schema = vec![
            Field {
                name: "id".into(),
                ty: "int64".into(),
                nullable: false,
            },
            Field {
                name: "amount".into(),
                ty: "float64".into(),
                nullable: true,
            },
            Field {
                name: "email".into(),
                ty: "utf8".into(),
                nullable: true,
            },
            Field {
                name: "day".into(),
                ty: "date32".into(),
                nullable: true,
            },
            Field {
                name: "ts".into(),
                ty: "timestamp[us, UTC]".into(),
                nullable: true,
            },
        ];
        Setup::new("stages[0].wasm".into(), schema, Json::parse(config.as_bytes()).unwrap())
    }

    #[test]
    fn config_accessors() {
        let s = setup(r#"{"Column":"amount","op":null,"value":2.5,"on":true,"cols":["a",null,"b"],"bad":[1]}"#);
        let c = s.config(&["column", "op", "value", "on", "cols", "bad"]).unwrap();
        assert_eq!(c.str("column"), Ok(Some("amount")), "keys match ignoring case");
        assert_eq!(c.str("op"), Ok(None), "null is absent");
        assert_eq!(c.str("missing"), Ok(None));
        assert_eq!(c.f64("value"), Ok(Some(2.5)));
        assert_eq!(c.bool("on"), Ok(Some(true)));
        assert_eq!(c.strings("cols"), Ok(Some(vec!["a", "", "b"])));
        assert_eq!(
            c.str("value"),
            Err("config: value: want a string, got a number".to_string())
        );
        assert_eq!(
            c.f64("column"),
            Err("config: column: want a number, got a string".to_string())
        );
        assert!(c.strings("bad").is_err());
        assert!(c.strings("column").is_err());
    }

    #[test]
    fn config_refuses_unknown_keys_and_non_mappings() {
        let s = setup(r#"{"colum":"amount"}"#);
        let err = s.config(&["column"]).err().unwrap();
        assert!(err.contains("unknown field \"colum\""), "{}", err);
        assert!(setup("[1]").config(&["x"]).is_err());
        assert!(setup("null").config(&[]).is_ok(), "no config is an empty one");
        let s = setup(r#"{"a":1,"A":2}"#);
        assert_eq!(
            s.config(&["a"]).unwrap().f64("a"),
            Ok(Some(2.0)),
            "the last duplicate counts"
        );
    }

    #[test]
    fn declarations() {
        let mut s = setup("null");
        let a = s.read::<f64>("amount");
        let again = s.read::<f64>("amount");
        let d = s.read::<i32>("day");
        let t = s.read::<i64>("ts");
        let e = s.read_string("email");
        assert_eq!((a.slot, again.slot, d.slot, t.slot, e.slot), (0, 0, 1, 2, 3));
        let o = s.write::<i64>("cents", "int64");
        let w = s.write_string("email");
        assert_eq!((o.slot, w.slot), (0, 1));
        s.filter();
        s.drop_column("id");
        assert_eq!(s.err(), Ok(()));
        assert_eq!(s.reads, ["amount", "day", "ts", "email"]);
        assert_eq!(s.drops, ["id"]);
        assert!(s.filter);

        s.read::<f64>("nope");
        s.read::<i32>("amount");
        s.read_string("id");
        s.write::<f64>("x", "int64");
        s.write::<i64>("cents", "int64");
        s.drop_column("nope");
        let err = s.err().unwrap_err();
        for want in [
            "no column \"nope\" in the input (columns: id, amount, email, day, ts)",
            "column \"amount\" is float64, this stage reads it as i32",
            "column \"id\" is int64, this stage reads it as string",
            "column \"x\": type int64 cannot be written as f64",
            "column \"cents\" is written twice",
            "drop: no column \"nope\"",
        ] {
            assert!(err.contains(want), "{:?} lacks {:?}", err, want);
        }
    }
}
