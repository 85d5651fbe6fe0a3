// A small JSON reader and writer for the bind handshake (a cold path, once
// per instance). It follows Go's encoding/json where the two could differ,
// because a stage's configuration must mean the same in every language:
// invalid UTF-8 in a string and unpaired \u surrogates become U+FFFD, and
// object keys are kept in order with duplicates (see Config for lookup).

import { Buf, runeLen } from "./buffer";

export const enum Kind {
  Null = 0,
  Bool = 1,
  Number = 2,
  String = 3,
  Array = 4,
  Object = 5,
}

/** One parsed JSON value. Strings are kept as UTF-8 bytes. */
@final
export class JSONValue {
  kind: Kind = Kind.Null;
  bool: bool = false;
  num: f64 = 0;
  /** String: the decoded UTF-8 bytes. */
  bytes: ArrayBuffer | null = null;
  /** Array: the elements; Object: the member values, in order. */
  items: JSONValue[] | null = null;
  /** Object: the member keys (UTF-8), parallel to items. */
  keys: ArrayBuffer[] | null = null;

  /** The string value as an AssemblyScript string ("" if not a string). */
  toString(): string {
    let b = this.bytes;
    return b == null ? "" : String.UTF8.decode(b);
  }

  /** A short name of the value's type, for messages. */
  typeName(): string {
    switch (this.kind) {
      case Kind.Bool: return "a boolean";
      case Kind.Number: return "a number";
      case Kind.String: return "a string";
      case Kind.Array: return "a list";
      case Kind.Object: return "an object";
    }
    return "null";
  }
}

/** Bytes equal: a and b hold the same bytes. */
export function bytesEqual(a: ArrayBuffer, b: ArrayBuffer): bool {
  let n = a.byteLength;
  return n == b.byteLength && memory.compare(changetype<usize>(a), changetype<usize>(b), n) == 0;
}

const maxDepth = 64;

/** Parser reads one JSON document from memory. */
export class Parser {
  error: string = "";
  private p: usize;
  private end: usize;
  private scratch: Buf = new Buf();

  constructor(ptr: usize, len: usize) {
    this.p = ptr;
    this.end = ptr + len;
  }

  /** Parses the whole input; on failure returns null and sets error. */
  parse(): JSONValue | null {
    let v = this.value(0);
    if (v != null) {
      this.ws();
      if (this.p != this.end) v = this.fail("data after the JSON value");
    }
    this.scratch.free();
    return v;
  }

  private fail(msg: string): JSONValue | null {
    if (this.error.length == 0) this.error = "invalid JSON: " + msg;
    return null;
  }

  private ws(): void {
    while (this.p < this.end) {
      let c = load<u8>(this.p);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.p++;
    }
  }

  private lit(word: string, v: JSONValue): JSONValue | null {
    let n = <usize>word.length;
    if (this.end - this.p < n) return this.fail("truncated literal");
    for (let i: usize = 0; i < n; i++) {
      if (<u32>load<u8>(this.p + i) != <u32>word.charCodeAt(<i32>i)) return this.fail("unknown literal");
    }
    this.p += n;
    return v;
  }

