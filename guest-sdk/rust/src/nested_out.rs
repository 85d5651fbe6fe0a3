//! Nested output columns of a v2 stage (wasmabi/ABI.md, "Nested types"),
//! the C SDK's `dw_child`/`dw_begin`/`dw_end` and the Go SDK's
//! `guest.Node` in Rust: the tree of a declared type's children, each a
//! column of its own that [`Node`]'s puts fill, kept in step with its
//! parent's rows. A put that would break that step (a value outside its
//! parent's begin/end, a second value for a struct's field) panics with a
//! message naming the column: the host would refuse the result anyway,
//! but could not say which call went wrong.

use std::cell::{Cell, RefCell, RefMut};

use crate::batch::Batch;
use crate::output::{Kind, OutCol, Values};
use crate::runtime::{type_code, CODE_BINARY, CODE_LARGE_BINARY, CODE_LARGE_UTF8, CODE_UTF8};
use crate::setup::Setup;
use crate::Fixed;

pub(crate) const CODE_LIST: u8 = 19;
pub(crate) const CODE_STRUCT: u8 = 20;
pub(crate) const CODE_MAP: u8 = 21;

/// A nested output column ([`Setup::write_nested`]) or one of its
/// children ([`Node::child`], [`Node::field`]): a list's items, a
/// struct's field, a map's keys or values. Its puts give the next value
/// as an output column's do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Node {
    id: usize,
}

const NONE: usize = usize::MAX;

struct Meta {
    path: String, // "items.sku", as the host names it
    name: String, // "sku"
    code: u8,
    parent: Option<usize>, // None: the output column itself
    slot: usize,           // the output column it belongs to
    kid0: usize,
    nkids: usize,
}

/// Every nested output column's nodes, made at setup; the children's
/// buffers, reused from call to call.
#[derive(Default)]
pub(crate) struct Nodes {
    meta: Vec<Meta>,
    /// One per node; a top-level node's is unused (its rows are the
    /// output column's).
    cols: Vec<RefCell<OutCol>>,
    open: Vec<Cell<bool>>,
    kdesc: Vec<RefCell<Vec<u32>>>,
    top: Vec<Option<usize>>,
}

/// The type code of a nested type name and the length of its prefix.
pub(crate) fn nested_code(t: &str) -> Option<(u8, usize)> {
    for (prefix, code) in [("list<", CODE_LIST), ("struct<", CODE_STRUCT), ("map<", CODE_MAP)] {
        if t.len() > prefix.len() && t.starts_with(prefix) && t.ends_with('>') {
            return Some((code, prefix.len()));
        }
    }
    None
}

