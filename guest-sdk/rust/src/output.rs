//! Output columns: handles declared at setup, builders per batch. Their
//! buffers belong to the SDK and are reused from batch to batch.

use std::cell::RefMut;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use crate::batch::Batch;
use crate::bitmap;
use crate::column::{Decimal128, Fixed};

/// A fixed-width output column's values, typed (so no cast is needed to
/// write them, and they are aligned for their type).
#[doc(hidden)]
pub enum Values {
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Dec(Vec<Decimal128>),
    /// bool and variable-width columns keep their bytes in OutCol::bytes.
    None,
}

macro_rules! each_values {
    ($v:expr, $x:ident => $e:expr, $none:expr) => {
        match $v {
            Values::I8($x) => $e,
            Values::I16($x) => $e,
            Values::I32($x) => $e,
            Values::I64($x) => $e,
            Values::U8($x) => $e,
            Values::U16($x) => $e,
            Values::U32($x) => $e,
            Values::U64($x) => $e,
            Values::F32($x) => $e,
            Values::F64($x) => $e,
            Values::Dec($x) => $e,
            Values::None => $none,
        }
    };
}

impl Values {
    /// n zero values.
    fn reset(&mut self, n: usize) {
        each_values!(self, v => { v.clear(); v.resize(n, Default::default()) }, ())
    }

    /// Appends one zero value (v2: a null's place).
    pub(crate) fn push_zero(&mut self) {
        each_values!(self, v => v.push(Default::default()), ())
    }

    /// The values as little-endian bytes (for the testing host).
    pub(crate) fn le_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        each_values!(self, v => for x in v { x.write_le(&mut out) }, ());
        out
    }

    /// Address and length in bytes, for the result descriptor.
    pub(crate) fn raw(&self) -> (*const u8, usize) {
        each_values!(self, v => (v.as_ptr().cast::<u8>(), std::mem::size_of_val(v.as_slice())), (std::ptr::null(), 0))
    }
}

/// Which buffers a column has.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Fixed,
    Bool,
    Var,
    /// list, struct, map (nested_out.rs): offsets (list, map) and
    /// children.
    Nested,
}

/// The validity bitmap of an output column, made on the first null.
#[doc(hidden)]
pub struct Nulls {
    pub(crate) valid: Vec<u8>,
    pub(crate) has_null: bool,
    n: usize,
}

impl Nulls {
    fn set_null(&mut self, i: usize) {
        assert!(i < self.n, "set_null({}) in a batch of {} rows", i, self.n);
        if !self.has_null {
            self.valid.clear();
            self.valid.resize((self.n + 7) / 8, 0xff);
            self.has_null = true;
        }
        bitmap::clear(&mut self.valid, i);
    }

    fn copy_from(&mut self, bits: &[u8]) {
        let len = (self.n + 7) / 8;
        assert!(
            bits.len() >= len,
            "set_validity: {} bytes for {} rows",
            bits.len(),
            self.n
        );
        self.valid.clear();
        self.valid.extend_from_slice(&bits[..len]);
        self.has_null = true;
    }
}

/// One output column's buffers.
#[doc(hidden)]
pub struct OutCol {
    pub(crate) name: String,
    pub(crate) code: u8,
    pub(crate) kind: Kind,
    pub(crate) values: Values,
    /// bool: the bits; utf8/binary: the value bytes.
    pub(crate) bytes: Vec<u8>,
    pub(crate) offs: Vec<i32>,
    pub(crate) nulls: Nulls,
    pub(crate) touched: bool,
    /// v2: how many emitted rows have a value in this column so far.
    pub(crate) rows: usize,
}

impl OutCol {
    pub(crate) fn new(name: String, code: u8, kind: Kind, values: Values) -> OutCol {
        OutCol {
            name,
            code,
            kind,
            values,
            bytes: vec![],
            offs: vec![],
            nulls: Nulls {
                valid: vec![],
                has_null: false,
                n: 0,
            },
            touched: false,
            rows: 0,
        }
    }

    /// Prepares the buffers for a batch of n rows: zero values, no nulls.
    pub(crate) fn start(&mut self, n: usize) {
        self.touched = true;
        self.nulls.has_null = false;
        self.nulls.n = n;
        match self.kind {
            Kind::Fixed => self.values.reset(n),
            Kind::Bool => {
                self.bytes.clear();
                self.bytes.resize((n + 7) / 8, 0);
            }
            Kind::Var | Kind::Nested => {
                self.bytes.clear();
                self.offs.clear();
                self.offs.push(0);
            }
        }
    }

    /// Empties the buffers for a v2 call: values are appended, one per
    /// emitted row (the capacity stays, so no allocation once warm).
    pub(crate) fn start_v2(&mut self) {
        self.touched = true;
        self.rows = 0;
        self.nulls.has_null = false;
        self.nulls.valid.clear();
        each_values!(&mut self.values, v => v.clear(), ());
        self.bytes.clear();
        self.offs.clear();
        self.offs.push(0);
    }

