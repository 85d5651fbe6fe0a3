//! Input columns: handles declared at setup, zero-copy views per batch.

use std::marker::PhantomData;
use std::mem::{align_of, size_of};

use crate::batch::Batch;
use crate::bitmap;

/// One decimal128 value: the unscaled 128-bit two's complement integer,
/// low word first (Arrow's layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Decimal128 {
    pub lo: u64,
    pub hi: i64,
}

impl Decimal128 {
    pub fn to_i128(self) -> i128 {
        ((self.hi as i128) << 64) | self.lo as i128
    }

    pub fn from_i128(v: i128) -> Decimal128 {
        Decimal128 {
            lo: v as u64,
            hi: (v >> 64) as i64,
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// The Rust types a fixed-width column is viewed as. Implemented only for
/// the primitive integers and floats and [`Decimal128`]: plain data for
/// which every bit pattern is a value, which is what lets the SDK view
/// the host's buffers in place.
pub trait Fixed: sealed::Sealed + Copy + Default + 'static {
    /// The type's name in messages ("f64").
    const NAME: &'static str;
    /// Whether a column of ABI type `ty` can be viewed as this type.
    fn fits(ty: &str) -> bool;
    #[doc(hidden)]
    fn storage(v: &mut crate::output::Values) -> &mut Vec<Self>;
    #[doc(hidden)]
    fn new_storage() -> crate::output::Values;
    #[doc(hidden)]
    fn write_le(self, out: &mut Vec<u8>);
    #[doc(hidden)]
    fn read_le(b: &[u8]) -> Self;
}

macro_rules! fixed {
    ($($t:ident, $variant:ident, $fits:expr;)*) => {$(
        impl sealed::Sealed for $t {}
        impl Fixed for $t {
            const NAME: &'static str = stringify!($t);
            fn fits(ty: &str) -> bool {
                let f: fn(&str) -> bool = $fits;
                f(ty)
            }
            fn storage(v: &mut crate::output::Values) -> &mut Vec<Self> {
                match v {
                    crate::output::Values::$variant(x) => x,
                    // Out<T> handles are typed at setup, where the storage
                    // is made from the same T.
                    _ => unreachable!("output column storage of the wrong type"),
                }
            }
            fn new_storage() -> crate::output::Values {
                crate::output::Values::$variant(Vec::new())
            }
            fn write_le(self, out: &mut Vec<u8>) {
                fixed!(@write self, out, $t);
            }
            fn read_le(b: &[u8]) -> Self {
                fixed!(@read b, $t)
            }
        }
    )*};
    (@write $v:ident, $out:ident, Decimal128) => {{
        $out.extend_from_slice(&$v.lo.to_le_bytes());
        $out.extend_from_slice(&$v.hi.to_le_bytes());
    }};
    (@write $v:ident, $out:ident, $t:ident) => {
        $out.extend_from_slice(&$v.to_le_bytes())
    };
    (@read $b:ident, Decimal128) => {
        Decimal128 { lo: u64::read_le(&$b[..8]), hi: i64::read_le(&$b[8..16]) }
    };
    (@read $b:ident, $t:ident) => {{
        let mut a = [0u8; std::mem::size_of::<$t>()];
        a.copy_from_slice($b);
        <$t>::from_le_bytes(a)
    }};
}

fixed! {
    i8, I8, |t| t == "int8";
    i16, I16, |t| t == "int16";
    i32, I32, |t| t == "int32" || t == "date32";
    i64, I64, |t| t == "int64" || t.starts_with("timestamp[");
    u8, U8, |t| t == "uint8";
    u16, U16, |t| t == "uint16";
    u32, U32, |t| t == "uint32";
    u64, U64, |t| t == "uint64";
    f32, F32, |t| t == "float32";
    f64, F64, |t| t == "float64";
    Decimal128, Dec, |t| t.starts_with("decimal128(");
}

/// Views the bytes of a host buffer as values of T, without copying.
///
/// Panics if the buffer is not aligned for T or not a whole number of
/// Ts: the host guarantees 64-byte aligned buffers (ABI.md), so either
/// means a broken host.
pub(crate) fn cast<T: Fixed>(bytes: &[u8]) -> &[T] {
    assert!(
        bytes.as_ptr() as usize % align_of::<T>() == 0 && bytes.len() % size_of::<T>() == 0,
        "dataweaver: column buffer misaligned or of a partial value (ABI.md guarantees aligned buffers)"
    );
    // SAFETY: T is one of the Fixed types (sealed): integers, floats or
    // Decimal128 (repr(C), two u64 words), all without padding and valid
    // for every bit pattern. The pointer is aligned for T and the length is
    // a whole number of Ts (checked above), so the new slice covers exactly
    // the bytes of `bytes`, borrowed for the same lifetime. Values are
    // little-endian on wasm32 as in the ABI.
    unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<T>(), bytes.len() / size_of::<T>()) }
}

