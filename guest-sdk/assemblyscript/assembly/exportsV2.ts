// The ABI exports of a v2 module (wasmabi/ABI.md, "Version 2"). A v2
// transform (a StageV2, registered with register) re-exports them from
// its entry file instead of ./exports:
//
//   export * from "@dataweaver/guest/assembly/exportsV2";
//
// dw_snapshot and dw_restore are exported by every v2 module; the host
// calls them only when the stage said Setup.keepState.

import { Buf } from "./buffer";
import { batch, errorDescs, inArena, loadBatch } from "./host";
import { beginNested, isNestedSlot, nestedDesc } from "./nested";
import { registered } from "./setup";
import { codeBinary, codeUTF8 } from "./types";
import { StageV2, StateReader, StateWriter } from "./v2";

export { dw_bind, dw_reserve } from "./exports";

export function dw_abi_version(): i32 {
  return 2;
}

// The v2 result header: ten u32 words.
const result = memory.data(40, 8);
const outDesc = new Buf();
const failBuf = new Buf();

function failed(msg: string): usize {
  failBuf.len = 0;
  failBuf.str(msg);
  memory.fill(result, 0, 40);
  store<u32>(result, 1);
  store<u32>(result, <u32>failBuf.ptr, 4);
  store<u32>(result, failBuf.len, 8);
  return result;
}

// stage is the registered stage, or null when it is not a StageV2 (a v1
// Stage cannot emit: its module should re-export ./exports).
function stage(): StageV2 | null {
  let s = registered;
  if (s == null || !(s instanceof StageV2)) return null;
  return changetype<StageV2>(s);
}

const notV2 = "the module re-exports exportsV2 but registered no StageV2 (extend StageV2, or re-export ./exports for a v1 Stage)";

export function dw_process(ptr: usize): usize {
  let err = loadBatch(ptr);
  if (err != null) return failed(err);
  let s = stage();
  if (s == null) return failed(notV2);
  batch.beginV2();
  beginNested();
  s.process(batch);
  return end();
}

// noInput prepares the batch for a call on no input rows.
function noInput(what: string): StageV2 | null {
  if (!batch.bound) {
    failed(what + " before a successful dw_bind");
    return null;
  }
  let s = stage();
  if (s == null) {
    failed(notV2);
    return null;
  }
  batch.n = 0;
  batch.errs.len = 0;
  batch.msgs.len = 0;
  batch.failMsg = null;
  batch.beginV2();
  beginNested();
  return s;
}

export function dw_finish(): usize {
  let s = noInput("dw_finish");
  if (s == null) return result;
  s.finish(batch);
  return end();
}

export function dw_watermark(lo: u32, hi: u32): usize {
  let s = noInput("dw_watermark");
  if (s == null) return result;
  s.watermark(batch, (<i64>hi << 32) | <i64>lo);
  return end();
}

// end writes the v2 result header for what the call emitted and rejected.
function end(): usize {
  let fm = batch.failMsg;
  if (fm != null) return failed(fm);
  let m = batch.emitted;
  let outs = batch.outs;
  outDesc.len = 0;
  outDesc.reserve(32 * <u32>outs.length);
  for (let i = 0; i < outs.length; i++) {
    let c = unchecked(outs[i]);
    let d = outDesc.ptr + outDesc.len;
    outDesc.len += 32;
    store<u32>(d, <u32>i);
    store<u32>(d, <u32>c.code, 4);
    // A nested column's row left open is the mistake to name, before
    // the rows it lacks for it.
    let nested = isNestedSlot(i);
    let err = nested ? nestedDesc(i, c, d) : null;
    if (err != null) return failed(err);
    if (c.rows != m) {
      return failed("output column \"" + c.field.name + "\": " + c.rows.toString() + " values put for " + m.toString() + " rows emitted");
    }
    if (nested) continue;
    let varw = c.code == codeUTF8 || c.code == codeBinary;
    if (c.hasNull) c.validTo((<u32>m + 7) >> 3);
    store<u32>(d, 0, 8);
    store<u32>(d, c.hasNull ? <u32>c.valid.ptr : 0, 12);
    store<u32>(d, varw ? <u32>c.offs.ptr : 0, 16);
    store<u32>(d, c.values.len > 0 ? <u32>c.values.ptr : 0, 20);
    store<u32>(d, c.values.len, 24);
    store<u32>(d, 0, 28);
  }
  let nerr = batch.errs.len / 12;
  memory.fill(result, 0, 40);
  store<u32>(result, <u32>m, 12);
  store<u32>(result, batch.anyOrigin && m > 0 ? <u32>batch.origins.ptr : 0, 16);
  store<u32>(result, <u32>outs.length, 20);
  store<u32>(result, outs.length > 0 ? <u32>outDesc.ptr : 0, 24);
  store<u32>(result, nerr, 28);
  store<u32>(result, nerr > 0 ? errorDescs() : 0, 32);
  return result;
}

const writer = new StateWriter();
const snapHeader = memory.data(8, 4);

export function dw_snapshot(): usize {
  writer.buf.len = 0;
  let s = stage();
  if (s != null) s.snapshot(writer);
  store<u32>(snapHeader, writer.buf.len > 0 ? <u32>writer.buf.ptr : 0);
  store<u32>(snapHeader, writer.buf.len, 4);
  return snapHeader;
}

const reader = new StateReader();
const refusal = new Buf();

export function dw_restore(ptr: usize, len: u32): usize {
  let msg: string | null = null;
  let s = stage();
  if (s == null) msg = notV2;
  else if (len > 0 && !inArena(ptr, <usize>len)) msg = "the state is outside the reserved region";
  else {
    reader.p = ptr;
    reader.end = ptr + <usize>len;
    reader.short = false;
    msg = s.restore(reader);
  }
  if (msg == null) return 0;
  refusal.len = 0;
  refusal.u32(0);
  refusal.str(msg);
  store<u32>(refusal.ptr, refusal.len - 4);
  return refusal.ptr;
}