    /// v2: marks the value just put null, growing the validity bitmap
    /// with the rows (rows past its end are valid).
    pub(crate) fn null_last(&mut self) {
        let i = self.rows - 1;
        let v = &mut self.nulls;
        if !v.has_null {
            // Every row before this one had a value.
            v.valid.clear();
            v.has_null = true;
        }
        if v.valid.len() <= i >> 3 {
            v.valid.resize((i >> 3) + 1, 0xff);
        }
        bitmap::clear(&mut v.valid, i);
    }

    /// v2: whether every emitted row has a value; pads the validity
    /// bitmap to the m rows.
    pub(crate) fn check_v2(&mut self, m: usize) -> Result<(), String> {
        if self.rows != m {
            return Err(format!(
                "output column {:?}: {} values put for {} rows emitted",
                self.name, self.rows, m
            ));
        }
        if self.nulls.has_null && self.nulls.valid.len() < (m + 7) / 8 {
            self.nulls.valid.resize((m + 7) / 8, 0xff);
        }
        Ok(())
    }

    /// Whether the stage produced the whole column.
    pub(crate) fn check(&self, n: usize) -> Result<(), String> {
        if !self.touched {
            return Err(format!("output column {:?} was not written for this batch", self.name));
        }
        if self.kind == Kind::Var && self.offs.len() != n + 1 {
            return Err(format!(
                "output column {:?}: {} values appended for {} rows",
                self.name,
                self.offs.len() - 1,
                n
            ));
        }
        Ok(())
    }
}

/// A fixed-width output column written as `[T]` (from [`crate::Setup::write`]).
pub struct Out<T: Fixed> {
    pub(crate) slot: usize,
    pub(crate) _t: PhantomData<fn() -> T>,
}

impl<T: Fixed> Clone for Out<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Fixed> Copy for Out<T> {}

/// The values of a fixed-width output column in one batch: a `[T]` of
/// len() rows, zeroed (index it, or iterate it mutably), plus set_null.
/// Every row must be set or marked null.
pub struct FixedOut<'b, T> {
    values: RefMut<'b, [T]>,
    nulls: RefMut<'b, Nulls>,
}

impl<T: Fixed> Out<T> {
    /// The column's values in batch b. One FixedOut per column may be
    /// held at a time.
    pub fn values<'b>(&self, b: &Batch<'b>) -> FixedOut<'b, T> {
        let (values, nulls) = RefMut::map_split(b.output(self.slot), |c| {
            (T::storage(&mut c.values).as_mut_slice(), &mut c.nulls)
        });
        FixedOut { values, nulls }
    }
}

impl<'b, T> FixedOut<'b, T> {
    /// Marks row i null.
    pub fn set_null(&mut self, i: usize) {
        self.nulls.set_null(i);
    }

    /// Replaces the column's validity with a copy of bits (bit i&7 of byte
    /// i>>3 is row i, 1 = not null; bits past len() are ignored): one copy
    /// where an output has the nulls of an input, instead of a call per
    /// null row.
    pub fn set_validity(&mut self, bits: &[u8]) {
        self.nulls.copy_from(bits);
    }
}

impl<'b, T> Deref for FixedOut<'b, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.values
    }
}

impl<'b, T> DerefMut for FixedOut<'b, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.values
    }
}

/// A bool output column (from [`crate::Setup::write_bool`]).
#[derive(Clone, Copy)]
pub struct OutBool {
    pub(crate) slot: usize,
}

/// A bool output column in one batch; rows start false.
pub struct BoolOut<'b> {
    c: RefMut<'b, OutCol>,
}

impl OutBool {
    pub fn values<'b>(&self, b: &Batch<'b>) -> BoolOut<'b> {
        BoolOut { c: b.output(self.slot) }
    }
}

impl<'b> BoolOut<'b> {
    pub fn set(&mut self, i: usize, v: bool) {
        if v {
            bitmap::set(&mut self.c.bytes, i);
        } else {
            bitmap::clear(&mut self.c.bytes, i);
        }
    }

    /// The bit-packed values, for stages that fill them a byte at a time.
    pub fn bits(&mut self) -> &mut [u8] {
        &mut self.c.bytes
    }

    pub fn set_null(&mut self, i: usize) {
        self.c.nulls.set_null(i);
    }
}

/// A utf8 or binary output column (from [`crate::Setup::write_string`] or
/// [`crate::Setup::write_binary`]), built by appending one value per row
/// in row order.
#[derive(Clone, Copy)]
pub struct OutStr {
    pub(crate) slot: usize,
}

/// Appends a variable-width column's values, one per row.
pub struct StrBuilder<'b> {
    c: RefMut<'b, OutCol>,
}

impl OutStr {
    /// The column's builder for batch b.
    pub fn builder<'b>(&self, b: &Batch<'b>) -> StrBuilder<'b> {
        StrBuilder { c: b.output(self.slot) }
    }
}

