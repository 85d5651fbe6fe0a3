// filter keeps the rows matching a predicate on one numeric or string
// column; the AssemblyScript twin of transforms/filter (same config, same
// output bit for bit).
//
//   stages:
//     - wasm: transforms/assemblyscript/filter/filter.wasm
//       config: {column: amount, op: ">=", value: 0}
//
// Ops: ==, !=, <, <=, >, >= (numbers, compared as f64; NaN never matches
// except for !=, as in Go); ==, != (strings; value is a string or a list
// of strings, meaning "any of"). Null rows never match.

import {
  Batch, Col, JSONValue, Kind, Setup, Stage, StrCol, read, readString, register,
} from "../../../../guest-sdk/assemblyscript/assembly";
export * from "../../../../guest-sdk/assemblyscript/assembly/exports";

const opEQ = 0, opGT = 1, opGE = 2;
const byF64 = 0, byI64 = 1, byI32 = 2, byWord = 3, byBytes = 4, bySet = 5;

class Filter extends Stage {
  by: i32 = 0;
  op: i32 = opEQ;
  sign: f64 = 1;
  x: f64 = 0;
  inv: u64 = 0;
  f64col: Col<f64> | null = null;
  i64col: Col<i64> | null = null;
  i32col: Col<i32> | null = null;
  str: StrCol | null = null;
  want: ArrayBuffer = new ArrayBuffer(0);
  wantWord: u64 = 0;
  wantMask: u64 = 0;
  set: ArrayBuffer[] = [];

  setup(s: Setup): void {
    let c = s.config(["column", "op", "value"]);
    let column = c.string("column");
    let op = c.string("op");
    let value = c.value("value");
    if (s.failed) return;
    if (column.length == 0) return s.error("config: column is required");
    if (op.length == 0) op = "==";
    let f = s.field(column);
    if (f == null) return s.error("no column \"" + column + "\" in the input");
    s.filter();
    let t = f.type;
    if (t == "utf8" || t == "large_utf8" || t == "binary" || t == "large_binary") return this.strings(s, column, op, value);
    if (t == "float64") {
      this.by = byF64;
      this.f64col = read<f64>(s, column);
    } else if (t == "int64") {
      this.by = byI64;
      this.i64col = read<i64>(s, column);
    } else if (t == "int32") {
      this.by = byI32;
      this.i32col = read<i32>(s, column);
    } else {
      return s.error("column \"" + column + "\" is " + t + "; filter takes float64, int64, int32 or string columns");
    }
    if (value == null || value.kind != Kind.Number) return s.error("config: value must be a number for column \"" + column + "\"");
    // < and <= are > and >= on negated operands (exact in f64, NaN still
    // never matches) and != is the complement of ==: three kernels.
    if (op == "==") this.op = opEQ;
    else if (op == "!=") { this.op = opEQ; this.inv = ~<u64>0; }
    else if (op == "<") { this.op = opGT; this.sign = -1; }
    else if (op == "<=") { this.op = opGE; this.sign = -1; }
    else if (op == ">") this.op = opGT;
    else if (op == ">=") this.op = opGE;
    else return s.error("config: unknown op \"" + op + "\" (==, !=, <, <=, >, >=)");
    this.x = this.sign * value.num;
  }

