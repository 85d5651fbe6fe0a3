// explode is an ABI v2 stage that turns a list column into rows, one per
// item, the item in place of the list: the AssemblyScript twin of
// transforms/explode (Go), transforms/c/explode and transforms/rust/explode,
// with the same output.
//
//   stages:
//     - wasm: transforms/assemblyscript/explode/explode.wasm
//       config: {column: tags}
//
// Each output row's origin is the input row its item came from, so every
// other column is handed on with it and a rejected row's dead letter
// names the input row. A null or empty list gives no row (SQL's UNNEST,
// Spark's explode); a null item gives a row with a null value. `as` names
// the output column (default: the list column's own name, which the item
// replaces in place). The items may be of any v1 type but decimal128
// (the SDK has no 16-byte view); large_utf8 and large_binary items are
// written as utf8 and binary, as the Go stage writes them.

import {
  Batch, BoolCol, BoolView, Col, FixedView, ListCol, ListView, Out, OutBool, OutStr, Setup, StageV2,
  StrCol, StrView,
  readList, register, write, writeBinary, writeBool, writeString,
} from "../../../../guest-sdk/assemblyscript/assembly";
export * from "../../../../guest-sdk/assemblyscript/assembly/exportsV2";

// Items gives emitted rows the items of one type: AssemblyScript has no
// closures, so each type is a class of its own, picked once at setup, and
// explode calls its put per item as Go's each calls its func.
abstract class Items {
  /** Takes the batch's view of the items. */
  abstract load(b: Batch): void;
  /** Gives the row just emitted item k. */
  abstract put(b: Batch, k: i32): void;

  /** Emits one row per item of every non-null row of v, in order. */
  explode(b: Batch, v: ListView): void {
    this.load(b);
    for (let i = 0; i < b.length; i++) {
      if (!v.valid(i)) continue;
      for (let k = v.start(i), end = v.end(i); k < end; k++) {
        b.emit(i);
        this.put(b, k);
      }
    }
  }
}

class FixedItems<T> extends Items {
  private it: FixedView<T> = new FixedView<T>();
  constructor(private items: Col<T>, private out: Out<T>) {
    super();
  }
  load(b: Batch): void {
    this.it = this.items.view(b);
  }
  put(b: Batch, k: i32): void {
    if (this.it.valid(k)) this.out.put(b, this.it.get(k));
    else this.out.putNull(b);
  }
}

class StrItems extends Items {
  private it: StrView = new StrView();
  constructor(private items: StrCol, private out: OutStr) {
    super();
  }
  load(b: Batch): void {
    this.it = this.items.view(b);
  }
  put(b: Batch, k: i32): void {
    if (this.it.valid(k)) this.out.put(b, this.it.ptr(k), this.it.len(k));
    else this.out.putNull(b);
  }
}

class BoolItems extends Items {
  private it: BoolView = new BoolView();
  constructor(private items: BoolCol, private out: OutBool) {
    super();
  }
  load(b: Batch): void {
    this.it = this.items.view(b);
  }
  put(b: Batch, k: i32): void {
    if (this.it.valid(k)) this.out.put(b, this.it.get(k));
    else this.out.putNull(b);
  }
}

// fixed explodes items viewed as T, written as their own type.
function fixed<T>(s: Setup, list: ListCol, as: string): Items {
  return new FixedItems<T>(list.itemsOf<T>(s), write<T>(s, as, list.elem));
}

class Explode extends StageV2 {
  list: ListCol | null = null;
  items: Items | null = null;

  setup(s: Setup): void {
    let c = s.config(["column", "as"]);
    let column = c.string("column");
    let as = c.string("as");
    if (s.failed) return;
    if (column == "") {
      s.error("config: column is required");
      return;
    }
    if (as == "") as = column;
    let list = readList(s, column);
    if (s.failed) return;
    if (as != column) s.dropColumn(column);
    this.list = list;
    let e = list.elem;
    if (e == "bool") this.items = new BoolItems(list.bools(s), writeBool(s, as));
    else if (e == "utf8" || e == "large_utf8") this.items = new StrItems(list.strings(s), writeString(s, as));
    else if (e == "binary" || e == "large_binary") this.items = new StrItems(list.strings(s), writeBinary(s, as));
    else if (e == "int8") this.items = fixed<i8>(s, list, as);
    else if (e == "int16") this.items = fixed<i16>(s, list, as);
    else if (e == "int32" || e == "date32") this.items = fixed<i32>(s, list, as);
    else if (e == "int64" || e.startsWith("timestamp[")) this.items = fixed<i64>(s, list, as);
    else if (e == "uint8") this.items = fixed<u8>(s, list, as);
    else if (e == "uint16") this.items = fixed<u16>(s, list, as);
    else if (e == "uint32") this.items = fixed<u32>(s, list, as);
    else if (e == "uint64") this.items = fixed<u64>(s, list, as);
    else if (e == "float32") this.items = fixed<f32>(s, list, as);
    else if (e == "float64") this.items = fixed<f64>(s, list, as);
    else s.error("column \"" + column + "\": items of type " + e + " are not supported");
  }

  process(b: Batch): void {
    this.items!.explode(b, this.list!.view(b));
  }
}

register(new Explode());
