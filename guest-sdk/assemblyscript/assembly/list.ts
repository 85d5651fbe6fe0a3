// List columns (ABI v2, wasmabi/ABI.md "Nested types"): a list<T> input
// column whose items are of a v1 type. The items are a column of their
// own, of as many rows as the batch's lists hold together, read with the
// views of any column; ListView gives each row's range of item rows.

import { Batch, InCol } from "./batch";
import { BoolCol, Col, StrCol } from "./column";
import { Setup, quote } from "./setup";
import { fits, isVarWidth, listElem, typeName } from "./types";

/** ListCol is a list<T> input column, T a v1 type (readList). */
@final
export class ListCol {
  private v: ListView = new ListView();
  /** The items' ABI type name ("int64", "utf8", "timestamp[us]"…), or ""
   * when the read failed. */
  readonly elem: string;

  constructor(private slot: i32, elem: string) {
    this.elem = elem;
  }

  /** The column in batch b (the same object every batch). */
  view(b: Batch): ListView {
    let d = unchecked(b.ins[this.slot]);
    let v = this.v;
    v.offsets = d.offsets;
    v.validity = d.valid;
    v.length = b.n;
    v.base = load<i32>(d.offsets);
    v.items = changetype<InCol>(d.kid).rows;
    return v;
  }

  /** Declares a view of the fixed-width items as T (as read<T> fits a
   * column: date32 is i32, timestamps i64); a T that does not fit elem
   * is recorded on s. Its view(b) has ListView.items rows. */
  itemsOf<T>(s: Setup): Col<T> {
    this.check(s, this.elem == "" || fits<T>(this.elem), typeName<T>());
    return new Col<T>(this.slot, true);
  }

  /** Declares a view of utf8, binary (or large_) items. */
  strings(s: Setup): StrCol {
    this.check(s, this.elem == "" || isVarWidth(this.elem), "string");
    return new StrCol(this.slot, true);
  }

  /** Declares a view of bool items. */
  bools(s: Setup): BoolCol {
    this.check(s, this.elem == "" || this.elem == "bool", "bool");
    return new BoolCol(this.slot, true);
  }

  private check(s: Setup, ok: bool, want: string): void {
    if (!ok) s.error("list column " + quote(s.reads[this.slot]) + ": items are " + this.elem + ", this stage reads them as " + want);
  }
}

/** Declares a read of a list<T> column whose items T are of a v1 type
 * (ABI v2 only); ListCol.elem gives T. A missing column or another type
 * is recorded on s. */
export function readList(s: Setup, name: string): ListCol {
  let f = s.field(name);
  let elem = f == null ? "" : listElem(f.type);
  return new ListCol(s.addRead(name, f, elem != "", "a list of a v1 type"), elem);
}

/**
 * ListView is a zero-copy view of a list column in one batch. Row i's
 * items are item rows start(i) to end(i) (end excluded) of the views
 * ListCol.itemsOf, strings and bools give.
 */
@final
export class ListView {
  /** Raw access: the n+1 i32 offsets as the host sent them (row i's items
   * are offsets[i]-offsets[0] .. offsets[i+1]-offsets[0]). Read-only. */
  offsets: usize = 0;
  /** As FixedView.validity: 0 = no null rows. */
  validity: usize = 0;
  /** Rows. */
  length: i32 = 0;
  /** Item rows in the batch. */
  items: i32 = 0;
  /** @internal offsets[0] */ base: i32 = 0;

  /** Whether row i is not null (a null row usually has no items, but
   * may: skip it). */
  @inline valid(i: i32): bool {
    return this.validity == 0 || ((load<u8>(this.validity + (<usize>i >> 3)) >> <u8>(i & 7)) & 1) != 0;
  }

  /** Row i's first item row. */
  @inline start(i: i32): i32 {
    return load<i32>(this.offsets + (<usize>i << 2)) - this.base;
  }

  /** The item row after row i's last. */
  @inline end(i: i32): i32 {
    return load<i32>(this.offsets + (<usize>(i + 1) << 2)) - this.base;
  }
}