  strings(s: Setup, column: string, op: string, value: JSONValue | null): void {
    let set = new Array<ArrayBuffer>();
    if (value != null && value.kind == Kind.String) {
      set.push(value.bytes!);
    } else if (value != null && value.kind == Kind.Array) {
      let items = value.items!;
      for (let i = 0; i < items.length; i++) {
        let e = items[i];
        // Go decodes a null element of an `any` list as nil, not a string.
        if (e.kind != Kind.String) return s.error("config: value: " + e.typeName() + " is not a string");
        set.push(e.bytes!);
      }
    } else {
      return s.error("config: value must be a string or a list of strings for column \"" + column + "\"");
    }
    if (op == "!=") this.inv = ~<u64>0;
    else if (op != "==") return s.error("config: op \"" + op + "\" does not apply to strings (use == or !=)");
    this.str = readString(s, column);
    if (set.length != 1) {
      this.by = bySet;
      this.set = set;
      return;
    }
    let w = set[0];
    this.want = w;
    if (w.byteLength > 8) {
      this.by = byBytes;
      return;
    }
    this.by = byWord;
    let word: u64 = 0;
    for (let i = w.byteLength - 1; i >= 0; i--) word = (word << 8) | <u64>load<u8>(changetype<usize>(w) + <usize>i);
    this.wantWord = word;
    this.wantMask = w.byteLength == 8 ? ~<u64>0 : (<u64>1 << (<u64>w.byteLength * 8)) - 1;
  }

  process(b: Batch): void {
    let sel = b.keepBits();
    let n = b.length;
    switch (this.by) {
      case byF64: {
        let v = this.f64col!.view(b);
        fill<f64>(this.op, sel, v.values, n, this.sign, this.x, this.inv);
        b.keepValid(v.validity);
        break;
      }
      case byI64: {
        let v = this.i64col!.view(b);
        fill<i64>(this.op, sel, v.values, n, this.sign, this.x, this.inv);
        b.keepValid(v.validity);
        break;
      }
      case byI32: {
        let v = this.i32col!.view(b);
        fill<i32>(this.op, sel, v.values, n, this.sign, this.x, this.inv);
        b.keepValid(v.validity);
        break;
      }
      default: {
        let v = this.str!.view(b);
        if (v.large) strFill<u64>(this, sel, v.offsets, v.data, n);
        else strFill<u32>(this, sel, v.offsets, v.data, n);
        b.keepValid(v.validity);
      }
    }
  }
}

register(new Filter());

// --- numeric kernels ---------------------------------------------------
// Under a stage timeout every loop iteration exits to the host, so the
// kernels fill 64 rows per iteration with straight-line code: the
// comparisons compile to i32 results and shifts, not branches. op is a
// constant at each inlined call site, so each loop holds one comparison.

// @ts-ignore: decorator
@inline function cmp<T>(op: i32, p: usize, k: usize, s: f64, x: f64): u64 {
  let v = s * <f64>load<T>(p + k * sizeof<T>());
  return op == opEQ ? <u64>(v == x) : op == opGT ? <u64>(v > x) : <u64>(v >= x);
}

// byte8 is the selection byte of the 8 rows at p.
// @ts-ignore: decorator
@inline function byte8<T>(op: i32, p: usize, s: f64, x: f64): u64 {
  return cmp<T>(op, p, 0, s, x) | cmp<T>(op, p, 1, s, x) << 1 | cmp<T>(op, p, 2, s, x) << 2 | cmp<T>(op, p, 3, s, x) << 3 |
    cmp<T>(op, p, 4, s, x) << 4 | cmp<T>(op, p, 5, s, x) << 5 | cmp<T>(op, p, 6, s, x) << 6 | cmp<T>(op, p, 7, s, x) << 7;
}

// @ts-ignore: decorator
@inline function fillOp<T>(op: i32, sel: usize, vals: usize, n: i32, s: f64, x: f64, inv: u64): void {
  const w = sizeof<T>();
  let j = 0;
  for (; j + 64 <= n; j += 64) {
    let p = vals + <usize>j * w;
    store<u64>(sel + (<usize>j >> 3), inv ^ (
      byte8<T>(op, p, s, x) | byte8<T>(op, p + 8 * w, s, x) << 8 |
      byte8<T>(op, p + 16 * w, s, x) << 16 | byte8<T>(op, p + 24 * w, s, x) << 24 |
      byte8<T>(op, p + 32 * w, s, x) << 32 | byte8<T>(op, p + 40 * w, s, x) << 40 |
      byte8<T>(op, p + 48 * w, s, x) << 48 | byte8<T>(op, p + 56 * w, s, x) << 56));
  }
  // The last blocks of 8 may read up to 7 values past the end: the
  // SDK's arena has 64 bytes of slack, and bits past n are ignored.
  for (; j < n; j += 8) {
    store<u8>(sel + (<usize>j >> 3), <u8>(inv ^ byte8<T>(op, vals + <usize>j * w, s, x)));
  }
}

