// What the ABI exports of both versions share (exports.ts, exportsV2.ts):
// the reserved region the host writes into, the one Batch object, and
// the reading of a batch header and writing of row errors.

import { Batch, InCol } from "./batch";
import { Buf } from "./buffer";
import { codeBinary, codeLargeBinary, codeLargeUTF8, codeList, codeMap, codeStruct, codeUTF8 } from "./types";

/** @internal The one batch object, reused by every call. */
export const batch = new Batch();

// The arena is the region the host writes requests and batches into. It
// is unmanaged memory (heap.alloc), which the collector neither moves nor
// frees, and it has 64 bytes of slack on each side so kernels may load a
// whole word (up to 64 bytes) past either end of any buffer in it.
const slack: usize = 64;
let arenaAlloc: usize = 0;
let arenaBase: usize = 0;
let arenaLen: usize = 0;

/** @internal reserve is dw_reserve: it makes the region size bytes. */
export function reserve(size: i32): usize {
  if (size < 0) return 0;
  if (arenaAlloc != 0) heap.free(arenaAlloc);
  // 64 to align, slack before and after.
  arenaAlloc = heap.alloc(<usize>size + 64 + 2 * slack);
  arenaBase = (arenaAlloc + slack + 63) & ~<usize>63;
  arenaLen = <usize>size;
  memory.fill(arenaBase - slack, 0, <usize>size + 2 * slack);
  return arenaBase;
}

// inArena reports whether p..p+n lies inside the reserved region.
/** @internal */
export function inArena(p: usize, n: usize): bool {
  return p != 0 && p >= arenaBase && n <= arenaLen && p - arenaBase <= arenaLen - n;
}

/** @internal loadBatch points the batch's input columns at the batch
 * header at ptr, checking it lies in the reserved region, and clears the
 * rejects and failure of the previous call. */
export function loadBatch(ptr: usize): string | null {
  if (!batch.bound || !inArena(ptr, 16)) return "dw_process before dw_bind, or batch header outside the reserved region";
  let n = load<u32>(ptr);
  let ncols = load<u32>(ptr, 4);
  let ins = batch.ins;
  if (ncols != <u32>ins.length) return "host sent " + ncols.toString() + " columns, the stage reads " + ins.length.toString();
  if (n > 0x7fff_fff0) return "batch of " + n.toString() + " rows";
  if (ncols > 0 && !inArena(ptr + 16, 32 * <usize>ncols)) return "column descriptors outside the reserved region";
  batch.n = <i32>n;
  for (let i = 0; i < ins.length; i++) {
    let err = loadCol(unchecked(ins[i]), ptr + 16 + 32 * <usize>i, n, false);
    if (err != null) return "column " + i.toString() + ": " + err;
  }
  batch.errs.len = 0;
  batch.msgs.len = 0;
  batch.failMsg = null;
  return null;
}

// loadCol points c at the column descriptor at d, of n rows, checking
// that what the SDK will read lies in the reserved region. A list's items
// are a column of their own (its one child descriptor, ABI v2 "Nested
// types"), of offsets[n]-offsets[0] rows; readList allows only items of
// v1 types, so nested is never a list.
function loadCol(c: InCol, d: usize, n: u32, nested: bool): string | null {
  let code = <i32>load<u8>(d, 4);
  c.valid = load<u32>(d, 12);
  c.offsets = load<u32>(d, 16);
  c.values = load<u32>(d, 20);
  c.valuesLen = load<u32>(d, 24);
  c.rows = <i32>n;
  c.large = code == codeLargeUTF8 || code == codeLargeBinary;
  if (c.valid != 0 && !inArena(c.valid, (<usize>n + 7) >> 3)) return "validity outside the reserved region";
  if (code == codeList) {
    if (nested) return "a list inside a list (readList reads lists of v1 types)";
    if (!inArena(c.offsets, (<usize>n + 1) << 2)) return "list offsets outside the reserved region";
    if (c.valuesLen != 1 || !inArena(c.values, 32)) return "list child descriptor outside the reserved region";
    let lo = load<i32>(c.offsets), hi = load<i32>(c.offsets + (<usize>n << 2));
    if (lo < 0 || hi < lo) return "list offsets " + lo.toString() + ".." + hi.toString();
    let kid = c.kid;
    if (kid == null) {
      kid = new InCol();
      c.kid = kid;
    }
    let err = loadCol(kid, c.values, <u32>(hi - lo), true);
    return err == null ? null : "items: " + err;
  }
  if (code == codeStruct || code == codeMap) return "a struct or map (this SDK reads lists of v1 types only)";
  let varw = code == codeUTF8 || code == codeBinary || c.large;
  if (varw && !inArena(c.offsets, (<usize>n + 1) << (c.large ? 3 : 2))) return "offsets outside the reserved region";
  if (c.valuesLen > 0 && !inArena(c.values, c.valuesLen)) return "values outside the reserved region";
  if (c.valuesLen == 0) c.values = arenaBase;
  return null;
}

const errDesc = new Buf();

/** @internal errorDescs lays the batch's rejects out as the ABI's
 * {row, msg_ptr, msg_len} triples and returns where they are. */
export function errorDescs(): u32 {
  let errs = batch.errs;
  errDesc.len = 0;
  let msgs = batch.msgs.ptr;
  for (let i: u32 = 0; i < errs.len; i += 12) {
    errDesc.u32(load<u32>(errs.ptr + i));
    errDesc.u32(<u32>msgs + load<u32>(errs.ptr + i, 4));
    errDesc.u32(load<u32>(errs.ptr + i, 8));
  }
  return <u32>errDesc.ptr;
}
