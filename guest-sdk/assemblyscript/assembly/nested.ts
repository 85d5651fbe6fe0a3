// Nested output columns of a v2 stage (list, struct, map; wasmabi/ABI.md,
// "Nested types"), the C SDK's builders (dw_child, dw_begin/dw_end) and
// Go's (WriteNested, Node): the tree of a declared type's children, each
// a column of its own that the put methods fill, kept in step with its
// parent's rows. The SDK refuses a put that would break that step (a
// value outside its parent's begin/end, a second value for a struct's
// field) by failing the call with a message naming the column: the host
// would refuse the result anyway, but could not say which call went
// wrong.

import { Batch, OutCol } from "./batch";
import { Buf } from "./buffer";
import { Field, Setup, quote } from "./setup";
import { codeBinary, codeBool, codeLargeBinary, codeLargeUTF8, codeList, codeMap, codeStruct, codeUTF8, nestedCode, typeCode, typeWidth } from "./types";

// NodeData is one node of a nested output column's tree.
@final
class NodeData {
  /** "items.sku", as the host names it. */ path: string;
  /** The last part: a field's name, "item", "key", "value". */ name: string;
  code: i32 = 0;
  width: i32 = 0;
  /** A node, or -1: the node is the output column itself. */ parent: i32;
  /** The output column it belongs to. */ slot: i32;
  kid0: i32 = 0;
  nkids: i32 = 0;
  /** Between begin and end. */ open: bool = false;
  /** A child's rows (an output column's are Batch.outs'). */
  own: OutCol;
  /** nkids × 32 bytes: the children's descriptors. */
  kdesc: Buf = new Buf();

  constructor(path: string, name: string, parent: i32, slot: i32) {
    this.path = path;
    this.name = name;
    this.parent = parent;
    this.slot = slot;
    this.own = new OutCol(new Field(path, "", true), 0);
  }
}

const nodes = new Array<NodeData>();
// top[slot]: the node of output column slot, or -1.
const top = new Array<i32>();

// splitType is the length of t's first part, from `from`, before a comma
// outside <>, [] and ().
function splitType(t: string, from: i32): i32 {
  let depth = 0;
  for (let i = from; i < t.length; i++) {
    let c = t.charCodeAt(i);
    if (c == 0x3c || c == 0x5b || c == 0x28) depth++;
    else if (c == 0x3e || c == 0x5d || c == 0x29) depth--;
    else if (c == 0x2c && depth == 0) return i - from;
  }
  return t.length - from;
}

// declare makes node k of type t and, for a nested type, its children,
// numbered consecutively.
function declare(s: Setup, k: i32, t: string, depth: i32): void {
  let nd = nodes[k];
  let code = nestedCode(t);
  if (code == 0) {
    code = typeCode(t);
    if (code == 0 || code == codeLargeUTF8 || code == codeLargeBinary) {
      s.error("column " + quote(nd.path) + ": type " + quote(t) + " cannot be written (v1 types but large_ ones, or list, struct, map)");
    }
    nd.code = code;
    nd.width = typeWidth(code);
    nd.own.code = code;
    return;
  }
  nd.code = code;
  nd.own.code = code;
  if (depth > 4) {
    s.error("column " + quote(nd.path) + ": nested deeper than 4 levels");
    return;
  }
  let skip = code == codeList ? 5 : code == codeStruct ? 7 : 4;
  let inner = t.slice(skip, t.length - 1);
  let parts = new Array<string>();
  for (let off = 0; off <= inner.length; ) {
    let n = splitType(inner, off);
    parts.push(inner.slice(off, off + n).trim()); // the host allows spaces around parts
    off += n + 1;
  }
  if ((code == codeList && parts.length != 1) || (code == codeMap && parts.length != 2)) {
    s.error("column " + quote(nd.path) + ": " + t + " is not a type");
    return;
  }
  let kid0 = nodes.length;
  nd.kid0 = kid0;
  nd.nkids = parts.length;
  nd.kdesc.zeroed(<u32>(32 * parts.length));
  for (let i = 0; i < parts.length; i++) {
    let kt = parts[i];
    let name = code == codeList ? "item" : i == 0 ? "key" : "value";
    if (code == codeStruct) {
      let colon = kt.indexOf(":");
      if (colon <= 0) {
        s.error("column " + quote(nd.path) + ": struct field " + quote(kt) + " has no name");
        return;
      }
      name = kt.slice(0, colon).trim();
      kt = kt.slice(colon + 1).trim();
    }
    nodes.push(new NodeData(nd.path + "." + name, name, k, nd.slot));
  }
  for (let i = 0; i < parts.length; i++) {
    let kt = parts[i];
    if (code == codeStruct) kt = kt.slice(kt.indexOf(":") + 1).trim();
    declare(s, kid0 + i, kt, depth + 1);
  }
}

/**
 * Node is a nested output column (writeNested) or one of its children
 * (child, field): a list's items, a struct's field, a map's keys or
 * values. Per emitted row a list, struct or map node takes begin, its
 * children's values, end; or putNull. A map row is a key then a value
 * per entry (keys not null); a null list has no items, a null struct
 * null fields.
 */
