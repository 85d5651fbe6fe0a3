// mask masks PII in string columns; the AssemblyScript twin of
// transforms/mask. An email keeps the first character of its local part
// and its domain ("alice@example.com" → "a***@example.com"); any other
// value keeps its first character ("Alice" → "A***"); "" becomes "***";
// nulls stay null.
//
//   stages:
//     - wasm: transforms/assemblyscript/mask/mask.wasm
//       config: {columns: [email]}

import {
  Batch, OutStr, Setup, Stage, StrCol, readString, register, runeLen, writeString,
} from "../../../../guest-sdk/assemblyscript/assembly";
export * from "../../../../guest-sdk/assemblyscript/assembly/exports";

const stars: u32 = 0x2a2a2a00; // "\0***" little-endian: byte 0 is the head

class Mask extends Stage {
  ins: StrCol[] = [];
  outs: OutStr[] = [];

  setup(s: Setup): void {
    let c = s.config(["columns"]);
    let cols = c.strings("columns");
    if (s.failed) return;
    if (cols == null || cols.length == 0) return s.error("config: columns: name at least one string column to mask");
    for (let i = 0; i < cols.length; i++) {
      this.ins.push(readString(s, cols[i]));
      this.outs.push(writeString(s, cols[i]));
    }
  }

  process(b: Batch): void {
    for (let c = 0; c < this.ins.length; c++) {
      let v = this.ins[c].view(b);
      let w = this.outs[c].builder(b);
      let n = b.length;
      let offs = v.offsets, data = v.data, valid = v.validity;
      let large = v.large;
      // Output is at most 4+len bytes per row; the fast path scribbles up
      // to 36 bytes past its row.
      let total = v.start(n) - v.start(0);
      let vals = w.values;
      vals.reserve(<u32>(<usize>n * 4 + total + 64));
      for (let i = 0; i < n; i++) {
        if (valid != 0 && ((load<u8>(valid + (<usize>i >> 3)) >> <u8>(i & 7)) & 1) == 0) {
          w.appendNull();
          continue;
        }
        let o0: usize, o1: usize;
        if (large) {
          o0 = <usize>load<u64>(offs + (<usize>i << 3));
          o1 = <usize>load<u64>(offs + (<usize>i << 3), 8);
        } else {
          o0 = <usize>load<u32>(offs + (<usize>i << 2));
          o1 = <usize>load<u32>(offs + (<usize>i << 2), 4);
        }
        let dst = vals.ptr + vals.len;
        let len = o1 - o0;
        let b0 = <u32>load<u8>(data + o0);
        if (len - 1 < 32 && b0 < 0x80) {
          // 1-32 bytes starting with an ASCII byte (almost every email):
          // the last '@' from four 8-byte loads ending at the value's end
          // (they may start before it and end past the whole column: the
          // arena has 64 bytes of slack), the output as one 4-byte store
          // and four 8-byte copies of the tail.
          let p = data + o1;
          let from = atIn(p - 32, data + o0, p);
          from = atIn(p - 24, data + o0, from);
          from = atIn(p - 16, data + o0, from);
          from = atIn(p - 8, data + o0, from);
          store<u32>(dst, stars | b0);
          store<u64>(dst, load<u64>(from), 4);
          store<u64>(dst, load<u64>(from, 8), 12);
          store<u64>(dst, load<u64>(from, 16), 20);
          store<u64>(dst, load<u64>(from, 24), 28);
          vals.len += <u32>(p - from) + 4;
        } else {
          vals.len += <u32>(maskSlow(data + o0, len, dst) - dst);
        }
        w.endRow();
      }
    }
  }
}

register(new Mask());

const low7: u64 = 0x7f7f7f7f7f7f7f7f;
const ats: u64 = 0x4040404040404040;

// atIn returns the address of the last '@' in the 8 bytes at p if it lies
// after start (index 1 or more of the value starting there), else pos.
// @ts-ignore: decorator
@inline function atIn(p: usize, start: usize, pos: usize): usize {
  let x = load<u64>(p) ^ ats;
  // High bit set in each byte of x that is zero (exact: no borrow between
  // bytes), i.e. each '@'.
  let z = ~(((x & low7) + low7) | x | low7);
  let h = <usize>(64 - clz<u64>(z)); // 8*(index of the last '@')+8, or 0
  let cand = p + (h >> 3) - 1;
  return select<usize>(cand, pos, h != 0 && cand > start);
}

// maskSlow writes the masked form of the len bytes at p to dst and
// returns the end: Go's split(): the first character (a whole UTF-8
// sequence, one byte when invalid), "***", and from the last '@' on when
// that '@' is at index 1 or more.
function maskSlow(p: usize, len: usize, dst: usize): usize {
  if (len == 0) {
    store<u8>(dst, 0x2a);
    store<u16>(dst, 0x2a2a, 1);
    return dst + 3;
  }
  let head = <usize>runeLen(p, len);
  let at: isize = -1;
  for (let i = <isize>len - 1; i > 0; i--) {
    if (load<u8>(p + <usize>i) == 0x40) { at = i; break; }
  }
  let tail: usize = 0;
  if (at > 0) {
    if (<usize>at < head) head = <usize>at;
    tail = len - <usize>at;
  }
  memory.copy(dst, p, head);
  dst += head;
  store<u8>(dst, 0x2a);
  store<u16>(dst, 0x2a2a, 1);
  dst += 3;
  memory.copy(dst, p + len - tail, tail);
  return dst + tail;
}