  private value(depth: i32): JSONValue | null {
    if (depth > maxDepth) return this.fail("nested too deeply");
    this.ws();
    if (this.p >= this.end) return this.fail("unexpected end of input");
    let c = load<u8>(this.p);
    let v = new JSONValue();
    switch (c) {
      case 0x6e: return this.lit("null", v);
      case 0x74: v.kind = Kind.Bool; v.bool = true; return this.lit("true", v);
      case 0x66: v.kind = Kind.Bool; return this.lit("false", v);
      case 0x22: {
        v.kind = Kind.String;
        let b = this.string();
        if (b == null) return null;
        v.bytes = b;
        return v;
      }
      case 0x5b: {
        this.p++;
        v.kind = Kind.Array;
        let items = new Array<JSONValue>();
        v.items = items;
        this.ws();
        if (this.p < this.end && load<u8>(this.p) == 0x5d) { this.p++; return v; }
        while (true) {
          let e = this.value(depth + 1);
          if (e == null) return null;
          items.push(e);
          this.ws();
          if (this.p >= this.end) return this.fail("unterminated list");
          let d = load<u8>(this.p++);
          if (d == 0x5d) return v;
          if (d != 0x2c) return this.fail("expected , or ] in a list");
        }
      }
      case 0x7b: {
        this.p++;
        v.kind = Kind.Object;
        let keys = new Array<ArrayBuffer>();
        let items = new Array<JSONValue>();
        v.keys = keys;
        v.items = items;
        this.ws();
        if (this.p < this.end && load<u8>(this.p) == 0x7d) { this.p++; return v; }
        while (true) {
          this.ws();
          if (this.p >= this.end || load<u8>(this.p) != 0x22) return this.fail("expected a string key");
          let k = this.string();
          if (k == null) return null;
          this.ws();
          if (this.p >= this.end || load<u8>(this.p) != 0x3a) return this.fail("expected : after a key");
          this.p++;
          let e = this.value(depth + 1);
          if (e == null) return null;
          keys.push(k);
          items.push(e);
          this.ws();
          if (this.p >= this.end) return this.fail("unterminated object");
          let d = load<u8>(this.p++);
          if (d == 0x7d) return v;
          if (d != 0x2c) return this.fail("expected , or } in an object");
        }
      }
    }
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) {
      v.kind = Kind.Number;
      return this.number(v);
    }
    return this.fail("unexpected character");
  }

  private digits(): usize {
    let s = this.p;
    while (this.p < this.end && <u32>(load<u8>(this.p) - 0x30) < 10) this.p++;
    return this.p - s;
  }

  // number checks the JSON grammar, then converts the text with the
  // standard library (a cold path; Go rejects values that overflow float64,
  // and so do we).
  private number(v: JSONValue): JSONValue | null {
    let start = this.p;
    if (load<u8>(this.p) == 0x2d) this.p++;
    if (this.p >= this.end) return this.fail("bad number");
    if (load<u8>(this.p) == 0x30) this.p++;
    else if (this.digits() == 0) return this.fail("bad number");
    if (this.p < this.end && load<u8>(this.p) == 0x2e) {
      this.p++;
      if (this.digits() == 0) return this.fail("bad number");
    }
    if (this.p < this.end && (load<u8>(this.p) | 0x20) == 0x65) {
      this.p++;
      if (this.p < this.end && (load<u8>(this.p) == 0x2b || load<u8>(this.p) == 0x2d)) this.p++;
      if (this.digits() == 0) return this.fail("bad number");
    }
    let text = String.UTF8.decodeUnsafe(start, this.p - start);
    let x = parseFloat(text);
    if (!isFinite(x)) return this.fail("number " + text + " is out of range");
    v.num = x;
    return v;
  }

  private hex4(): i32 {
    if (this.end - this.p < 4) return -1;
    let r = 0;
    for (let i = 0; i < 4; i++) {
      let c = <i32>load<u8>(this.p + <usize>i);
      let d: i32;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) d = (c | 0x20) - 0x61 + 10;
      else return -1;
      r = (r << 4) | d;
    }
    this.p += 4;
    return r;
  }

  private rune(r: u32): void {
    let b = this.scratch;
    if (r < 0x80) b.byte(<u8>r);
    else if (r < 0x800) {
      b.byte(<u8>(0xc0 | (r >> 6)));
      b.byte(<u8>(0x80 | (r & 0x3f)));
    } else if (r < 0x10000) {
      b.byte(<u8>(0xe0 | (r >> 12)));
      b.byte(<u8>(0x80 | ((r >> 6) & 0x3f)));
      b.byte(<u8>(0x80 | (r & 0x3f)));
    } else {
      b.byte(<u8>(0xf0 | (r >> 18)));
      b.byte(<u8>(0x80 | ((r >> 12) & 0x3f)));
      b.byte(<u8>(0x80 | ((r >> 6) & 0x3f)));
      b.byte(<u8>(0x80 | (r & 0x3f)));
    }
  }

  // string decodes a quoted string at p into UTF-8 bytes.
  private string(): ArrayBuffer | null {
    this.p++; // opening quote
    let b = this.scratch;
    b.len = 0;
    while (true) {
      if (this.p >= this.end) { this.fail("unterminated string"); return null; }
      let c = <u32>load<u8>(this.p);
      if (c == 0x22) { this.p++; break; }
      if (c < 0x20) { this.fail("control character in a string"); return null; }
      if (c == 0x5c) {
        this.p++;
        if (this.p >= this.end) { this.fail("unterminated string"); return null; }
        let e = <u32>load<u8>(this.p++);
        switch (e) {
          case 0x22: case 0x5c: case 0x2f: b.byte(<u8>e); break;
          case 0x62: b.byte(0x08); break;
          case 0x66: b.byte(0x0c); break;
          case 0x6e: b.byte(0x0a); break;
          case 0x72: b.byte(0x0d); break;
          case 0x74: b.byte(0x09); break;
          case 0x75: {
            let r = this.hex4();
            if (r < 0) { this.fail("bad \\u escape"); return null; }
            if (r >= 0xd800 && r < 0xe000) {
              // A pair needs a high then a low surrogate; anything else is
              // U+FFFD and the second escape is read on its own (Go's rule).
              let save = this.p;
              let lo = -1;
              if (r < 0xdc00 && this.end - this.p >= 6 && load<u8>(this.p) == 0x5c && load<u8>(this.p, 1) == 0x75) {
                this.p += 2;
                lo = this.hex4();
              }
              if (lo >= 0xdc00 && lo < 0xe000) {
                this.rune(0x10000 + ((<u32>r - 0xd800) << 10) + (<u32>lo - 0xdc00));
              } else {
                this.p = save;
                this.rune(0xfffd);
              }
            } else this.rune(<u32>r);
            break;
          }
          default: this.fail("bad escape"); return null;
        }
        continue;
      }
      if (c < 0x80) { b.byte(<u8>c); this.p++; continue; }
      let w = runeLen(this.p, this.end - this.p);
      if (w == 1) { this.rune(0xfffd); this.p++; continue; }
      b.bytes(this.p, w);
      this.p += w;
    }
    let out = new ArrayBuffer(b.len);
    memory.copy(changetype<usize>(out), b.ptr, b.len);
    return out;
  }
}