@final
export class Node {
  constructor(private id: i32) {}

  /** Child i: a list's items 0, a map's keys 0 and values 1, a struct's
   * field i. */
  child(s: Setup, i: i32): Node {
    if (this.id < 0) return this; // writeNested recorded why
    let p = nodes[this.id];
    if (i < 0 || i >= p.nkids) {
      s.error("column " + quote(p.path) + " has " + p.nkids.toString() + " children, not " + (i + 1).toString());
      return new Node(-1);
    }
    return new Node(p.kid0 + i);
  }

  /** A struct's field by name. */
  field(s: Setup, name: string): Node {
    if (this.id < 0) return this;
    let p = nodes[this.id];
    if (p.code == codeStruct) {
      for (let i = 0; i < p.nkids; i++) {
        if (nodes[p.kid0 + i].name == name) return new Node(p.kid0 + i);
      }
    }
    s.error("column " + quote(p.path) + " has no field " + quote(name));
    return new Node(-1);
  }

  /** Starts the next row of a list, struct or map. */
  begin(b: Batch): void {
    let nd = nodes[this.id];
    col(b, this.id);
    if (nd.open) b.fail(misuse("a begin of a row already begun", nd.path));
    nd.open = true;
  }

  /** Ends the row begun. */
  end(b: Batch): void {
    let nd = nodes[this.id];
    let c = nd.parent < 0 ? unchecked(b.outs[nd.slot]) : nd.own;
    if (!nd.open) {
      b.fail(misuse("an end without a begin", nd.path));
      return;
    }
    if (nd.code == codeStruct) {
      for (let i = 0; i < nd.nkids; i++) {
        let kid = nodes[nd.kid0 + i];
        if (kid.own.rows != c.rows + 1) b.fail(misuse("a struct row ended without a value for this field", kid.path));
      }
    } else {
      let items = nodes[nd.kid0].own.rows;
      if (nd.code == codeMap && items != nodes[nd.kid0 + 1].own.rows) {
        b.fail(misuse("a map row ended with more keys than values or more values than keys", nd.path));
      }
      c.offs.u32(<u32>items);
    }
    c.rows++;
    nd.open = false;
  }

  /** Gives the next row a null (at any level). */
  putNull(b: Batch): void {
    let nd = nodes[this.id];
    let c = col(b, this.id);
    if (nd.open) b.fail(misuse("a null inside the begin/end of the same row", nd.path));
    nullRow(this.id, c);
  }

  /** Gives a fixed-width child its next value, as Out<T>.put does. */
  put<T>(b: Batch, v: T): void {
    let c = this.fixed(b, sizeof<T>());
    let vs = c.values;
    vs.reserve(sizeof<T>());
    store<T>(vs.ptr + vs.len, v);
    vs.len += sizeof<T>();
    c.rows++;
  }

  /** Gives a bool child its next value. */
  putBool(b: Batch, v: bool): void {
    let nd = nodes[this.id];
    let c = col(b, this.id);
    if (nd.code != codeBool) b.fail(misuse("putBool on a column that is not bool", nd.path));
    c.putBit(v);
  }

  /** Gives a utf8 or binary child n bytes at p as its next value. */
  putBytes(b: Batch, p: usize, n: u32): void {
    let c = this.varw(b);
    c.values.bytes(p, n);
    c.offs.u32(c.values.len);
    c.rows++;
  }

  /** putBytes with a string's UTF-8 encoding (no allocation). */
  putString(b: Batch, s: string): void {
    let c = this.varw(b);
    c.values.str(s);
    c.offs.u32(c.values.len);
    c.rows++;
  }

  /** Gives a list of fixed-width items a whole non-null row: vs. */
  putList<T>(b: Batch, vs: Array<T>): void {
    this.begin(b);
    let nd = nodes[this.id];
    let it = nodes[nd.kid0];
    if (nd.code != codeList || it.width != sizeof<T>() || it.code == codeBool) {
      b.fail(misuse("putList of the wrong type for the list's items", nd.path));
    } else {
      let c = it.own;
      let n = <u32>vs.length * sizeof<T>();
      c.values.bytes(vs.dataStart, n);
      c.rows += vs.length;
    }
    this.end(b);
  }

  private fixed(b: Batch, width: i32): OutCol {
    let nd = nodes[this.id];
    let c = col(b, this.id);
    if (nd.width != width || nd.code == codeBool) b.fail(misuse("a value of " + width.toString() + " bytes for a column of " + nd.width.toString(), nd.path));
    return c;
  }

  private varw(b: Batch): OutCol {
    let nd = nodes[this.id];
    let c = col(b, this.id);
    if (nd.code != codeUTF8 && nd.code != codeBinary) b.fail(misuse("bytes for a column that is not utf8 or binary", nd.path));
    return c;
  }
}

function misuse(what: string, path: string): string {
  return what + " (output column " + quote(path) + ")";
}

