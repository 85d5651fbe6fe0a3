//! Struct columns, and lists of structs, read by a v2 stage
//! (wasmabi/ABI.md, "Nested types"): each field viewed as a column of the
//! struct's rows, as [`crate::Setup::read_list`] views a list's items.

use crate::batch::{Batch, Items};
use crate::column::{BoolView, FixedView, ListCol, ListView, StrView};
use crate::nested_out::{nested_code, split_types, CODE_STRUCT};
use crate::setup::{Field, Setup};
use crate::{bitmap, Fixed};

/// The fields of a `struct<…>` type, or of the items of a
/// `list<struct<…>>` (`struct<a:int64,b:utf8>` gives a: int64 and b:
/// utf8); empty when `ty` is neither.
pub fn struct_fields(ty: &str) -> Vec<Field> {
    let ty = match ty.strip_prefix("list<").and_then(|t| t.strip_suffix('>')) {
        Some(inner) => inner,
        None => ty,
    };
    match nested_code(ty) {
        Some((CODE_STRUCT, skip)) => split_types(&ty[skip..ty.len() - 1])
            .into_iter()
            .map(|part| {
                let (name, t) = part.split_once(':').unwrap_or(("", part));
                Field {
                    name: name.to_string(),
                    ty: t.to_string(),
                    nullable: true,
                }
            })
            .collect(),
        _ => vec![],
    }
}

/// Whether `ty` is a struct of v1 fields.
fn v1_struct(ty: &str) -> bool {
    let fields = struct_fields(ty);
    ty.starts_with("struct<") && !fields.is_empty() && fields.iter().all(|f| crate::runtime::type_code(&f.ty).is_some())
}

/// A `struct<…>` input column of v1 fields (from [`Setup::read_struct`]).
#[derive(Clone, Debug)]
pub struct StructCol {
    slot: usize,
    fields: Vec<Field>,
}

impl Setup {
    /// (v2) Declares a read of a struct column whose fields are of v1
    /// types.
    pub fn read_struct(&mut self, name: &str) -> StructCol {
        let ty = self.field(name).map(|f| f.ty.clone()).unwrap_or_default();
        let ok = v1_struct(&ty);
        StructCol {
            slot: self.read_slot(name, |_| ok, "a struct of v1 types"),
            fields: struct_fields(&ty),
        }
    }

    /// (v2) Declares a read of a `list<struct<…>>` column of v1 fields;
    /// [`ListView::structs`] views its items.
    pub fn read_list_of_structs(&mut self, name: &str) -> ListCol {
        let ty = self.field(name).map(|f| f.ty.clone()).unwrap_or_default();
        let elem = ty
            .strip_prefix("list<")
            .and_then(|t| t.strip_suffix('>'))
            .filter(|t| v1_struct(t))
            .unwrap_or("")
            .to_string();
        let ok = !elem.is_empty();
        ListCol {
            slot: self.read_slot(name, |_| ok, "a list of structs of v1 types"),
            elem,
        }
    }
}

impl StructCol {
    /// The struct's fields, in order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    pub fn view<'a>(&self, b: &Batch<'a>) -> StructView<'a> {
        let c = b.input(self.slot);
        StructView {
            rows: b.len(),
            valid: c.validity(b),
            fields: &c.fields,
            arena: b.arena,
        }
    }
}

impl<'a> ListView<'a> {
    /// The items of a list of structs ([`Setup::read_list_of_structs`]).
    pub fn structs(&self) -> StructView<'a> {
        StructView {
            rows: self.items.rows,
            valid: self.items.valid.map(|v| &self.arena[v.off..v.off + v.len]),
            fields: self.fields,
            arena: self.arena,
        }
    }
}

/// A zero-copy view of a struct column, or of a list's struct items, in
/// one batch.
#[derive(Clone, Copy)]
pub struct StructView<'a> {
    rows: usize,
    valid: Option<&'a [u8]>,
    fields: &'a [Items],
    arena: &'a [u8],
}

impl<'a> StructView<'a> {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Whether row i is not null.
    pub fn is_valid(&self, i: usize) -> bool {
        self.valid.map_or(true, |v| bitmap::get(v, i))
    }

    /// Fixed-width field k as `[T]` (T fits its type as
    /// [`Setup::read`]'s T fits a column's).
    pub fn field_of<T: Fixed>(&self, k: usize) -> FixedView<'a, T> {
        self.fields[k].fixed(self.arena)
    }

    /// Bool field k.
    pub fn bools(&self, k: usize) -> BoolView<'a> {
        self.fields[k].bools(self.arena)
    }

    /// utf8/binary (or large_) field k.
    pub fn strings(&self, k: usize) -> StrView<'a> {
        self.fields[k].strings(self.arena)
    }
}