/// The parts of a comma-separated type list, commas inside `<>`, `[]`
/// and `()` belonging to the inner types.
pub(crate) fn split_types(t: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (vec![], 0i32, 0);
    for (i, c) in t.bytes().enumerate() {
        match c {
            b'<' | b'[' | b'(' => depth += 1,
            b'>' | b']' | b')' => depth -= 1,
            b',' if depth == 0 => {
                parts.push(&t[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&t[start..]);
    parts
}

impl Setup {
    /// (v2) Declares an output column of a nested type: `list<int64>`,
    /// `struct<sku:utf8,qty:int64>`, `map<utf8,list<float64>>` (at most 4
    /// levels). Per emitted row: [`Node::begin`], the children's values,
    /// [`Node::end`]; or [`Node::put_null`].
    pub fn write_nested(&mut self, name: &str, ty: &str) -> Node {
        let slot = self.write_slot(name, ty);
        if nested_code(ty).is_none() {
            self.error(format!("column {:?}: {} is not a list, struct or map", name, ty));
            return Node { id: NONE };
        }
        let nodes = &mut self.nodes;
        while nodes.top.len() <= slot {
            nodes.top.push(None);
        }
        let k = nodes.meta.len();
        nodes.push(name.to_string(), name.to_string(), None, slot);
        nodes.top[slot] = Some(k);
        self.declare(k, ty, 1);
        Node { id: k }
    }

    /// Makes node k of type t and its children, numbered consecutively.
    fn declare(&mut self, k: usize, t: &str, depth: usize) {
        let path = self.nodes.meta[k].path.clone();
        let (code, skip) = match nested_code(t) {
            Some(c) => c,
            None => {
                match type_code(t) {
                    Some((code, kind, values)) if code != CODE_LARGE_UTF8 && code != CODE_LARGE_BINARY => {
                        self.nodes.meta[k].code = code;
                        self.nodes.cols[k] = RefCell::new(OutCol::new(path, code, kind, values));
                    }
                    _ => self.error(format!(
                        "column {:?}: type {:?} cannot be written (v1 types but large_ ones, or list, struct, map)",
                        path, t
                    )),
                }
                return;
            }
        };
        self.nodes.meta[k].code = code;
        self.nodes.cols[k] = RefCell::new(OutCol::new(path.clone(), code, Kind::Nested, Values::None));
        if depth > 4 {
            self.error(format!("column {:?}: nested deeper than 4 levels", path));
            return;
        }
        let mut parts = split_types(&t[skip..t.len() - 1]);
        if (code == CODE_LIST && parts.len() != 1) || (code == CODE_MAP && parts.len() != 2) {
            self.error(format!("column {:?}: {} is not a type", path, t));
            return;
        }
        let kid0 = self.nodes.meta.len();
        self.nodes.meta[k].kid0 = kid0;
        self.nodes.meta[k].nkids = parts.len();
        *self.nodes.kdesc[k].get_mut() = vec![0; 8 * parts.len()];
        let slot = self.nodes.meta[k].slot;
        for (i, part) in parts.iter_mut().enumerate() {
            let mut name = match (code, i) {
                (CODE_MAP, 0) => "key",
                (CODE_MAP, _) => "value",
                _ => "item",
            };
            if code == CODE_STRUCT {
                match part.find(':') {
                    Some(colon) if colon > 0 => {
                        name = &part[..colon];
                        *part = &part[colon + 1..];
                    }
                    _ => {
                        self.error(format!("column {:?}: struct field {:?} has no name", path, part));
                        return;
                    }
                }
            }
            self.nodes
                .push(format!("{}.{}", path, name), name.to_string(), Some(k), slot);
        }
        for (i, part) in parts.iter().enumerate() {
            self.declare(kid0 + i, part, depth + 1);
        }
    }
}

impl Nodes {
    fn push(&mut self, path: String, name: String, parent: Option<usize>, slot: usize) {
        self.cols
            .push(RefCell::new(OutCol::new(path.clone(), 0, Kind::Nested, Values::None)));
        self.meta.push(Meta {
            path,
            name,
            code: 0,
            parent,
            slot,
            kid0: 0,
            nkids: 0,
        });
        self.open.push(Cell::new(false));
        self.kdesc.push(RefCell::new(vec![]));
    }

    /// Whether output slot is a nested column.
    pub(crate) fn is_nested(&self, slot: usize) -> bool {
        self.top.get(slot).map_or(false, Option::is_some)
    }

    /// Readies the children's buffers for a call.
    pub(crate) fn start(&mut self) {
        for (k, m) in self.meta.iter().enumerate() {
            self.open[k].set(false);
            if m.parent.is_some() {
                self.cols[k].get_mut().start_v2();
            }
        }
    }

    /// Fails a call that left a row begun, or a child with other rows
    /// than its parent holds; pads the children's validity bitmaps.
    pub(crate) fn check(&mut self, outs: &[RefCell<OutCol>]) -> Result<(), String> {
        for (k, m) in self.meta.iter().enumerate() {
            if self.open[k].get() {
                return Err(format!("output column {:?}: a row begun and not ended", m.path));
            }
        }
        for k in 0..self.meta.len() {
            let m = &self.meta[k];
            if m.nkids == 0 {
                continue;
            }
            let want = {
                let c = match m.parent {
                    None => outs[m.slot].borrow(),
                    Some(_) => self.cols[k].borrow(),
                };
                if m.code == CODE_STRUCT {
                    c.rows
                } else {
                    c.offs[c.rows] as usize
                }
            };
            for i in 0..m.nkids {
                let kid = &self.meta[m.kid0 + i];
                let mut c = self.cols[m.kid0 + i].borrow_mut();
                if c.rows != want {
                    return Err(format!(
                        "output column {:?}: {} values put for the {} rows its parent holds",
                        kid.path, c.rows, want
                    ));
                }
                if m.code == CODE_MAP && i == 0 && c.nulls.has_null {
                    return Err(format!("output column {:?}: a map key is null", kid.path));
                }
                if c.nulls.has_null && c.nulls.valid.len() < (want + 7) / 8 {
                    c.nulls.valid.resize((want + 7) / 8, 0xff);
                }
            }
        }
        Ok(())
    }

    /// Fills descriptor words 4-6 of output slot's column (its offsets
    /// and child block) and its children's blocks; addr maps a pointer to
    /// a guest address.
    pub(crate) fn describe(&self, slot: usize, offs: *const i32, d: &mut [u32], addr: &dyn Fn(*const u8) -> u32) {
        let k = self.top[slot].expect("a nested output column");
        self.fill(k, offs, d, addr);
    }

    fn fill(&self, k: usize, offs: *const i32, d: &mut [u32], addr: &dyn Fn(*const u8) -> u32) {
        let m = &self.meta[k];
        d[4] = if m.code == CODE_STRUCT { 0 } else { addr(offs.cast()) };
        let mut kd = self.kdesc[k].borrow_mut();
        d[5] = addr(kd.as_ptr().cast());
        d[6] = m.nkids as u32;
        for i in 0..m.nkids {
            let c = self.cols[m.kid0 + i].borrow();
            let e = &mut kd[8 * i..8 * i + 8];
            e[0] = i as u32;
            e[1] = c.code as u32;
            e[2] = 0;
            e[3] = if c.nulls.has_null {
                addr(c.nulls.valid.as_ptr())
            } else {
                0
            };
            e[7] = 0;
            let place = |p: *const u8, len: usize| if len == 0 { (0, 0) } else { (addr(p), len as u32) };
            let (o, (v, vlen)) = match c.kind {
                Kind::Nested => {
                    self.fill(m.kid0 + i, c.offs.as_ptr(), e, addr);
                    continue;
                }
                Kind::Var => (addr(c.offs.as_ptr().cast()), place(c.bytes.as_ptr(), c.bytes.len())),
                Kind::Bool => (0, place(c.bytes.as_ptr(), c.bytes.len())),
                Kind::Fixed => {
                    let (p, len) = c.values.raw();
                    (0, place(p, len))
                }
            };
            e[4] = o;
            e[5] = v;
            e[6] = vlen;
        }
    }
}

fn misuse(what: &str, path: &str) -> ! {
    panic!("dataweaver: {} (output column {:?})", what, path)
}

impl Node {
    /// (setup) Child i: a list's items (0), a map's keys (0) and values
    /// (1), a struct's field i.
    pub fn child(self, s: &mut Setup, i: usize) -> Node {
        let m = match s.nodes.meta.get(self.id) {
            Some(m) => m,
            None => return Node { id: NONE }, // write_nested recorded why
        };
        if i >= m.nkids {
            let msg = format!("column {:?} has {} children, not {}", m.path, m.nkids, i + 1);
            s.error(msg);
            return Node { id: NONE };
        }
        Node { id: m.kid0 + i }
    }

    /// (setup) A struct's field by name.
    pub fn field(self, s: &mut Setup, name: &str) -> Node {
        let m = match s.nodes.meta.get(self.id) {
            Some(m) => m,
            None => return Node { id: NONE },
        };
        match (0..m.nkids).find(|&i| s.nodes.meta[m.kid0 + i].name == name) {
            Some(i) => Node { id: m.kid0 + i },
            None => {
                let msg = format!("column {:?} has no field {:?}", m.path, name);
                s.error(msg);
                Node { id: NONE }
            }
        }
    }

    fn meta<'a>(self, b: &Batch<'a>) -> &'a Meta {
        match b.nodes.meta.get(self.id) {
            Some(m) => m,
            None => panic!("dataweaver: a value for a nested column that setup did not declare"),
        }
    }

    /// The column node k's rows are in.
    fn rows_of<'a>(b: &Batch<'a>, k: usize) -> RefMut<'a, OutCol> {
        match b.nodes.meta[k].parent {
            None => b.outs[b.nodes.meta[k].slot].borrow_mut(),
            Some(_) => b.nodes.cols[k].borrow_mut(),
        }
    }

    /// The column a value goes to, checked: an output column's row must
    /// have been emitted, a child's parent begun (and a struct's field
    /// have no value for the row yet).
    fn col<'a>(self, b: &Batch<'a>) -> RefMut<'a, OutCol> {
        let m = self.meta(b);
        let p = match m.parent {
            None => return b.emit_col(m.slot),
            Some(p) => p,
        };
        if !b.nodes.open[p].get() {
            misuse("a value outside its parent's begin/end", &m.path);
        }
        let c = b.nodes.cols[self.id].borrow_mut();
        if b.nodes.meta[p].code == CODE_STRUCT && c.rows != Node::rows_of(b, p).rows {
            misuse("a second value for a struct's field in one row", &m.path);
        }
        c
    }

    /// Opens a non-null row of a list, map or struct: then give its items,
    /// entries (a key, then a value) or fields, and [`Node::end`] it.
    pub fn begin(self, b: &Batch) {
        drop(self.col(b));
        let m = self.meta(b);
        if m.nkids == 0 {
            misuse("a begin of a column that is not a list, struct or map", &m.path);
        }
        if b.nodes.open[self.id].replace(true) {
            misuse("a begin of a row already begun", &m.path);
        }
    }

    /// Closes the row [`Node::begin`] opened.
    pub fn end(self, b: &Batch) {
        let m = self.meta(b);
        if !b.nodes.open[self.id].get() {
            misuse("an end without a begin", &m.path);
        }
        let mut c = Node::rows_of(b, self.id);
        let kid_rows = |i: usize| b.nodes.cols[m.kid0 + i].borrow().rows;
        if m.code == CODE_STRUCT {
            for i in 0..m.nkids {
                if kid_rows(i) != c.rows + 1 {
                    misuse(
                        "a struct row ended without a value for this field",
                        &b.nodes.meta[m.kid0 + i].path,
                    );
                }
            }
        } else {
            if m.code == CODE_MAP && kid_rows(0) != kid_rows(1) {
                misuse(
                    "a map row ended with more keys than values or more values than keys",
                    &m.path,
                );
            }
            c.offs.push(kid_rows(0) as i32);
        }
        c.rows += 1;
        b.nodes.open[self.id].set(false);
    }

    /// Gives a null: a null list or map has no items, a null struct's
    /// fields get null rows.
    pub fn put_null(self, b: &Batch) {
        let mut c = self.col(b);
        if b.nodes.open[self.id].get() {
            misuse("a null inside the begin/end of the same row", &self.meta(b).path);
        }
        null_row(b, self.id, &mut c);
    }

    /// Gives a fixed-width value: `T` must fit the column's type as
    /// [`Setup::write`]'s does (`i64` for timestamps).
    #[inline]
    pub fn put<T: Fixed>(self, b: &Batch, v: T) {
        let mut c = self.col(b);
        if let Values::None = c.values {
            misuse(
                "a fixed-width value for a column that is not fixed-width",
                &self.meta(b).path,
            );
        }
        T::storage(&mut c.values).push(v);
        c.rows += 1;
    }

    /// Gives a bool value.
    #[inline]
    pub fn put_bool(self, b: &Batch, v: bool) {
        let mut c = self.col(b);
        if c.kind != Kind::Bool {
            misuse("a bool for a column that is not bool", &self.meta(b).path);
        }
        c.push_bool(v);
    }

    /// Gives a utf8 value.
    #[inline]
    pub fn put_str(self, b: &Batch, v: &str) {
        self.put_bytes(b, v.as_bytes())
    }

    /// Gives a utf8 (it must be UTF-8: the host checks) or binary value.
    #[inline]
    pub fn put_bytes(self, b: &Batch, v: &[u8]) {
        let mut c = self.col(b);
        if c.code != CODE_UTF8 && c.code != CODE_BINARY {
            misuse("a string for a column that is not utf8 or binary", &self.meta(b).path);
        }
        c.push_bytes(v);
    }

    /// Gives a whole non-null list row of fixed-width items.
    pub fn put_list<T: Fixed>(self, b: &Batch, vs: &[T]) {
        self.begin(b);
        let m = self.meta(b);
        {
            let mut c = b.nodes.cols[m.kid0].borrow_mut();
            if m.code != CODE_LIST || c.kind != Kind::Fixed {
                misuse("a list of the wrong type for the list's items", &m.path);
            }
            T::storage(&mut c.values).extend_from_slice(vs);
            c.rows += vs.len();
        }
        self.end(b);
    }
}

/// Appends a null row to node k's column c: no items for a list or map,
/// a null row in each field of a struct.
fn null_row(b: &Batch, k: usize, c: &mut OutCol) {
    let m = &b.nodes.meta[k];
    match c.kind {
        Kind::Nested if m.code == CODE_STRUCT => {
            for i in 0..m.nkids {
                null_row(b, m.kid0 + i, &mut b.nodes.cols[m.kid0 + i].borrow_mut());
            }
            c.rows += 1;
        }
        Kind::Nested => {
            let last = c.offs[c.offs.len() - 1];
            c.offs.push(last);
            c.rows += 1;
        }
        Kind::Bool => c.push_bool(false),
        Kind::Var => c.push_bytes(&[]),
        Kind::Fixed => {
            c.values.push_zero();
            c.rows += 1;
        }
    }
    c.null_last();
}