/// A fixed-width input column read as `[T]` (from [`crate::Setup::read`]).
pub struct Col<T: Fixed> {
    pub(crate) slot: usize,
    pub(crate) _t: PhantomData<fn() -> T>,
}

impl<T: Fixed> Clone for Col<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Fixed> Copy for Col<T> {}

/// A zero-copy view of a fixed-width column in one batch.
#[derive(Clone, Copy)]
pub struct FixedView<'a, T> {
    /// The column's values, one per row (null rows hold an unspecified value).
    pub values: &'a [T],
    valid: Option<&'a [u8]>,
}

impl<T: Fixed> Col<T> {
    /// The column's values in batch b.
    pub fn view<'a>(&self, b: &Batch<'a>) -> FixedView<'a, T> {
        let c = b.input(self.slot);
        FixedView {
            values: &cast::<T>(b.bytes(c.values))[..b.len()],
            valid: c.validity(b),
        }
    }
}

impl<'a, T> FixedView<'a, T> {
    /// Whether row i is not null.
    pub fn is_valid(&self, i: usize) -> bool {
        self.valid.map_or(true, |v| bitmap::get(v, i))
    }

    /// The validity bitmap (bit i&7 of byte i>>3 is row i, 1 = not null),
    /// or None when the batch has no nulls in this column: a stage can test
    /// that once per batch instead of calling is_valid per row, or combine
    /// it with a selection a byte or a word at a time.
    pub fn validity(&self) -> Option<&'a [u8]> {
        self.valid
    }
}

/// A bool input column (from [`crate::Setup::read_bool`]).
#[derive(Clone, Copy)]
pub struct BoolCol {
    pub(crate) slot: usize,
}

/// A zero-copy view of a bool column.
#[derive(Clone, Copy)]
pub struct BoolView<'a> {
    /// Bit-packed values, LSB first (row i is bit i&7 of byte i>>3).
    pub bits: &'a [u8],
    valid: Option<&'a [u8]>,
}

impl BoolCol {
    pub fn view<'a>(&self, b: &Batch<'a>) -> BoolView<'a> {
        let c = b.input(self.slot);
        BoolView {
            bits: &b.bytes(c.values)[..(b.len() + 7) / 8],
            valid: c.validity(b),
        }
    }
}

impl<'a> BoolView<'a> {
    /// Row i's value (false for null rows).
    pub fn value(&self, i: usize) -> bool {
        bitmap::get(self.bits, i)
    }

    pub fn is_valid(&self, i: usize) -> bool {
        self.valid.map_or(true, |v| bitmap::get(v, i))
    }

    pub fn validity(&self) -> Option<&'a [u8]> {
        self.valid
    }
}

/// A utf8, binary, large_utf8 or large_binary input column (from
/// [`crate::Setup::read_string`]).
#[derive(Clone, Copy)]
pub struct StrCol {
    pub(crate) slot: usize,
}

/// A variable-width column's offsets: i32 for utf8/binary, i64 for the
/// large types. They are Arrow's, copied verbatim, so they need not start
/// at 0: row i is `data[offs[i] - offs[0] .. offs[i+1] - offs[0]]`.
#[derive(Clone, Copy)]
pub enum Offsets<'a> {
    Small(&'a [i32]),
    Large(&'a [i64]),
}

/// A zero-copy view of a variable-width column.
#[derive(Clone, Copy)]
pub struct StrView<'a> {
    offs: Offsets<'a>,
    base: usize,
    data: &'a [u8],
    valid: Option<&'a [u8]>,
}

impl StrCol {
    pub fn view<'a>(&self, b: &Batch<'a>) -> StrView<'a> {
        let c = b.input(self.slot);
        let n = b.len();
        let (offs, base) = if c.large {
            let o = &cast::<i64>(b.bytes(c.offsets))[..n + 1];
            (Offsets::Large(o), o[0] as usize)
        } else {
            let o = &cast::<i32>(b.bytes(c.offsets))[..n + 1];
            (Offsets::Small(o), o[0] as usize)
        };
        StrView {
            offs,
            base,
            data: b.bytes(c.values),
            valid: c.validity(b),
        }
    }
}

