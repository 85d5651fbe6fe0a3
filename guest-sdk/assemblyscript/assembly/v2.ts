// ABI v2 (wasmabi/ABI.md, "Version 2"): a StageV2 emits any number of
// rows per batch (Batch.emit, then put on each output column), emits
// what it holds at end of input (finish) and when the watermark of a
// declared event-time column advances (watermark), and keeps state that
// the host saves at every checkpoint (snapshot, restore). Its entry file
// re-exports "@dataweaver/guest/assembly/exportsV2".

import { Batch } from "./batch";
import { Buf } from "./buffer";
import { Stage } from "./setup";

/** The origin of an emitted row that comes from no input row. */
export const NoOrigin: i32 = -1;

/**
 * StageV2 is a v2 transform. setup and process are Stage's (process emits
 * rows instead of filling one value per input row: write's set, filter,
 * drop and keepBits are v1's); the other methods are optional:
 *
 * - finish(b): once, when the input has ended: emit what the stage still
 *   holds (rows with NoOrigin) and forget it;
 * - watermark(b, wm): after a batch, when the pipeline declared an
 *   event-time column (Setup.eventTime) and its watermark has advanced:
 *   rows of time <= wm are not expected any more, so emit what that
 *   closes (rows with NoOrigin);
 * - snapshot(w) and restore(r): with Setup.keepState, at every checkpoint
 *   write the state (any layout: the host stores the bytes as they are),
 *   and on a fresh instance of a resumed run, after setup and before any
 *   batch, read it back; restore returns null, or a message refusing
 *   state it cannot read (another layout, another configuration) rather
 *   than start from nothing.
 */
export abstract class StageV2 extends Stage {
  finish(b: Batch): void {}
  watermark(b: Batch, watermark: i64): void {}
  snapshot(w: StateWriter): void {}
  restore(r: StateReader): string | null {
    return "the stage keeps no state (call Setup.keepState and override snapshot and restore)";
  }
}

/** tumble is the start of the tumbling window of width w (> 0) holding t:
 * floor division, so a time before the epoch falls in the window before
 * 0, as it should. */
@inline
export function tumble(t: i64, w: i64): i64 {
  let r = t % w;
  return t - r - (r < 0 ? w : 0);
}

/** StateWriter collects a snapshot's bytes, little-endian. The same
 * object is handed to every snapshot call, emptied. */
@final
export class StateWriter {
  /** @internal */ buf: Buf = new Buf();

  @inline u8(v: u8): void {
    this.buf.byte(v);
  }

  @inline u32(v: u32): void {
    this.buf.u32(v);
  }

  @inline i64(v: i64): void {
    let b = this.buf;
    b.reserve(8);
    store<i64>(b.ptr + b.len, v);
    b.len += 8;
  }

  @inline f64(v: f64): void {
    this.i64(reinterpret<i64>(v));
  }

  /** Appends n bytes at p. */
  @inline bytes(p: usize, n: u32): void {
    this.buf.bytes(p, n);
  }

  /** Appends s, UTF-8 encoded (no length: write one first if needed). */
  string(s: string): void {
    this.buf.str(s);
  }

  /** The bytes written so far. */
  get length(): u32 {
    return this.buf.len;
  }
}

/**
 * StateReader reads a saved state back, little-endian. Reading past the
 * end yields zeros and sets short, so restore can read a whole header and
 * check once; the bytes are the host's copy, valid during restore only.
 */
@final
export class StateReader {
  /** @internal */ p: usize = 0;
  /** @internal */ end: usize = 0;
  /** A read went past the end of the state. */
  short: bool = false;

  /** Bytes not read yet. */
  @inline get left(): u32 {
    return <u32>(this.end - this.p);
  }

  /** Takes n bytes and returns where they are, or 0 (and sets short)
   * when fewer are left. */
  bytes(n: u32): usize {
    if (this.short || <u32>(this.end - this.p) < n) {
      this.short = true;
      return 0;
    }
    let q = this.p;
    this.p += n;
    return q;
  }

  u8(): u8 {
    let q = this.bytes(1);
    return q == 0 ? 0 : load<u8>(q);
  }

  u32(): u32 {
    let q = this.bytes(4);
    return q == 0 ? 0 : load<u32>(q);
  }

  i64(): i64 {
    let q = this.bytes(8);
    return q == 0 ? 0 : load<i64>(q);
  }

  f64(): f64 {
    return reinterpret<f64>(this.i64());
  }

  /** Whether the next bytes are the n bytes of s's UTF-8 (ASCII) magic,
   * taking them if so. */
  magic(s: string): bool {
    let n = <u32>s.length;
    if (this.left < n) return false;
    for (let i: u32 = 0; i < n; i++) {
      if (<u32>load<u8>(this.p + i) != <u32>s.charCodeAt(i)) return false;
    }
    this.p += n;
    return true;
  }
}
