// nestout exercises the SDK's nested output builders (writeNested,
// Node.child/field/begin/end/put*/putList, putNull at each level) with
// the columns of the C SDK's nestout stage
// (guest-sdk/c/sdktest/testdata/nestout), which
// transforms/assemblyscript/nested_test.go checks against their
// specification. It reads int64 "n" (v below) and emits one row per input
// row, from it:
//
//   l   list<int64>: null when v%5 == 0; else v%4 items: v+k as a whole
//       array (putList) when v is even, else 10v+k with item 1 null;
//   s   struct<a:int64,b:utf8,c:list<utf8>>: null when v%7 == 0; else a =
//       v, b = words[v%4] (null when v%3 == 0), c = words[(v+k)%4] for
//       k < v%3;
//   m   map<utf8,float64>: null when v%6 == 5; else keys words[k+1] for
//       k < v%3, values v+k/2 (null for k == 1);
//   ls  list<struct<x:int64,y:bool>>: v%3 items, item k null when
//       (v+k)%4 == 3, else x = 100v+k, y = k is even;
//   ll  list<list<int32>>: v%3 lists, list k holding v+j for j < k.
//
// Config "misuse" breaks a rule instead: "unended" (a list row begun and
// not ended), "outside" (an item put outside begin/end), "twice" (two
// values for a struct field), "missing" (a struct row ended without a
// field), "mapkeys" (a map row with a key and no value).

import {
  Batch, Col, Node, Setup, StageV2, read, register, writeNested,
} from "../../../../../guest-sdk/assemblyscript/assembly";
export * from "../../../../../guest-sdk/assemblyscript/assembly/exportsV2";

const words = ["", "a", "Île", "日本"];

class NestOut extends StageV2 {
  misuse: string = "";
  n: Col<i64> | null = null;
  l: Node = new Node(-1);
  lItem: Node = new Node(-1);
  s: Node = new Node(-1);
  sA: Node = new Node(-1);
  sB: Node = new Node(-1);
  sC: Node = new Node(-1);
  sCItem: Node = new Node(-1);
  m: Node = new Node(-1);
  mKey: Node = new Node(-1);
  mVal: Node = new Node(-1);
  ls: Node = new Node(-1);
  lsItem: Node = new Node(-1);
  lsX: Node = new Node(-1);
  lsY: Node = new Node(-1);
  ll: Node = new Node(-1);
  llItem: Node = new Node(-1);
  llItemItem: Node = new Node(-1);
  items: Array<i64> = new Array<i64>(3);

  setup(s: Setup): void {
    this.misuse = s.config(["misuse"]).string("misuse");
    this.n = read<i64>(s, "n");
    this.l = writeNested(s, "l", "list<int64>");
    this.lItem = this.l.child(s, 0);
    this.s = writeNested(s, "s", "struct<a:int64,b:utf8,c:list<utf8>>");
    this.sA = this.s.field(s, "a");
    this.sB = this.s.field(s, "b");
    this.sC = this.s.child(s, 2);
    this.sCItem = this.sC.child(s, 0);
    this.m = writeNested(s, "m", "map<utf8,float64>");
    this.mKey = this.m.child(s, 0);
    this.mVal = this.m.child(s, 1);
    this.ls = writeNested(s, "ls", "list<struct<x: int64, y: bool>>"); // spaces as a pipeline file may have them
    this.lsItem = this.ls.child(s, 0);
    this.lsX = this.lsItem.field(s, "x");
    this.lsY = this.lsItem.field(s, "y");
    this.ll = writeNested(s, "ll", "list<list<int32>>");
    this.llItem = this.ll.child(s, 0);
    this.llItemItem = this.llItem.child(s, 0);
  }

  process(b: Batch): void {
    let nv = this.n!.view(b);
    let bad = this.misuse;
    for (let i = 0; i < b.length; i++) {
      let v = nv.get(i);
      b.emit(i);
      if (v % 5 == 0) {
        this.l.putNull(b);
      } else if (v % 2 == 0) {
        let items = this.items;
        items.length = <i32>(v % 4);
        for (let k: i64 = 0; k < v % 4; k++) items[<i32>k] = v + k;
        this.l.putList<i64>(b, items);
      } else {
        this.l.begin(b);
        for (let k: i64 = 0; k < v % 4; k++) {
          if (k == 1) this.lItem.putNull(b);
          else this.lItem.put<i64>(b, 10 * v + k);
        }
        if (bad != "unended") this.l.end(b);
      }
      if (bad == "outside") this.lItem.put<i64>(b, 1);

      if (v % 7 == 0) {
        this.s.putNull(b);
      } else {
        this.s.begin(b);
        this.sA.put<i64>(b, v);
        if (bad == "twice") this.sA.put<i64>(b, v);
        if (v % 3 == 0) this.sB.putNull(b);
        else this.sB.putString(b, words[<i32>(v % 4)]);
        if (bad != "missing") {
          this.sC.begin(b);
          for (let k: i64 = 0; k < v % 3; k++) this.sCItem.putString(b, words[<i32>((v + k) % 4)]);
          this.sC.end(b);
        }
        this.s.end(b);
      }

      if (v % 6 == 5) {
        this.m.putNull(b);
      } else {
        this.m.begin(b);
        for (let k: i64 = 0; k < v % 3; k++) {
          this.mKey.putString(b, words[<i32>(k + 1)]);
          if (k == 1) this.mVal.putNull(b);
          else this.mVal.put<f64>(b, <f64>v + <f64>k / 2);
        }
        if (bad == "mapkeys") this.mKey.putString(b, words[0]);
        this.m.end(b);
      }

      this.ls.begin(b);
      for (let k: i64 = 0; k < v % 3; k++) {
        if ((v + k) % 4 == 3) {
          this.lsItem.putNull(b);
          continue;
        }
        this.lsItem.begin(b);
        this.lsX.put<i64>(b, 100 * v + k);
        this.lsY.putBool(b, k % 2 == 0);
        this.lsItem.end(b);
      }
      this.ls.end(b);

      this.ll.begin(b);
      for (let k: i64 = 0; k < v % 3; k++) {
        this.llItem.begin(b);
        for (let j: i64 = 0; j < k; j++) this.llItemItem.put<i32>(b, <i32>(v + j));
        this.llItem.end(b);
      }
      this.ll.end(b);
    }
  }
}

register(new NestOut());
