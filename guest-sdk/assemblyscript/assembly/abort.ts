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

// The handler may be compiled before this file's top-level code (the
// standard library refers to abort first), so it uses no module globals:
// only literals and its own static buffer, passed down as end.
function put(p: usize, c: u32, end: usize): usize {
  if (p < end) store<u8>(p, <u8>c);
  return p + 1;
}

function putStr(p: usize, s: string | null, end: usize): usize {
  if (s == null) return put(put(put(put(p, 0x6e, end), 0x75, end), 0x6c, end), 0x6c, end);
  let q = changetype<usize>(s);
  let n = <usize>s.length;
  for (let i: usize = 0; i < n; i++) {
    let c = <u32>load<u16>(q + (i << 1));
    if (c < 0x80) p = put(p, c, end);
    else if (c < 0x800) {
      p = put(p, 0xc0 | (c >> 6), end);
      p = put(p, 0x80 | (c & 0x3f), end);
    } else {
      if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
      p = put(p, 0xe0 | (c >> 12), end);
      p = put(p, 0x80 | ((c >> 6) & 0x3f), end);
      p = put(p, 0x80 | (c & 0x3f), end);
    }
  }
  return p;
}

function putNum(p: usize, v: u32, end: usize): usize {
  let d: u32 = 1;
  while (v / d >= 10) d *= 10;
  for (; d > 0; d /= 10) p = put(p, 48 + (v / d) % 10, end);
  return p;
}

export function dwAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let buf = memory.data(1024 + 16);
  let end = buf + 1024;
  let p = putStr(buf, "abort: ", end);
  p = putStr(p, message, end);
  p = putStr(p, " at ", end);
  p = putStr(p, fileName, end);
  p = put(p, 0x3a, end);
  p = putNum(p, line, end);
  p = put(p, 0x3a, end);
  p = putNum(p, column, end);
  let n = p >= end ? end - 1 - buf : p - buf;
  logBytes(LevelError, buf, <u32>n);
  store<u8>(buf + n, 0x0a);
  // One iovec after the text: {ptr, len}, and room for nwritten.
  store<u32>(end, <u32>buf);
  store<u32>(end, <u32>n + 1, 4);
  fdWrite(2, end, 1, end + 8);
  unreachable();
}