impl<'a> StrView<'a> {
    /// Row i's bytes (empty for null rows), borrowed from the batch.
    #[inline]
    pub fn bytes(&self, i: usize) -> &'a [u8] {
        let (s, e) = match self.offs {
            Offsets::Small(o) => (o[i] as usize, o[i + 1] as usize),
            Offsets::Large(o) => (o[i] as usize, o[i + 1] as usize),
        };
        &self.data[s - self.base..e - self.base]
    }

    /// Row i as text; an error if it is not UTF-8 (a binary column can
    /// hold anything, and the host does not check input text).
    pub fn str(&self, i: usize) -> Result<&'a str, std::str::Utf8Error> {
        std::str::from_utf8(self.bytes(i))
    }

    pub fn is_valid(&self, i: usize) -> bool {
        self.valid.map_or(true, |v| bitmap::get(v, i))
    }

    pub fn validity(&self) -> Option<&'a [u8]> {
        self.valid
    }

    /// The column's offsets and value bytes, for loops that read them
    /// directly (see [`Offsets`] for how a row is found).
    pub fn raw(&self) -> (Offsets<'a>, &'a [u8]) {
        (self.offs, self.data)
    }
}

/// A `list<T>` input column of a v2 stage, T a v1 type (from
/// [`crate::Setup::read_list`]; wasmabi/ABI.md, "Nested types"). Its
/// items are viewed as a column of their own; [`ListView::range`] gives
/// each row's.
#[derive(Clone, Debug)]
pub struct ListCol {
    pub(crate) slot: usize,
    pub(crate) elem: String,
}

/// A zero-copy view of a list column in one batch.
#[derive(Clone, Copy)]
pub struct ListView<'a> {
    offs: &'a [i32],
    valid: Option<&'a [u8]>,
    pub(crate) items: crate::batch::Items,
    pub(crate) arena: &'a [u8],
    /// A list of structs' items' fields (nested_in.rs).
    pub(crate) fields: &'a [crate::batch::Items],
}

impl ListCol {
    /// The items' ABI type name ("int64", "utf8", "timestamp[us]"…).
    pub fn elem(&self) -> &str {
        &self.elem
    }

    pub fn view<'a>(&self, b: &Batch<'a>) -> ListView<'a> {
        let c = b.input(self.slot);
        ListView {
            offs: &cast::<i32>(b.bytes(c.offsets))[..b.len() + 1],
            valid: c.validity(b),
            items: c.items,
            arena: b.arena,
            fields: &c.fields,
        }
    }
}

impl<'a> ListView<'a> {
    /// Whether row i is not null.
    pub fn is_valid(&self, i: usize) -> bool {
        self.valid.map_or(true, |v| bitmap::get(v, i))
    }

    /// The items of row i: rows `lo..hi` of the views that
    /// [`ListView::items_of`], [`ListView::bools`] and
    /// [`ListView::strings`] return. A null row usually has none.
    pub fn range(&self, i: usize) -> std::ops::Range<usize> {
        (self.offs[i] - self.offs[0]) as usize..(self.offs[i + 1] - self.offs[0]) as usize
    }

    /// The number of item rows in the batch.
    pub fn items(&self) -> usize {
        self.items.rows
    }

    /// Fixed-width items as `[T]` (T fits the items' type as
    /// [`crate::Setup::read`]'s T fits a column's).
    pub fn items_of<T: Fixed>(&self) -> FixedView<'a, T> {
        self.items.fixed(self.arena)
    }

    /// Bool items.
    pub fn bools(&self) -> BoolView<'a> {
        self.items.bools(self.arena)
    }

    /// utf8/binary (or large_) items.
    pub fn strings(&self) -> StrView<'a> {
        self.items.strings(self.arena)
    }
}

// Views of a nested column's child (a list's items, a struct's fields):
// a column of `rows` rows of its own.
impl crate::batch::Items {
    fn bytes<'a>(&self, arena: &'a [u8], s: crate::batch::Span) -> &'a [u8] {
        &arena[s.off..s.off + s.len]
    }

    fn validity<'a>(&self, arena: &'a [u8]) -> Option<&'a [u8]> {
        self.valid.map(|v| self.bytes(arena, v))
    }

    pub(crate) fn fixed<'a, T: Fixed>(&self, arena: &'a [u8]) -> FixedView<'a, T> {
        FixedView {
            values: &cast::<T>(self.bytes(arena, self.values))[..self.rows],
            valid: self.validity(arena),
        }
    }

    pub(crate) fn bools<'a>(&self, arena: &'a [u8]) -> BoolView<'a> {
        BoolView {
            bits: &self.bytes(arena, self.values)[..(self.rows + 7) / 8],
            valid: self.validity(arena),
        }
    }

    pub(crate) fn strings<'a>(&self, arena: &'a [u8]) -> StrView<'a> {
        let n = self.rows;
        let (offs, base) = if self.large {
            let o = &cast::<i64>(self.bytes(arena, self.offsets))[..n + 1];
            (Offsets::Large(o), o[0] as usize)
        } else {
            let o = &cast::<i32>(self.bytes(arena, self.offsets))[..n + 1];
            (Offsets::Small(o), o[0] as usize)
        };
        StrView {
            offs,
            base,
            data: self.bytes(arena, self.values),
            valid: self.validity(arena),
        }
    }
}
