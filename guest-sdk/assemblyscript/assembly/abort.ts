// The handler for AssemblyScript's abort() (failed assertions, bounds
// checks, `throw`). By default the compiler imports env.abort, which the
// DataWeaver host does not provide; a transform's asconfig.json redirects
// it here with "use": ["abort=…/abort/dwAbort"].
//
// It writes the message to stderr, which the host appends to the trap's
// error, and to the host log, then traps. It allocates nothing: it may run
// because memory ran out.

import { logBytes, LevelError } from "./log";

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "fd_write")
declare function fdWrite(fd: i32, iovs: usize, niovs: i32, nwritten: usize): i32;

const cap: usize = 1024;
const buf = memory.data(<i32>cap + 16);

function put(p: usize, c: u32): usize {
  if (p < buf + cap) store<u8>(p, <u8>c);
  return p + 1;
}

function putStr(p: usize, s: string | null): usize {
  if (s == null) return put(put(put(put(p, 0x6e), 0x75), 0x6c), 0x6c);
  let q = changetype<usize>(s);
  let n = <usize>s.length;
  for (let i: usize = 0; i < n; i++) {
    let c = <u32>load<u16>(q + (i << 1));
    if (c < 0x80) p = put(p, c);
    else if (c < 0x800) {
      p = put(p, 0xc0 | (c >> 6));
      p = put(p, 0x80 | (c & 0x3f));
    } else {
      if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
      p = put(p, 0xe0 | (c >> 12));
      p = put(p, 0x80 | ((c >> 6) & 0x3f));
      p = put(p, 0x80 | (c & 0x3f));
    }
  }
  return p;
}

function putNum(p: usize, v: u32): usize {
  let d: u32 = 1;
  while (v / d >= 10) d *= 10;
  for (; d > 0; d /= 10) p = put(p, 48 + (v / d) % 10);
  return p;
}

export function dwAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let p = putStr(buf, "abort: ");
  p = putStr(p, message);
  p = putStr(p, " at ");
  p = putStr(p, fileName);
  p = put(p, 0x3a);
  p = putNum(p, line);
  p = put(p, 0x3a);
  p = putNum(p, column);
  let n = p >= buf + cap ? cap - 1 : p - buf;
  logBytes(LevelError, buf, <u32>n);
  store<u8>(buf + n, 0x0a);
  // One iovec after the text: {ptr, len}, and room for nwritten.
  let iov = buf + cap;
  store<u32>(iov, <u32>buf);
  store<u32>(iov, <u32>n + 1, 4);
  fdWrite(2, iov, 1, iov + 8);
  unreachable();
}
