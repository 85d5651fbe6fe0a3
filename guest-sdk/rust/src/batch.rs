//! One batch as a stage's process function sees it.

use std::cell::{RefCell, RefMut};

use crate::bitmap;
use crate::output::OutCol;

/// A byte range of the host's reserved region.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Span {
    pub off: usize,
    pub len: usize,
}

/// One input column descriptor, resolved to ranges of the region.
#[derive(Clone, Debug, Default)]
pub(crate) struct InCol {
    pub values: Span,
    pub offsets: Span,
    pub valid: Option<Span>,
    pub large: bool,
    /// A list column's items (v2 nested types; see column.rs's ListView).
    pub items: Items,
    /// A struct column's fields, or a list of structs' items' fields
    /// (nested_in.rs), each of the struct's rows.
    pub fields: Vec<Items>,
}

/// The items of a list column: a column of `rows` rows of its own.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Items {
    pub rows: usize,
    pub values: Span,
    pub offsets: Span,
    pub valid: Option<Span>,
    pub large: bool,
}

impl InCol {
    pub fn validity<'a>(&self, b: &Batch<'a>) -> Option<&'a [u8]> {
        self.valid.map(|v| b.bytes(v))
    }
}

/// The selection: `active` false means every row is kept.
#[derive(Default)]
pub(crate) struct Selection {
    pub bits: Vec<u8>,
    pub active: bool,
}

/// The rows a v2 call emitted: each one's input row of origin
/// (u32::MAX = none), and whether any has one.
#[derive(Default)]
pub(crate) struct Emitted {
    pub origins: Vec<u32>,
    pub any: bool,
}

pub(crate) struct RowError {
    pub row: u32,
    pub msg: String,
}

/// One batch handed to a stage's process function. Every method takes
/// `&self`: input views borrow the host's buffers for the whole call
/// (lifetime `'a`) while output builders, the selection and rejections
/// are checked out at run time, so a stage can hold an input view, an
/// output column and reject rows in the same loop.
pub struct Batch<'a> {
    pub(crate) n: usize,
    pub(crate) arena: &'a [u8],
    pub(crate) ins: &'a [InCol],
    pub(crate) outs: &'a [RefCell<OutCol>],
    pub(crate) sel: &'a RefCell<Selection>,
    pub(crate) errs: &'a RefCell<Vec<RowError>>,
    /// Some in a v2 call: the rows emitted so far.
    pub(crate) emitted: Option<&'a RefCell<Emitted>>,
    /// v2: the nested output columns' children.
    pub(crate) nodes: &'a crate::nested_out::Nodes,
}

impl<'a> Batch<'a> {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Leaves row i out of the output (the stage must have called
    /// [`crate::Setup::filter`]).
    pub fn drop_row(&self, i: usize) {
        self.v1_only("drop_row");
        assert!(i < self.n, "drop_row({}) in a batch of {} rows", i, self.n);
        let mut s = self.sel.borrow_mut();
        if !s.active {
            s.bits.clear();
            s.bits.resize((self.n + 7) / 8, 0xff);
            s.active = true;
        }
        bitmap::clear(&mut s.bits, i);
    }

    /// The batch's selection bitmap, for a stage that fills it a byte (8
    /// rows) or a word (64 rows) at a time: bit i&7 of byte i>>3 is row i,
    /// 1 = kept; its length is (len()+7)/8 and bits past len() are ignored.
    /// The stage must have called [`crate::Setup::filter`]. If drop_row
    /// was not called in this batch the bitmap starts all zero (every row
    /// dropped), so the stage sets the bits of the rows it keeps;
    /// otherwise it holds drop_row's result so far.
    ///
    /// Under a stage timeout every loop iteration and call in the guest is
    /// checked by the host (wasmabi/BENCH_NOTES.md), so a filter that
    /// writes whole bytes or words runs 8x-64x fewer checks than one
    /// calling drop_row per row.
    ///
    /// Panics if the bitmap is already checked out (drop the first one).
    pub fn keep_bits(&self) -> RefMut<'a, [u8]> {
        self.v1_only("keep_bits");
        let mut s = self
            .sel
            .try_borrow_mut()
            .expect("keep_bits: the selection is already borrowed in this batch");
        if !s.active {
            s.bits.clear();
            s.bits.resize((self.n + 7) / 8, 0);
            s.active = true;
        }
        RefMut::map(s, |s| s.bits.as_mut_slice())
    }

    /// Rejects row i with a message: the engine applies the stage's error
    /// policy (fail, skip, dead letter) to it and leaves it out of the
    /// output.
    pub fn reject(&self, i: usize, msg: impl Into<String>) {
        assert!(i < self.n, "reject({}) in a batch of {} rows", i, self.n);
        self.errs.borrow_mut().push(RowError {
            row: i as u32,
            msg: msg.into(),
        });
    }

    pub(crate) fn input(&self, slot: usize) -> &'a InCol {
        &self.ins[slot]
    }

    pub(crate) fn bytes(&self, s: Span) -> &'a [u8] {
        &self.arena[s.off..s.off + s.len]
    }

    /// (v2) Starts an output row that comes from input row `origin`, or
    /// from none (`None`: an aggregate, a row emitted at end of input or
    /// on a watermark), and returns its index among the rows emitted by
    /// this call. Then give every written column one value for it, with
    /// `put` or `put_null`. Input columns that pass through (no
    /// [`crate::Setup::drop_all`]) take the origin's values, so a row
    /// without an origin is only possible when none pass through.
    pub fn emit(&self, origin: Option<usize>) -> usize {
        let mut e = self
            .emitted
            .expect("emit is ABI v2's: declare the stage with stage_v2!")
            .borrow_mut();
        let o = match origin {
            Some(i) => {
                assert!(i < self.n, "emit(Some({})) in a batch of {} rows", i, self.n);
                e.any = true;
                i as u32
            }
            None => u32::MAX,
        };
        e.origins.push(o);
        e.origins.len() - 1
    }

    /// (v2) The number of rows emitted so far in this call.
    pub fn emitted(&self) -> usize {
        self.emitted.map_or(0, |e| e.borrow().origins.len())
    }

    /// Output column slot for the next value of the row being emitted.
    #[inline]
    pub(crate) fn emit_col(&self, slot: usize) -> RefMut<'a, OutCol> {
        let m = self.emitted();
        let c = match self.outs[slot].try_borrow_mut() {
            Ok(c) => c,
            Err(_) => panic!("output column {} is already borrowed in this call", slot),
        };
        if c.rows >= m {
            panic!(
                "a second value for row {} of column {:?} (call emit first, or put is ABI v2's)",
                m as isize - 1,
                c.name
            );
        }
        c
    }

    fn v1_only(&self, what: &str) {
        if self.emitted.is_some() {
            panic!(
                "{} is ABI v1's: a v2 stage keeps a row by emitting it (emit, put)",
                what
            );
        }
    }

    /// Output column slot, its buffers prepared on first use in the batch.
    pub(crate) fn output(&self, slot: usize) -> RefMut<'a, OutCol> {
        self.v1_only("an output column's values or builder");
        let mut c = match self.outs[slot].try_borrow_mut() {
            Ok(c) => c,
            Err(_) => panic!(
                "output column {} is already borrowed in this batch (keep one builder per column)",
                slot
            ),
        };
        if !c.touched {
            c.start(self.n);
        }
        c
    }
}
