// sdkcheckv2 exercises the SDK's ABI v2 through the host
// (transforms/assemblyscript/v2_test.go), as guest-sdk/c/sdktest/testdata/
// stagev2 does for the C SDK, with the same output. It reads int64 "id"
// and utf8 "s" and writes int64 "n", int32 "m", bool "even", utf8 "txt"
// and float64 "x". For each input row i:
//
//   - id < 0: the row is rejected ("negative id"), nothing emitted;
//   - else one row from i: n = tumble(id, 10), m = id, even = id is even,
//     txt = s, x = id / 2;
//   - and when id is a multiple of 3, a second row from i whose five
//     columns are null.
//
// Input columns pass through unless config drop_all is true. The state is
// the count of rows seen; at end of input a drop_all stage emits one row
// of no origin with n = that count, txt = "end" and the rest null.
// config.mode breaks a rule of the SDK instead: "missing" leaves txt
// without a value, "twice" puts n twice, "origin" emits from a row past
// the batch. config.items ("f64", "string", "bool") reads the list column
// "tags" with its items viewed as that (the bind refuses a view that does
// not fit the items).

import {
  Batch, Col, NoOrigin, Out, OutBool, OutStr, Setup, StageV2, StateReader, StateWriter, StrCol,
  read, readList, readString, register, tumble, write, writeBool, writeString,
} from "../../../../../guest-sdk/assemblyscript/assembly";
export * from "../../../../../guest-sdk/assemblyscript/assembly/exportsV2";

class CheckV2 extends StageV2 {
  mode: string = "";
  dropAll: bool = false;
  seen: i64 = 0;
  id: Col<i64> | null = null;
  s: StrCol | null = null;
  n: Out<i64> | null = null;
  m: Out<i32> | null = null;
  even: OutBool | null = null;
  txt: OutStr | null = null;
  x: Out<f64> | null = null;

  setup(s: Setup): void {
    let c = s.config(["drop_all", "mode", "items"]);
    let items = c.string("items");
    if (items != "") {
      let tags = readList(s, "tags");
      if (items == "f64") tags.itemsOf<f64>(s);
      else if (items == "string") tags.strings(s);
      else tags.bools(s);
    }
    this.dropAll = c.bool("drop_all");
    this.mode = c.string("mode");
    this.id = read<i64>(s, "id");
    this.s = readString(s, "s");
    this.n = write<i64>(s, "n", "int64");
    this.m = write<i32>(s, "m", "int32");
    this.even = writeBool(s, "even");
    this.txt = writeString(s, "txt");
    this.x = write<f64>(s, "x", "float64");
    if (this.dropAll) s.dropAll();
    s.keepState();
  }

  process(b: Batch): void {
    let iv = this.id!.view(b), sv = this.s!.view(b);
    for (let i = 0; i < b.length; i++) {
      this.seen++;
      let v = iv.get(i);
      if (v < 0) {
        b.reject(i, "negative id");
        continue;
      }
      b.emit(this.mode == "origin" ? b.length : i);
      this.n!.put(b, tumble(v, 10));
      if (this.mode == "twice") this.n!.put(b, 0);
      this.m!.put(b, <i32>v);
      this.even!.put(b, v % 2 == 0);
      if (this.mode != "missing") this.txt!.put(b, sv.ptr(i), sv.len(i));
      this.x!.put(b, <f64>v / 2);
      if (v % 3 == 0) {
        b.emit(i);
        this.n!.putNull(b);
        this.m!.putNull(b);
        this.even!.putNull(b);
        this.txt!.putNull(b);
        this.x!.putNull(b);
      }
    }
  }

  finish(b: Batch): void {
    if (!this.dropAll) return;
    b.emit(NoOrigin);
    this.n!.put(b, this.seen);
    this.m!.putNull(b);
    this.even!.putNull(b);
    this.txt!.putString(b, "end");
    this.x!.putNull(b);
  }

  snapshot(w: StateWriter): void {
    w.i64(this.seen);
  }

  restore(r: StateReader): string | null {
    if (r.left != 8) return "stagev2: want 8 bytes of state";
    this.seen = r.i64();
    return null;
  }
}

register(new CheckV2());
