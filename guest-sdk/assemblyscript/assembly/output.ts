import { Batch, OutCol } from "./batch";
import { Buf } from "./buffer";
import { Setup, quote } from "./setup";
import { fits, typeName } from "./types";

/** Out is a fixed-width output column written as T. */
@final
export class Out<T> {
  constructor(private slot: i32) {}

  /** Pointer to the column's values for batch b: length rows of T,
   * zeroed. Every row must be set (or marked null with setNull). */
  values(b: Batch): usize {
    return b.out(this.slot).values.ptr;
  }

  /** Sets row i. */
  @inline set(b: Batch, i: i32, v: T): void {
    store<T>(b.out(this.slot).values.ptr + (<usize>i << alignof<T>()), v);
  }

  /** Marks row i null. */
  setNull(b: Batch, i: i32): void {
    b.out(this.slot).setNull(b.n, i);
  }

  /** v2: gives the row being emitted (Batch.emit) its value. */
  @inline put(b: Batch, v: T): void {
    let c = b.putCol(this.slot);
    let vs = c.values;
    vs.reserve(sizeof<T>());
    store<T>(vs.ptr + vs.len, v);
    vs.len += sizeof<T>();
    c.rows++;
  }

  /** v2: gives the row being emitted a null. */
  putNull(b: Batch): void {
    let c = b.putCol(this.slot);
    c.nullBit();
    let vs = c.values;
    vs.reserve(sizeof<T>());
    store<T>(vs.ptr + vs.len, <T>0);
    vs.len += sizeof<T>();
    c.rows++;
  }

  /** Makes the column's nulls those of an input column: validity is its
   * bitmap (FixedView.validity, StrView.validity), 0 = no nulls. One copy
   * instead of a setNull call per row. */
  copyValidity(b: Batch, validity: usize): void {
    b.out(this.slot).copyValidity(b.n, validity);
  }
}

/** Declares an output column of ABI type typ ("int64", "float64",
 * "timestamp[ms]", …) filled as T. A name equal to an input column
 * replaces it in place; other names are appended. */
export function write<T>(s: Setup, name: string, typ: string): Out<T> {
  if (!fits<T>(typ)) s.error("column " + quote(name) + ": type " + typ + " cannot be written as " + typeName<T>());
  return new Out<T>(s.addWrite(name, typ));
}

/** OutBool is a bool output column. */
@final
export class OutBool {
  constructor(private slot: i32) {}

  set(b: Batch, i: i32, v: bool): void {
    let p = b.out(this.slot).values.ptr + (<usize>i >> 3);
    let bit = <u8>1 << <u8>(i & 7);
    store<u8>(p, v ? load<u8>(p) | bit : load<u8>(p) & ~bit);
  }

  setNull(b: Batch, i: i32): void {
    b.out(this.slot).setNull(b.n, i);
  }

  /** v2: gives the row being emitted (Batch.emit) its value. */
  put(b: Batch, v: bool): void {
    b.putCol(this.slot).putBit(v);
  }

  /** v2: gives the row being emitted a null. */
  putNull(b: Batch): void {
    b.putCol(this.slot).nullBit();
    this.put(b, false);
  }
}

/** Declares a bool output column. */
export function writeBool(s: Setup, name: string): OutBool {
  return new OutBool(s.addWrite(name, "bool"));
}

/** OutStr is a utf8 or binary output column, built by appending one
 * value per row in row order. */
@final
export class OutStr {
  private sb: StrBuilder = new StrBuilder();
  constructor(private slot: i32) {}

  /** The column's builder for batch b (the same object every batch). */
  builder(b: Batch): StrBuilder {
    let sb = this.sb;
    let c = b.out(this.slot);
    sb.c = c;
    sb.values = c.values;
    sb.n = b.n;
    return sb;
  }

  /** v2: gives the row being emitted (Batch.emit) n bytes at p as its
   * value (UTF-8 for a utf8 column: the host checks). */
  @inline put(b: Batch, p: usize, n: u32): void {
    let c = b.putCol(this.slot);
    c.values.bytes(p, n);
    c.offs.u32(c.values.len);
    c.rows++;
  }

  /** v2: put with a string's UTF-8 encoding (no allocation). */
  putString(b: Batch, s: string): void {
    let c = b.putCol(this.slot);
    c.values.str(s);
    c.offs.u32(c.values.len);
    c.rows++;
  }

  /** v2: gives the row being emitted a null. */
  putNull(b: Batch): void {
    let c = b.putCol(this.slot);
    c.nullBit();
    c.offs.u32(c.values.len);
    c.rows++;
  }
}

/** Declares a utf8 output column. */
export function writeString(s: Setup, name: string): OutStr {
  return new OutStr(s.addWrite(name, "utf8"));
}

/** Declares a binary output column. */
export function writeBinary(s: Setup, name: string): OutStr {
  return new OutStr(s.addWrite(name, "binary"));
}

/**
 * StrBuilder appends a variable-width column's values, one per row.
 *
 * For loops that write rows without a call per row, values is the value
 * buffer itself: reserve room, store bytes at values.ptr + values.len,
 * advance values.len and call endRow(). Bytes past values.len, within
 * values.cap, may be used as scratch. values.ptr moves when it grows.
 */
@final
export class StrBuilder {
  /** @internal */ c: OutCol | null = null;
  /** @internal */ n: i32 = 0;
  /** The value bytes written so far in this batch. */
  values: Buf = new Buf();

  /** Makes room for n more bytes of values. */
  @inline reserve(n: u32): void {
    this.values.reserve(n);
  }

  /** Ends the current row at values.len. */
  @inline endRow(): void {
    let o = changetype<OutCol>(this.c).offs;
    o.reserve(4);
    store<u32>(o.ptr + o.len, this.values.len);
    o.len += 4;
  }

  /** Adds n bytes at p to the current row (call endRow after the last part). */
  @inline write(p: usize, n: u32): void {
    this.values.bytes(p, n);
  }

  /** Adds s, UTF-8 encoded, to the current row. */
  writeString(s: string): void {
    this.values.str(s);
  }

  /** Appends the next row's value: n bytes at p. */
  @inline append(p: usize, n: u32): void {
    this.values.bytes(p, n);
    this.endRow();
  }

  /** Appends the next row's value from a string. */
  appendString(s: string): void {
    this.values.str(s);
    this.endRow();
  }

  /** Appends a null for the next row. */
  appendNull(): void {
    let c = changetype<OutCol>(this.c);
    let i = <i32>(c.offs.len >> 2) - 1;
    this.endRow();
    c.setNull(this.n, i);
  }

  /** Rows appended so far in this batch. */
  get rows(): i32 {
    return <i32>(changetype<OutCol>(this.c).offs.len >> 2) - 1;
  }
}