/** Parses JSON text at ptr..ptr+len. */
export function parseJSON(ptr: usize, len: usize, err: Buf): JSONValue | null {
  let p = new Parser(ptr, len);
  let v = p.parse();
  if (v == null) err.str(p.error);
  return v;
}

/** Appends s as a JSON string (quoted, escaped) to b. */
export function writeJSONString(b: Buf, s: string): void {
  let start = b.len;
  b.byte(0x22);
  b.str(s);
  // Escape in place only when needed: names and messages rarely hold
  // quotes or control characters.
  let end = b.len;
  let needs = false;
  for (let i = start + 1; i < end; i++) {
    let c = load<u8>(b.ptr + i);
    if (c < 0x20 || c == 0x22 || c == 0x5c) { needs = true; break; }
  }
  if (needs) {
    let raw = new Buf();
    raw.bytes(b.ptr + start + 1, end - start - 1);
    b.len = start + 1;
    for (let i: u32 = 0; i < raw.len; i++) {
      let c = load<u8>(raw.ptr + i);
      if (c == 0x22 || c == 0x5c) { b.byte(0x5c); b.byte(c); }
      else if (c < 0x20) {
        b.str("\\u00");
        b.byte(<u8>(0x30 + (c >> 4)));
        let d = c & 15;
        b.byte(<u8>(d < 10 ? 0x30 + d : 0x61 + d - 10));
      } else b.byte(c);
    }
    raw.free();
  }
  b.byte(0x22);
}