function fill<T>(op: i32, sel: usize, vals: usize, n: i32, s: f64, x: f64, inv: u64): void {
  if (op == opEQ) fillOp<T>(opEQ, sel, vals, n, s, x, inv);
  else if (op == opGT) fillOp<T>(opGT, sel, vals, n, s, x, inv);
  else fillOp<T>(opGE, sel, vals, n, s, x, inv);
}

// --- string kernels ----------------------------------------------------

// eqWord is 1 when the value from a to b (offsets from data) is the want
// word: one masked 8-byte load (reading past the value stays inside the
// arena's slack) and the length, branch-free.
// @ts-ignore: decorator
@inline function eqWord(data: usize, a: usize, b: usize, wantLen: usize, mask: u64, want: u64): u64 {
  return <u64>(((load<u64>(data + a) & mask) ^ want | <u64>(b - a - wantLen)) == 0);
}

// @ts-ignore: decorator
@inline function off<O>(offs: usize, i: usize): usize {
  return <usize>load<O>(offs + i * sizeof<O>());
}

function strFill<O>(f: Filter, sel: usize, offs: usize, data: usize, n: i32): void {
  let inv = f.inv;
  if (f.by == byWord) {
    let want = f.wantWord, mask = f.wantMask;
    let wl = <usize>f.want.byteLength;
    let j = 0;
    for (; j + 8 <= n; j += 8) {
      let o = offs + <usize>j * sizeof<O>();
      let o0 = off<O>(o, 0), o1 = off<O>(o, 1), o2 = off<O>(o, 2), o3 = off<O>(o, 3), o4 = off<O>(o, 4);
      let o5 = off<O>(o, 5), o6 = off<O>(o, 6), o7 = off<O>(o, 7), o8 = off<O>(o, 8);
      store<u8>(sel + (<usize>j >> 3), <u8>(inv ^ (
        eqWord(data, o0, o1, wl, mask, want) | eqWord(data, o1, o2, wl, mask, want) << 1 |
        eqWord(data, o2, o3, wl, mask, want) << 2 | eqWord(data, o3, o4, wl, mask, want) << 3 |
        eqWord(data, o4, o5, wl, mask, want) << 4 | eqWord(data, o5, o6, wl, mask, want) << 5 |
        eqWord(data, o6, o7, wl, mask, want) << 6 | eqWord(data, o7, o8, wl, mask, want) << 7)));
    }
    if (j < n) {
      let m: u64 = 0;
      for (let r = j; r < n; r++) {
        m |= eqWord(data, off<O>(offs, <usize>r), off<O>(offs, <usize>r + 1), wl, mask, want) << <u64>(r - j);
      }
      store<u8>(sel + (<usize>j >> 3), <u8>(inv ^ m));
    }
    return;
  }
  let set: ArrayBuffer[] = f.by == byBytes ? [f.want] : f.set;
  let k = set.length;
  for (let j = 0; j < n; j += 8) {
    let m: u64 = 0;
    let end = min(8, n - j);
    for (let r = 0; r < end; r++) {
      let a = off<O>(offs, <usize>(j + r)), len = off<O>(offs, <usize>(j + r + 1)) - a;
      let hit: u64 = 0;
      for (let c = 0; c < k; c++) {
        let w = unchecked(set[c]);
        if (<usize>w.byteLength == len && memory.compare(data + a, changetype<usize>(w), len) == 0) { hit = 1; break; }
      }
      m |= hit << <u64>r;
    }
    store<u8>(sel + (<usize>j >> 3), <u8>(inv ^ m));
  }
}
