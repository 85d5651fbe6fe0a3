// The module's ABI exports (wasmabi/ABI.md). A transform's entry file
// re-exports them:
//
//   export * from "@dataweaver/guest/assembly/exports";

import "./abort";
import { InCol, OutCol } from "./batch";
import { Buf } from "./buffer";
import { batch, errorDescs, inArena, loadBatch, reserve } from "./host";
import { Kind, parseJSON, writeJSONString } from "./json";
import { Field, Setup, Stage, registered } from "./setup";
import { codeBinary, codeUTF8, nestedCode, typeCode } from "./types";


export function dw_abi_version(): i32 {
  return 1;
}

export function dw_reserve(size: i32): usize {
  return reserve(size);
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
    else if (k == "event_time" && v.kind == Kind.String) s.eventTime = v.toString();
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
    if (code == 0) code = nestedCode(w.type);
    if (code == 0) return fail("column \"" + w.name + "\": type \"" + w.type + "\" is not in ABI v1");
    outs[i] = new OutCol(w, code);
  }
  let ins = new Array<InCol>(s.reads.length);
  for (let i = 0; i < ins.length; i++) ins[i] = new InCol();
  batch.outs = outs;
  batch.ins = ins;
  batch.bound = true;

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
  if (s.dropsAll) resp.str(',"drop_all":true');
  if (s.keepsState) resp.str(',"state":true');
  resp.byte(0x7d);
}

// The result header (ABI.md): ten u32 words.
const result = memory.data(40, 8);
const outDesc = new Buf();
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
  let err = loadBatch(ptr);
  if (err != null) return err;
  let outs = batch.outs;
  for (let i = 0; i < outs.length; i++) unchecked(outs[i]).touched = false;
  batch.hasSel = false;
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
  if (batch.hasSel) {
    store<u32>(result, 1, 12);
    store<u32>(result, <u32>batch.sel.ptr, 16);
    store<u32>(result, batch.sel.len, 20);
  }
  store<u32>(result, <u32>outs.length, 24);
  store<u32>(result, outs.length > 0 ? <u32>outDesc.ptr : 0, 28);
  store<u32>(result, errs.len / 12, 32);
  store<u32>(result, errs.len > 0 ? errorDescs() : 0, 36);
  return null;
}
