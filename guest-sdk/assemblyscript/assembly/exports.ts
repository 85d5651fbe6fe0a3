// The module's ABI exports (wasmabi/ABI.md). A transform's entry file
// re-exports them:
//
//   export * from "@dataweaver/guest/assembly/exports";

import "./abort";
import { Batch, InCol, OutCol } from "./batch";
import { Buf } from "./buffer";
import { Kind, parseJSON, writeJSONString } from "./json";
import { Field, Setup, Stage, registered } from "./setup";
import { codeBinary, codeLargeBinary, codeLargeUTF8, codeUTF8, typeCode } from "./types";

let bound: bool = false;
const batch = new Batch();

export function dw_abi_version(): i32 {
  return 1;
}

// The arena is the region the host writes requests and batches into. It
// is unmanaged memory (heap.alloc), which the collector neither moves nor
// frees, and it has 64 bytes of slack on each side so kernels may load a
// whole word (up to 64 bytes) past either end of any buffer in it.
const slack: usize = 64;
let arenaAlloc: usize = 0;
let arenaBase: usize = 0;
let arenaLen: usize = 0;

export function dw_reserve(size: i32): usize {
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
function inArena(p: usize, n: usize): bool {
  return p != 0 && p >= arenaBase && n <= arenaLen && p - arenaBase <= arenaLen - n;
}

const resp = new Buf();

export function dw_bind(ptr: usize, len: i32): usize {
  resp.len = 0;
  resp.u32(0);
  bind(ptr, <usize>len);
  store<u32>(resp.ptr, resp.len - 4);
  // The parse tree and the strings built on the way are garbage: free
  // them now rather than let them ride along in every instance.
  __collect();
  return resp.ptr;
}

function fail(msg: string): void {
  resp.str('{"reads":[],"writes":[],"drops":[],"filter":false,"error":');
  writeJSONString(resp, msg);
  resp.byte(0x7d);
}

function bind(ptr: usize, len: usize): void {
  if (!inArena(ptr, len)) return fail("bind request outside the reserved region");
  let errb = new Buf();
  let req = parseJSON(ptr, len, errb);
  if (req == null || req.kind != Kind.Object) {
    let m = "bind request: " + (req == null ? errb.toString() : "not an object");
    errb.free();
    return fail(m);
  }
  errb.free();
  let stage = registered;
  if (stage == null) return fail("the module registered no stage (call register(new MyStage()) at the top level)");

  let s = new Setup();
  let keys = req.keys!, items = req.items!;
  for (let i = 0; i < keys.length; i++) {
    let k = String.UTF8.decode(keys[i]);
    let v = items[i];
    if (k == "stage") s.stageName = v.toString();
    else if (k == "config") s.configValue = v;
    else if (k == "schema" && v.kind == Kind.Array) {
      let fs = v.items!;
      for (let j = 0; j < fs.length; j++) {
        let f = fs[j];
        if (f.kind != Kind.Object) return fail("bind request: schema entry is not an object");
        let fk = f.keys!, fv = f.items!;
        let name = "", typ = "", nullable = false;
        for (let m = 0; m < fk.length; m++) {
          let key = String.UTF8.decode(fk[m]);
          if (key == "name") name = fv[m].toString();
          else if (key == "type") typ = fv[m].toString();
          else if (key == "nullable") nullable = fv[m].bool;
        }
        s.schema.push(new Field(name, typ, nullable));
      }
    }
  }

  stage.setup(s);
  if (s.failed) return fail(s.err());

  let outs = new Array<OutCol>(s.writes.length);
  for (let i = 0; i < s.writes.length; i++) {
    let w = s.writes[i];
    let code = typeCode(w.type);
    if (code == 0) return fail("column \"" + w.name + "\": type \"" + w.type + "\" is not in ABI v1");
    outs[i] = new OutCol(w, code);
  }
  let ins = new Array<InCol>(s.reads.length);
  for (let i = 0; i < ins.length; i++) ins[i] = new InCol();
  batch.outs = outs;
  batch.ins = ins;
  bound = true;

  resp.str('{"reads":[');
  for (let i = 0; i < s.reads.length; i++) {
    if (i > 0) resp.byte(0x2c);
    writeJSONString(resp, s.reads[i]);
  }
  resp.str('],"writes":[');
  for (let i = 0; i < s.writes.length; i++) {
    if (i > 0) resp.byte(0x2c);
    resp.str('{"name":');
    writeJSONString(resp, s.writes[i].name);
    resp.str(',"type":');
    writeJSONString(resp, s.writes[i].type);
    resp.str(',"nullable":true}');
  }
  resp.str('],"drops":[');
  for (let i = 0; i < s.drops.length; i++) {
    if (i > 0) resp.byte(0x2c);
    writeJSONString(resp, s.drops[i]);
  }
  resp.str('],"filter":');
  resp.str(s.filtering ? "true" : "false");
  resp.byte(0x7d);
}

// The result header (ABI.md): ten u32 words.
const result = memory.data(40, 8);
const outDesc = new Buf();
const errDesc = new Buf();
const failBuf = new Buf();

export function dw_process(ptr: usize): usize {
  memory.fill(result, 0, 40);
  let err = runBatch(ptr);
  if (err == null) err = batch.failMsg;
  if (err == null) err = finish();
  if (err != null) {
    failBuf.len = 0;
    failBuf.str(err);
    store<u32>(result, 1);
    store<u32>(result, <u32>failBuf.ptr, 4);
    store<u32>(result, failBuf.len, 8);
  }
  return result;
}

function runBatch(ptr: usize): string | null {
  if (!bound || !inArena(ptr, 16)) return "dw_process before dw_bind, or batch header outside the reserved region";
  let n = load<u32>(ptr);
  let ncols = load<u32>(ptr, 4);
  let ins = batch.ins;
  if (ncols != <u32>ins.length) return "host sent " + ncols.toString() + " columns, the stage reads " + ins.length.toString();
  if (n > 0x7fff_fff0) return "batch of " + n.toString() + " rows";
  if (ncols > 0 && !inArena(ptr + 16, 32 * <usize>ncols)) return "column descriptors outside the reserved region";
  batch.n = <i32>n;
  for (let i = 0; i < ins.length; i++) {
    let d = ptr + 16 + 32 * <usize>i;
    let c = unchecked(ins[i]);
    let code = <i32>load<u8>(d, 4);
    c.valid = load<u32>(d, 12);
    c.offsets = load<u32>(d, 16);
    c.values = load<u32>(d, 20);
    c.valuesLen = load<u32>(d, 24);
    c.large = code == codeLargeUTF8 || code == codeLargeBinary;
    if (c.valid != 0 && !inArena(c.valid, (<usize>n + 7) >> 3)) return "column " + i.toString() + ": validity outside the reserved region";
    let varw = code == codeUTF8 || code == codeBinary || c.large;
    if (varw && !inArena(c.offsets, (<usize>n + 1) << (c.large ? 3 : 2))) return "column " + i.toString() + ": offsets outside the reserved region";
    if (c.valuesLen > 0 && !inArena(c.values, c.valuesLen)) return "column " + i.toString() + ": values outside the reserved region";
    if (c.valuesLen == 0) c.values = arenaBase;
  }
  let outs = batch.outs;
  for (let i = 0; i < outs.length; i++) unchecked(outs[i]).touched = false;
  batch.hasSel = false;
  batch.errs.len = 0;
  batch.msgs.len = 0;
  batch.failMsg = null;
  changetype<Stage>(registered).process(batch);
  return null;
}

function finish(): string | null {
  let n = batch.n;
  let outs = batch.outs;
  outDesc.len = 0;
  for (let i = 0; i < outs.length; i++) {
    let c = unchecked(outs[i]);
    if (!c.touched) return "output column \"" + c.field.name + "\" was not written for this batch";
    let varw = c.code == codeUTF8 || c.code == codeBinary;
    if (varw && <i32>(c.offs.len >> 2) - 1 != n) {
      return "output column \"" + c.field.name + "\": " + (<i32>(c.offs.len >> 2) - 1).toString() + " values appended for " + n.toString() + " rows";
    }
    outDesc.u32(<u32>i);
    outDesc.u32(<u32>c.code);
    outDesc.u32(0);
    outDesc.u32(c.hasNull ? <u32>c.valid.ptr : 0);
    outDesc.u32(varw ? <u32>c.offs.ptr : 0);
    outDesc.u32(<u32>c.values.ptr);
    outDesc.u32(c.values.len);
    outDesc.u32(0);
  }
  let errs = batch.errs;
  errDesc.len = 0;
  let msgs = batch.msgs.ptr;
  for (let i: u32 = 0; i < errs.len; i += 12) {
    errDesc.u32(load<u32>(errs.ptr + i));
    errDesc.u32(<u32>msgs + load<u32>(errs.ptr + i, 4));
    errDesc.u32(load<u32>(errs.ptr + i, 8));
  }
  if (batch.hasSel) {
    store<u32>(result, 1, 12);
    store<u32>(result, <u32>batch.sel.ptr, 16);
    store<u32>(result, batch.sel.len, 20);
  }
  store<u32>(result, <u32>outs.length, 24);
  store<u32>(result, outs.length > 0 ? <u32>outDesc.ptr : 0, 28);
  store<u32>(result, errs.len / 12, 32);
  store<u32>(result, errs.len > 0 ? <u32>errDesc.ptr : 0, 36);
  return null;
}
