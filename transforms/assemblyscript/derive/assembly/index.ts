// derive adds a computed column: an int64 column holding round(source ×
// factor), half away from zero; the AssemblyScript twin of
// transforms/derive. The default turns an amount into cents.
//
//   stages:
//     - wasm: transforms/assemblyscript/derive/derive.wasm
//       config: {source: amount, target: amount_cents, factor: 100}
//
// A product that is NaN or outside [-2^63, 2^63) rejects its row; nulls
// stay null.

import {
  Batch, Col, Out, Setup, Stage, formatFloat, read, register, write,
} from "../../../../guest-sdk/assemblyscript/assembly";
export * from "../../../../guest-sdk/assemblyscript/assembly/exports";

// lim is 2^63: rounded values in [-lim, lim) fit in i64.
const lim: f64 = 9223372036854775808.0;

class Derive extends Stage {
  source: string = "";
  factor: f64 = 0;
  src: Col<f64> | null = null;
  dst: Out<i64> | null = null;

  setup(s: Setup): void {
    let c = s.config(["source", "target", "factor"]);
    this.source = c.string("source", "amount");
    let target = c.string("target", "amount_cents");
    this.factor = c.number("factor", 100);
    if (s.failed) return;
    if (target.length == 0) return s.error("config: target must name the new column");
    this.src = read<f64>(s, this.source);
    this.dst = write<i64>(s, target, "int64");
  }

  reject(b: Batch, i: i32, x: f64): void {
    b.reject(i, this.source + ": " + formatFloat(x) + " × " + formatFloat(this.factor) + " does not fit in int64");
  }

  // Rows go 8 per loop iteration with no call and no branch per row
  // (under a stage timeout each iteration costs an exit to the host);
  // nulls are the input's bitmap, copied once. A block holding a value
  // that does not fit is redone row by row.
  process(b: Batch): void {
    let v = this.src!.view(b);
    let dst = this.dst!;
    let out = dst.values(b);
    dst.copyValidity(b, v.validity);
    let vals = v.values, valid = v.validity;
    let f = this.factor;
    let n = b.length;
    let j = 0;
    for (; j + 8 <= n; j += 8) {
      let p = vals + (<usize>j << 3), o = out + (<usize>j << 3);
      let vb: u32 = valid == 0 ? 0xff : <u32>load<u8>(valid + (<usize>j >> 3));
      let bad = put(o, 0, p, f, vb) | put(o, 1, p, f, vb) | put(o, 2, p, f, vb) | put(o, 3, p, f, vb) |
        put(o, 4, p, f, vb) | put(o, 5, p, f, vb) | put(o, 6, p, f, vb) | put(o, 7, p, f, vb);
      if (bad != 0) {
        for (let k = j; k < j + 8; k++) {
          if (put(out, k, vals, f, valid == 0 ? 0xff : <u32>load<u8>(valid + (<usize>k >> 3))) != 0) {
            this.reject(b, k, load<f64>(vals + (<usize>k << 3)));
          }
        }
      }
    }
    for (; j < n; j++) {
      if (put(out, j, vals, f, valid == 0 ? 0xff : <u32>load<u8>(valid + (<usize>j >> 3))) != 0) {
        this.reject(b, j, load<f64>(vals + (<usize>j << 3)));
      }
    }
  }
}

register(new Derive());

// round is Go's math.Round (half away from zero) from single instructions:
// x-t is exact, and for |x| ≥ 2^52, ±Inf and NaN it is 0 or NaN, so t
// (x itself) comes back; -0 and small negatives keep their sign.
// @ts-ignore: decorator
@inline function round(x: f64): f64 {
  let t = trunc<f64>(x);
  return t + copysign<f64>(<f64>(abs<f64>(x - t) >= 0.5), x);
}

// put stores row k's result at out (0 for a null row, as Go's derive
// leaves it, and for a row that does not fit) and returns 1 when the row
// is valid (bit k of validBits) and its value does not fit in i64.
// @ts-ignore: decorator
@inline function put(out: usize, k: i32, vals: usize, f: f64, validBits: u32): u32 {
  let y = round(load<f64>(vals + (<usize>k << 3)) * f);
  let fits = <u32>(y < lim) & <u32>(y >= -lim);
  let valid = (validBits >> <u32>(k & 7)) & 1;
  store<i64>(out + (<usize>k << 3), select<i64>(<i64>y, 0, (fits & valid) != 0));
  return valid & (fits ^ 1);
}
