import { Buf } from "./buffer";
import { Field } from "./setup";
import { codeBool, codeBinary, codeList, codeMap, codeUTF8, typeWidth } from "./types";

/** @internal One input column descriptor, resolved to pointers. */
@final
export class InCol {
  values: usize = 0;
  offsets: usize = 0;
  valid: usize = 0;
  valuesLen: u32 = 0;
  large: bool = false;
  /** Rows: the batch's, or for a list's items their number. */
  rows: i32 = 0;
  /** A list's items (v2), made on the first batch. */
  kid: InCol | null = null;
}

/** @internal One output column's buffers, reused batch to batch. */
@final
export class OutCol {
  values: Buf = new Buf();
  offs: Buf = new Buf();
  valid: Buf = new Buf();
  hasNull: bool = false;
  touched: bool = false;
  constructor(public field: Field, public code: i32) {}

  copyValidity(n: i32, validity: usize): void {
    if (validity == 0) {
      this.hasNull = false;
      return;
    }
    this.valid.resize(<u32>(n + 7) >> 3);
    memory.copy(this.valid.ptr, validity, this.valid.len);
    this.hasNull = true;
  }

  /** v2: the values put in this call (one per emitted row when it ends). */
  rows: i32 = 0;

  /** v2: empties the column for a call's emitted rows. */
  begin(): void {
    this.values.len = 0;
    this.valid.len = 0;
    this.hasNull = false;
    this.rows = 0;
    this.offs.len = 0;
    let code = this.code;
    if (code == codeUTF8 || code == codeBinary || code == codeList || code == codeMap) this.offs.u32(0);
  }

  /** v2: makes the validity bitmap n bytes or more, the new bytes all
   * valid: a row's bit is cleared only by a null put. Bytes come as rows
   * need them, so a column without nulls has no bitmap at all. */
  validTo(n: u32): void {
    let v = this.valid;
    let old = v.len;
    if (old >= n) return;
    v.resize(n);
    memory.fill(v.ptr + old, 0xff, n - old);
  }

  /** v2: appends a bool value (bit-packed, a byte per 8 rows). */
  putBit(v: bool): void {
    let i = this.rows;
    if ((i & 7) == 0) this.values.byte(0);
    if (v) {
      let p = this.values.ptr + (<usize>i >> 3);
      store<u8>(p, load<u8>(p) | (<u8>1 << <u8>(i & 7)));
    }
    this.rows++;
  }

  /** v2: the next value put is a null: clears its validity bit. */
  nullBit(): void {
    let i = this.rows;
    this.hasNull = true;
    this.validTo((<u32>i >> 3) + 1);
    let p = this.valid.ptr + (<usize>i >> 3);
    store<u8>(p, load<u8>(p) & ~(<u8>1 << <u8>(i & 7)));
  }

  setNull(n: i32, i: i32): void {
    if (!this.hasNull) {
      this.valid.resize(<u32>(n + 7) >> 3);
      memory.fill(this.valid.ptr, 0xff, this.valid.len);
      this.hasNull = true;
    }
    let p = this.valid.ptr + (<usize>i >> 3);
    store<u8>(p, load<u8>(p) & ~(<u8>1 << <u8>(i & 7)));
  }
}

/** Batch is one batch handed to Stage.process. Views and builders taken
 * from it are valid until process returns. */
@final
export class Batch {
  /** @internal */ n: i32 = 0;
  /** @internal */ ins: InCol[] = [];
  /** @internal */ outs: OutCol[] = [];
  /** @internal */ sel: Buf = new Buf();
  /** @internal */ hasSel: bool = false;
  /** @internal {row, message offset, message length} per rejected row */
  errs: Buf = new Buf();
  /** @internal */ msgs: Buf = new Buf();
  /** @internal */ failMsg: string | null = null;
  /** @internal dw_bind succeeded. */ bound: bool = false;
  /** @internal v2: each emitted row's input row (u32, 0xFFFFFFFF = none). */
  origins: Buf = new Buf();
  /** @internal v2: rows emitted in this call. */ emitted: i32 = 0;
  /** @internal v2: some emitted row has an origin. */ anyOrigin: bool = false;

  /** The number of rows. */
  @inline get length(): i32 {
    return this.n;
  }

  /** Leaves row i out of the output (the stage must have called
   * Setup.filter). */
  drop(i: i32): void {
    if (!this.hasSel) {
      this.startSel();
      memory.fill(this.sel.ptr, 0xff, this.sel.len);
    }
    let p = this.sel.ptr + (<usize>i >> 3);
    store<u8>(p, load<u8>(p) & ~(<u8>1 << <u8>(i & 7)));
  }