impl<'b> StrBuilder<'b> {
    /// Makes room for about n more bytes of values.
    pub fn reserve(&mut self, n: usize) {
        self.c.bytes.reserve(n);
    }

    /// Adds the next row's value.
    #[inline]
    pub fn append(&mut self, v: &str) {
        self.append_bytes(v.as_bytes());
    }

    /// Adds the next row's value. In a utf8 column it must be UTF-8: the
    /// host checks every value and fails the batch otherwise.
    #[inline]
    pub fn append_bytes(&mut self, v: &[u8]) {
        let c = &mut *self.c;
        c.bytes.extend_from_slice(v);
        c.offs.push(c.bytes.len() as i32);
    }

    /// Adds the next row's value as the concatenation of parts, without
    /// building it first.
    #[inline]
    pub fn append_concat(&mut self, parts: &[&[u8]]) {
        let c = &mut *self.c;
        for p in parts {
            c.bytes.extend_from_slice(p);
        }
        c.offs.push(c.bytes.len() as i32);
    }

    /// Marks row i null; with [`StrBuilder::raw`], a null row is appended
    /// as an empty value and then marked.
    pub fn set_null(&mut self, i: usize) {
        self.c.nulls.set_null(i);
    }

    /// Replaces the column's validity with a copy of bits, like
    /// [`FixedOut::set_validity`].
    pub fn set_validity(&mut self, bits: &[u8]) {
        self.c.nulls.copy_from(bits);
    }

    /// Adds a null for the next row.
    pub fn append_null(&mut self) {
        let c = &mut *self.c;
        let i = c.offs.len() - 1;
        c.offs.push(c.bytes.len() as i32);
        c.nulls.set_null(i);
    }

    /// The value bytes and offsets, for loops that write rows directly:
    /// offs holds a leading 0 and then bytes.len() after each row so far;
    /// to add a row, extend bytes and push its new length to offs. The
    /// SDK checks at the end of the batch that there is one offset per
    /// row, and the host checks that they never decrease.
    pub fn raw(&mut self) -> (&mut Vec<u8>, &mut Vec<i32>) {
        let c = &mut *self.c;
        (&mut c.bytes, &mut c.offs)
    }
}

// ABI v2: one value per emitted row (Batch::emit, then put or put_null on
// every written column). Each put appends to the column's reused buffers:
// no allocation per row once they have grown to a call's size.

impl<T: Fixed> Out<T> {
    /// (v2) Gives the row being emitted its value in this column.
    #[inline]
    pub fn put(&self, b: &Batch, v: T) {
        let mut c = b.emit_col(self.slot);
        T::storage(&mut c.values).push(v);
        c.rows += 1;
    }

    /// (v2) Gives the row being emitted a null in this column.
    pub fn put_null(&self, b: &Batch) {
        let mut c = b.emit_col(self.slot);
        T::storage(&mut c.values).push(T::default());
        c.rows += 1;
        c.null_last();
    }
}

impl OutBool {
    /// (v2) Gives the row being emitted its value in this column.
    #[inline]
    pub fn put(&self, b: &Batch, v: bool) {
        b.emit_col(self.slot).push_bool(v);
    }

    /// (v2) Gives the row being emitted a null in this column.
    pub fn put_null(&self, b: &Batch) {
        let mut c = b.emit_col(self.slot);
        c.push_bool(false);
        c.null_last();
    }
}

impl OutStr {
    /// (v2) Gives the row being emitted its value in this column.
    #[inline]
    pub fn put(&self, b: &Batch, v: &str) {
        b.emit_col(self.slot).push_bytes(v.as_bytes());
    }

    /// (v2) Gives the row being emitted its value; in a utf8 column it
    /// must be UTF-8 (the host checks every value).
    #[inline]
    pub fn put_bytes(&self, b: &Batch, v: &[u8]) {
        b.emit_col(self.slot).push_bytes(v);
    }

    /// (v2) Gives the row being emitted a null in this column.
    pub fn put_null(&self, b: &Batch) {
        let mut c = b.emit_col(self.slot);
        c.push_bytes(&[]);
        c.null_last();
    }
}

impl OutCol {
    #[inline]
    pub(crate) fn push_bool(&mut self, v: bool) {
        let i = self.rows;
        if i & 7 == 0 {
            self.bytes.push(0);
        }
        self.bytes[i >> 3] |= (v as u8) << (i & 7);
        self.rows += 1;
    }

    #[inline]
    pub(crate) fn push_bytes(&mut self, v: &[u8]) {
        self.bytes.extend_from_slice(v);
        // Offsets are i32 (utf8, binary): the host's emit limit is far
        // below, but a wrapped offset must never reach it.
        assert!(
            self.bytes.len() <= i32::MAX as usize,
            "dataweaver: emitted column over 2 GiB"
        );
        self.offs.push(self.bytes.len() as i32);
        self.rows += 1;
    }
}
