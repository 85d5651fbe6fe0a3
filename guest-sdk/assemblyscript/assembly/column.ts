import { Batch, InCol } from "./batch";
import { Setup } from "./setup";
import { fits, isVarWidth, typeName } from "./types";

/** Col is a fixed-width input column read as T (i8…u64, f32, f64; date32
 * is i32, timestamps are i64). */
@final
export class Col<T> {
  private v: FixedView<T> = new FixedView<T>();
  /** item: the column is the items of the list read at slot (ListCol.itemsOf). */
  constructor(private slot: i32, private item: bool = false) {}

  /** The column in batch b. The same view object is returned (updated)
   * every batch: take it again in each process call. */
  view(b: Batch): FixedView<T> {
    let d = inCol(b, this.slot, this.item);
    let v = this.v;
    v.values = d.values;
    v.validity = d.valid;
    v.length = d.rows;
    return v;
  }
}

// inCol is the input column at slot in batch b, or with item its list's
// items.
@inline
function inCol(b: Batch, slot: i32, item: bool): InCol {
  let d = unchecked(b.ins[slot]);
  return item ? changetype<InCol>(d.kid) : d;
}

/** Declares that the stage reads column name as T. A missing column or a
 * type that does not fit T is recorded on s (see Setup.failed). */
export function read<T>(s: Setup, name: string): Col<T> {
  let f = s.field(name);
  return new Col<T>(s.addRead(name, f, f != null && fits<T>(f.type), typeName<T>()));
}

/** FixedView is a zero-copy view of a fixed-width column in one batch. */
@final
export class FixedView<T> {
  /** Pointer to the first value; value i is at values + i*sizeof<T>(). */
  values: usize = 0;
  /** The validity bitmap (bit i&7 of byte i>>3 is row i, 1 = not null), or
   * 0 when the batch has no nulls in this column: test it once per batch
   * instead of calling valid per row. */
  validity: usize = 0;
  /** Rows. */
  length: i32 = 0;

  /** Row i's value (whatever bytes a null row holds). */
  @inline get(i: i32): T {
    return load<T>(this.values + (<usize>i << alignof<T>()));
  }

  /** Whether row i is not null. */
  @inline valid(i: i32): bool {
    return this.validity == 0 || ((load<u8>(this.validity + (<usize>i >> 3)) >> <u8>(i & 7)) & 1) != 0;
  }
}

/** BoolCol is a bool input column. */
@final
export class BoolCol {
  private v: BoolView = new BoolView();
  constructor(private slot: i32, private item: bool = false) {}

  /** The column in batch b (the same object every batch). */
  view(b: Batch): BoolView {
    let d = inCol(b, this.slot, this.item);
    let v = this.v;
    v.bits = d.values;
    v.validity = d.valid;
    v.length = d.rows;
    return v;
  }
}

/** Declares a read of a bool column. */
export function readBool(s: Setup, name: string): BoolCol {
  let f = s.field(name);
  return new BoolCol(s.addRead(name, f, f != null && f.type == "bool", "bool"));
}

/** BoolView is a zero-copy view of a bool column. */
@final
export class BoolView {
  /** The bit-packed values, LSB first. */
  bits: usize = 0;
  /** As FixedView.validity. */
  validity: usize = 0;
  length: i32 = 0;

  /** Row i (false for null rows). */
  @inline get(i: i32): bool {
    return ((load<u8>(this.bits + (<usize>i >> 3)) >> <u8>(i & 7)) & 1) != 0;
  }

  @inline valid(i: i32): bool {
    return this.validity == 0 || ((load<u8>(this.validity + (<usize>i >> 3)) >> <u8>(i & 7)) & 1) != 0;
  }
}

/** StrCol is a utf8, binary, large_utf8 or large_binary input column. */
@final
export class StrCol {
  private v: StrView = new StrView();
  constructor(private slot: i32, private item: bool = false) {}

  /** The column in batch b (the same object every batch). */
  view(b: Batch): StrView {
    let d = inCol(b, this.slot, this.item);
    let v = this.v;
    v.offsets = d.offsets;
    v.large = d.large;
    v.validity = d.valid;
    v.length = d.rows;
    // Offsets are copied verbatim and values start at offsets[0]: moving
    // the base pointer back by offsets[0] lets every row be read as
    // data + offsets[i] without rewriting the offsets.
    let first: usize = d.large ? <usize>load<u64>(d.offsets) : <usize>load<u32>(d.offsets);
    v.data = d.values - first;
    return v;
  }
}

/** Declares a read of a utf8, binary, large_utf8 or large_binary column. */
export function readString(s: Setup, name: string): StrCol {
  let f = s.field(name);
  return new StrCol(s.addRead(name, f, f != null && isVarWidth(f.type), "string"));
}

/**
 * StrView is a zero-copy view of a variable-width column. Values are UTF-8
 * (or arbitrary) bytes in linear memory; nothing here makes an
 * AssemblyScript (UTF-16) string except toString, which allocates.
 */
@final
export class StrView {
  /** Raw access for loops: the offsets (n+1 entries, i32 or, when large,
   * i64) and the base that row i's bytes are addressed from:
   * data + offsets[i] .. data + offsets[i+1]. Read-only. */
  offsets: usize = 0;
  data: usize = 0;
  large: bool = false;
  /** As FixedView.validity. */
  validity: usize = 0;
  length: i32 = 0;

  /** The offset of row i's first byte from data. */
  @inline start(i: i32): usize {
    return this.large
      ? <usize>load<u64>(this.offsets + (<usize>i << 3))
      : <usize>load<u32>(this.offsets + (<usize>i << 2));
  }

  /** Pointer to row i's bytes. */
  @inline ptr(i: i32): usize {
    return this.data + this.start(i);
  }

  /** Row i's length in bytes. */
  @inline len(i: i32): u32 {
    return <u32>(this.start(i + 1) - this.start(i));
  }

  /** Whether row i is not null. */
  @inline valid(i: i32): bool {
    return this.validity == 0 || ((load<u8>(this.validity + (<usize>i >> 3)) >> <u8>(i & 7)) & 1) != 0;
  }

  /** Whether row i's bytes equal the n bytes at p. */
  @inline equals(i: i32, p: usize, n: u32): bool {
    let a = this.start(i);
    return <u32>(this.start(i + 1) - a) == n && memory.compare(this.data + a, p, n) == 0;
  }

  /** Row i decoded as a string (allocates: for cold paths and messages). */
  toString(i: i32): string {
    return String.UTF8.decodeUnsafe(this.ptr(i), this.len(i));
  }
}