  /**
   * Returns a pointer to the batch's selection bitmap for a stage that
   * fills it a byte (8 rows) or a word (64 rows) at a time: bit i&7 of
   * byte i>>3 is row i, 1 = kept; it has (length+7)/8 bytes plus 8 bytes of
   * slack, so a stage may store whole u64 words; bits past length are
   * ignored. The stage must have called Setup.filter. If drop was not
   * called in this batch the bitmap starts all zero (every row dropped);
   * otherwise it holds drop's result so far.
   *
   * Under a stage timeout every loop iteration costs an exit to the host,
   * so a kernel that writes 64 rows per iteration is far cheaper than a
   * drop call per row.
   */
  keepBits(): usize {
    if (!this.hasSel) {
      this.startSel();
      memory.fill(this.sel.ptr, 0, this.sel.len);
    }
    return this.sel.ptr;
  }

  private startSel(): void {
    let nb = <u32>(this.n + 7) >> 3;
    this.sel.len = 0;
    this.sel.reserve(nb + 8);
    this.sel.len = nb;
    this.hasSel = true;
  }

  /** Clears the selection bits of null rows: validity is a column's
   * bitmap (FixedView.validity, StrView.validity; 0 = no nulls). 64 rows
   * per iteration. */
  keepValid(validity: usize): void {
    if (validity == 0) return;
    let sel = this.keepBits();
    let nb = <usize>this.sel.len;
    let i: usize = 0;
    for (; i + 8 <= nb; i += 8) {
      store<u64>(sel + i, load<u64>(sel + i) & load<u64>(validity + i));
    }
    for (; i < nb; i++) {
      store<u8>(sel + i, load<u8>(sel + i) & load<u8>(validity + i));
    }
  }

  /** Reports row i as failed with msg: the engine applies the stage's
   * error policy (fail, skip, dead letter) and leaves it out of the output. */
  reject(i: i32, msg: string): void {
    let off = this.msgs.len;
    this.msgs.str(msg);
    this.errs.u32(<u32>i);
    this.errs.u32(off);
    this.errs.u32(this.msgs.len - off);
  }

  /** Reject with a message given as UTF-8 bytes. */
  rejectBytes(i: i32, ptr: usize, len: u32): void {
    let off = this.msgs.len;
    this.msgs.bytes(ptr, len);
    this.errs.u32(<u32>i);
    this.errs.u32(off);
    this.errs.u32(len);
  }

  /** Fails the whole batch with msg (Go's ProcessFunc returning an error). */
  fail(msg: string): void {
    if (this.failMsg == null) this.failMsg = msg;
  }

  /**
   * v2: starts an output row coming from input row origin (NoOrigin for
   * a row of the stage's own making, the only kind finish and watermark
   * may emit) and returns its index among the rows emitted in this call.
   * Then give each written column one value for it with put/putNull, in
   * any order; a column left without one fails the call naming it.
   */
  emit(origin: i32 = -1): i32 {
    if (origin != -1) {
      if (<u32>origin >= <u32>this.n) {
        this.fail("emit: origin " + origin.toString() + " is not a row of this call's " + this.n.toString() + " input rows");
        origin = -1;
      } else this.anyOrigin = true;
    }
    this.origins.u32(<u32>origin);
    return this.emitted++;
  }

  /** The number of rows emitted so far in this call (v2). */
  @inline get emittedRows(): i32 {
    return this.emitted;
  }

  /** @internal v2: the output column at slot, to put the value of the row
   * being emitted. A second value for the row fails the call. */
  @inline putCol(slot: i32): OutCol {
    let c = unchecked(this.outs[slot]);
    if (c.rows >= this.emitted) this.putTwice(c);
    return c;
  }

  private putTwice(c: OutCol): void {
    this.fail("output column \"" + c.field.name + "\": a value put for no emitted row (call emit first, one value per column per row)");
  }

  /** @internal v2: clears what the previous call emitted and rejected. */
  beginV2(): void {
    let outs = this.outs;
    for (let i = 0; i < outs.length; i++) unchecked(outs[i]).begin();
    this.origins.len = 0;
    this.emitted = 0;
    this.anyOrigin = false;
  }

  /** @internal The output column at slot, prepared on its first use in
   * this batch. */
  out(slot: i32): OutCol {
    let c = unchecked(this.outs[slot]);
    if (c.touched) return c;
    c.touched = true;
    c.hasNull = false;
    let n = <u32>this.n;
    if (c.code == codeBool) {
      c.values.zeroed((n + 7) >> 3);
    } else if (c.code == codeUTF8 || c.code == codeBinary) {
      // Offsets for every row up front: appending one never reallocates.
      c.offs.len = 0;
      c.offs.reserve((n + 1) << 2);
      c.offs.u32(0);
      c.values.len = 0;
    } else {
      c.values.zeroed(n * <u32>typeWidth(c.code));
    }
    return c;
  }
}
