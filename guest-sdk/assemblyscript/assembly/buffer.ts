// Buf is a growable byte buffer in unmanaged memory (heap.alloc): the
// collector never sees it, so nothing on the hot path allocates a managed
// object, and its address is stable until it grows.

@final
export class Buf {
  ptr: usize = 0;
  len: u32 = 0;
  cap: u32 = 0;

  /** Makes room for `extra` more bytes after len (the pointer may move). */
  @inline reserve(extra: u32): void {
    if (this.cap - this.len < extra) this.grow(extra);
  }

  // Out of line: the growth path is cold and keeps reserve() small enough
  // to inline into loops.
  private grow(extra: u32): void {
    let want = <u64>this.len + <u64>extra;
    let c = <u64>this.cap + (<u64>this.cap >> 1);
    if (c < want) c = want;
    if (c < 64) c = 64;
    if (c > 0xffff_0000) {
      if (want > 0xffff_0000) unreachable();
      c = want;
    }
    this.ptr = this.ptr == 0 ? heap.alloc(<usize>c) : heap.realloc(this.ptr, <usize>c);
    this.cap = <u32>c;
  }

  /** Sets len to n, growing as needed; new bytes are not cleared. */
  @inline resize(n: u32): void {
    if (n > this.cap) this.grow(n - this.len);
    this.len = n;
  }

  /** Sets len to n bytes, all zero. */
  zeroed(n: u32): void {
    this.len = 0;
    this.resize(n);
    memory.fill(this.ptr, 0, n);
  }

  @inline byte(b: u8): void {
    this.reserve(1);
    store<u8>(this.ptr + this.len, b);
    this.len++;
  }

  bytes(p: usize, n: u32): void {
    this.reserve(n);
    memory.copy(this.ptr + this.len, p, n);
    this.len += n;
  }

  @inline u32(v: u32): void {
    this.reserve(4);
    store<u32>(this.ptr + this.len, v);
    this.len += 4;
  }

  /** Appends s as UTF-8 (a lone surrogate becomes U+FFFD). */
  str(s: string): void {
    let p = changetype<usize>(s);
    let n = <u32>s.length;
    this.reserve(n * 3);
    let out = this.ptr + this.len;
    for (let i: u32 = 0; i < n; i++) {
      let c = <u32>load<u16>(p + (<usize>i << 1));
      if (c < 0x80) {
        store<u8>(out++, <u8>c);
      } else if (c < 0x800) {
        store<u8>(out++, <u8>(0xc0 | (c >> 6)));
        store<u8>(out++, <u8>(0x80 | (c & 0x3f)));
      } else {
        if (c >= 0xd800 && c < 0xe000) {
          let d: u32 = i + 1 < n ? <u32>load<u16>(p + (<usize>(i + 1) << 1)) : 0;
          if (c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
            let r = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
            store<u8>(out++, <u8>(0xf0 | (r >> 18)));
            store<u8>(out++, <u8>(0x80 | ((r >> 12) & 0x3f)));
            store<u8>(out++, <u8>(0x80 | ((r >> 6) & 0x3f)));
            store<u8>(out++, <u8>(0x80 | (r & 0x3f)));
            i++;
            continue;
          }
          c = 0xfffd;
        }
        store<u8>(out++, <u8>(0xe0 | (c >> 12)));
        store<u8>(out++, <u8>(0x80 | ((c >> 6) & 0x3f)));
        store<u8>(out++, <u8>(0x80 | (c & 0x3f)));
      }
    }
    this.len = <u32>(out - this.ptr);
  }

  /** Appends the decimal digits of v. */
  uint(v: u64): void {
    let tmp = memory.data(24);
    let i = 24;
    do {
      store<u8>(tmp + --i, <u8>(48 + v % 10));
      v /= 10;
    } while (v != 0);
    this.bytes(tmp + i, 24 - i);
  }

  /** Returns the content as a string (allocates: cold paths only). */
  toString(): string {
    return String.UTF8.decodeUnsafe(this.ptr, this.len);
  }

  free(): void {
    if (this.ptr != 0) heap.free(this.ptr);
    this.ptr = 0;
    this.len = 0;
    this.cap = 0;
  }
}

/** runeLen is the byte length of the UTF-8 sequence at p (n bytes left),
 * exactly as Go's utf8.DecodeRune counts it: 1 for an ASCII byte and for
 * any invalid or truncated sequence. */
export function runeLen(p: usize, n: usize): i32 {
  let b0 = <u32>load<u8>(p);
  if (b0 < 0x80) return 1;
  let lo: u32 = 0x80, hi: u32 = 0xbf, w = 1;
  if (b0 >= 0xc2 && b0 <= 0xdf) w = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    w = 3;
    if (b0 == 0xe0) lo = 0xa0;
    else if (b0 == 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    w = 4;
    if (b0 == 0xf0) lo = 0x90;
    else if (b0 == 0xf4) hi = 0x8f;
  } else return 1;
  if (n < <usize>w) return 1;
  let b1 = <u32>load<u8>(p, 1);
  if (b1 < lo || b1 > hi) return 1;
  if (w >= 3 && (load<u8>(p, 2) & 0xc0) != 0x80) return 1;
  if (w == 4 && (load<u8>(p, 3) & 0xc0) != 0x80) return 1;
  return w;
}