// col is node k's column, once its row may take a value: an output
// column's after Batch.emit, a child's inside its parent's begin/end and,
// for a struct's field, once per row.
function col(b: Batch, k: i32): OutCol {
  let nd = nodes[k];
  if (nd.parent < 0) return b.putCol(nd.slot);
  let p = nodes[nd.parent];
  if (!p.open) b.fail(misuse("a value outside its parent's begin/end", nd.path));
  else if (p.code == codeStruct) {
    let pc = p.parent < 0 ? unchecked(b.outs[p.slot]) : p.own;
    if (nd.own.rows != pc.rows) b.fail(misuse("a second value for a struct's field in one row", nd.path));
  }
  return nd.own;
}

// nullRow appends a null row to node k's column c: no items for a list
// or map, a null row in each field of a struct, an empty value of a leaf.
function nullRow(k: i32, c: OutCol): void {
  let nd = nodes[k];
  c.nullBit();
  let code = nd.code;
  if (code == codeList || code == codeMap) {
    c.offs.u32(load<u32>(c.offs.ptr + c.offs.len - 4));
    c.rows++;
  } else if (code == codeStruct) {
    for (let i = 0; i < nd.nkids; i++) nullRow(nd.kid0 + i, nodes[nd.kid0 + i].own);
    c.rows++;
  } else if (code == codeBool) {
    c.putBit(false);
  } else if (code == codeUTF8 || code == codeBinary) {
    c.offs.u32(c.values.len);
    c.rows++;
  } else {
    let w = <u32>nd.width;
    c.values.reserve(w);
    memory.fill(c.values.ptr + c.values.len, 0, w);
    c.values.len += w;
    c.rows++;
  }
}

/** Declares an output column of a nested type (ABI v2): "list<int64>",
 * "struct<sku:utf8,qty:int64>", "map<utf8,list<float64>>", at most 4
 * levels. Its children (child, field) are Nodes too. */
export function writeNested(s: Setup, name: string, typ: string): Node {
  let slot = s.addWrite(name, typ);
  if (nestedCode(typ) == 0) {
    s.error("column " + quote(name) + ": " + typ + " is not a list, struct or map");
    return new Node(-1);
  }
  while (top.length <= slot) top.push(-1);
  let k = nodes.length;
  nodes.push(new NodeData(name, name, -1, slot));
  top[slot] = k;
  declare(s, k, typ, 1);
  return new Node(k);
}

/** @internal Empties every child's column and closes every row, before a
 * call's rows. */
export function beginNested(): void {
  for (let k = 0; k < nodes.length; k++) {
    let nd = unchecked(nodes[k]);
    nd.open = false;
    if (nd.parent >= 0) nd.own.begin();
  }
}

/** @internal Whether output column slot is nested. */
export function isNestedSlot(slot: i32): bool {
  return slot < top.length && unchecked(top[slot]) >= 0;
}

/** @internal Writes words 3..6 of output column slot's descriptor at d
 * (validity, offsets, child descriptors and their count) and its
 * children's descriptors, checking the rows each child holds; returns a
 * message on a mistake. */
export function nestedDesc(slot: i32, c: OutCol, d: usize): string | null {
  return fill(unchecked(top[slot]), c, d);
}

function fill(k: i32, c: OutCol, d: usize): string | null {
  let nd = nodes[k];
  if (nd.open) return "output column " + quote(nd.path) + ": a row begun and not ended";
  if (c.hasNull) c.validTo((<u32>c.rows + 7) >> 3);
  store<u32>(d, 0, 8);
  store<u32>(d, c.hasNull ? <u32>c.valid.ptr : 0, 12);
  store<u32>(d, 0, 28);
  let code = nd.code;
  if (code != codeList && code != codeStruct && code != codeMap) {
    store<u32>(d, code == codeUTF8 || code == codeBinary ? <u32>c.offs.ptr : 0, 16);
    store<u32>(d, c.values.len > 0 ? <u32>c.values.ptr : 0, 20);
    store<u32>(d, c.values.len, 24);
    return null;
  }
  let want = c.rows;
  store<u32>(d, 0, 16);
  if (code != codeStruct) {
    store<u32>(d, <u32>c.offs.ptr, 16);
    want = <i32>load<u32>(c.offs.ptr + (<usize>c.rows << 2));
  }
  store<u32>(d, <u32>nd.kdesc.ptr, 20);
  store<u32>(d, <u32>nd.nkids, 24);
  for (let i = 0; i < nd.nkids; i++) {
    let kid = nodes[nd.kid0 + i];
    if (kid.own.rows != want) {
      return "output column " + quote(kid.path) + ": " + kid.own.rows.toString() + " values put for the " + want.toString() + " rows its parent holds";
    }
    if (code == codeMap && i == 0 && kid.own.hasNull) return "output column " + quote(kid.path) + ": a map key is null";
    let kd = nd.kdesc.ptr + 32 * <usize>i;
    store<u32>(kd, <u32>i);
    store<u32>(kd, <u32>kid.code, 4);
    let err = fill(nd.kid0 + i, kid.own, kd);
    if (err != null) return err;
  }
  return null;
}
