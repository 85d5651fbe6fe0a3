// window_agg counts, sums and averages a value per key per tumbling
// window of event time (ABI v2), the AssemblyScript twin of
// transforms/c/window_agg, with the same output row for row and the same
// state layout: for the orders table, the count, sum and average of
// amount per country per minute of ts.
//
//   stages:
//     - wasm: transforms/assemblyscript/window_agg/window_agg.wasm
//       config: {key: country, value: amount, time: ts, seconds: 60}
//
// Its output is one row per key and window: window_start (the time
// column's type), key (utf8), count (int64, rows), sum and avg (float64,
// over the rows whose value is not null; avg is null when there are
// none). Every input column is dropped.
//
// Without an event-time column declared, the input is taken to arrive in
// event-time order: the open window is emitted when the first row of a
// later window arrives. With one (the wasm stage's event_time and
// lateness, config time naming the same column), several windows stay
// open and each is emitted once the watermark passes its end. Either way
// what is open is emitted at end of input; a row whose window was already
// emitted, or whose key or time is null, is rejected.
//
// The open windows are the stage's state, saved at every checkpoint.
// Groups live in unmanaged buffers (no object per key or per row).

import {
  Batch, Buf, Col, Out, OutStr, Setup, StageV2, StateReader, StateWriter, StrCol,
  read, readString, register, tumble, write, writeString,
} from "../../../../guest-sdk/assemblyscript/assembly";
export * from "../../../../guest-sdk/assemblyscript/assembly/exportsV2";

// One group (a key in a window) is a 40-byte record in groups:
const gWindow = 0; // i64 window start
const gCount = 8; // i64 rows
const gValues = 16; // i64 rows with a value
const gSum = 24; // f64
const gKeyOff = 32; // u32 offset of the key in keys
const gKeyLen = 36; // u32
const gSize: u32 = 40;

// hash is FNV-1a over the key, mixed with the window (as the C twin).
function hash(w: i64, p: usize, n: u32): u32 {
  let h: u32 = 2166136261;
  for (let i: u32 = 0; i < n; i++) h = (h ^ <u32>load<u8>(p + i)) * 16777619;
  return h ^ (<u32>(w ^ (w >> 32))) * 2654435761;
}

// unitPerSecond reads the time unit off an ABI timestamp type name.
function unitPerSecond(t: string): i64 {
  if (t.startsWith("timestamp[s") && t.length > 11 && (t.charAt(11) == "]" || t.charAt(11) == ",")) return 1;
  if (t.startsWith("timestamp[ms")) return 1000;
  if (t.startsWith("timestamp[us")) return 1000000;
  if (t.startsWith("timestamp[ns")) return 1000000000;
  return 0;
}

class WindowAgg extends StageV2 {
  keyCol: StrCol | null = null;
  valCol: Col<f64> | null = null;
  timeCol: Col<i64> | null = null;
  oStart: Out<i64> | null = null;
  oKey: OutStr | null = null;
  oCount: Out<i64> | null = null;
  oSum: Out<f64> | null = null;
  oAvg: Out<f64> | null = null;
  width: i64 = 0; // in the time column's unit
  byWatermark: bool = false;

  // The open groups in order of arrival; latest is the newest window
  // opened, closedBefore the end of the windows already emitted.
  any: bool = false;
  latest: i64 = 0;
  closedBefore: i64 = i64.MIN_VALUE;
  groups: Buf = new Buf();
  keys: Buf = new Buf();
  ngroups: u32 = 0;
  table: Buf = new Buf(); // open addressing: group index + 1, 0 = empty
  tableCap: u32 = 0;

  setup(s: Setup): void {
    let c = s.config(["key", "value", "time", "seconds"]);
    let key = c.string("key", "country");
    let value = c.string("value", "amount");
    let tcol = c.string("time", "ts");
    let seconds = c.number("seconds", 60);
    this.keyCol = readString(s, key);
    this.valCol = read<f64>(s, value);
    this.timeCol = read<i64>(s, tcol);
    let tf = s.field(tcol);
    let per: i64 = tf != null ? unitPerSecond(tf.type) : 0;
    if (tf != null && per == 0) s.error("time column " + tcol + " is " + tf.type + ", want a timestamp");
    if (!(seconds >= 1 && seconds <= 366 * 86400.0) || seconds != <f64>(<i64>seconds)) {
      s.error("seconds must be a whole number of seconds from 1 to a year");
    }
    let ev = s.eventTime;
    if (ev != "" && ev != tcol) {
      s.error("the pipeline's event_time is " + ev + ", but config time is " + tcol + ": window by the column the watermark follows");
    }
    this.byWatermark = ev != "";
    this.width = <i64>seconds * per;
    s.dropAll();
    s.keepState();
    this.oStart = write<i64>(s, "window_start", tf != null ? tf.type : "int64");
    this.oKey = writeString(s, "key");
    this.oCount = write<i64>(s, "count", "int64");
    this.oSum = write<f64>(s, "sum", "float64");
    this.oAvg = write<f64>(s, "avg", "float64");
  }

  rehash(cap: u32): void {
    this.tableCap = cap;
    let t = this.table;
    t.zeroed(cap << 2);
    let g = this.groups.ptr;
    for (let i: u32 = 0; i < this.ngroups; i++) {
      let r = g + <usize>(i * gSize);
      let h = hash(load<i64>(r, gWindow), this.keys.ptr + load<u32>(r, gKeyOff), load<u32>(r, gKeyLen)) & (cap - 1);
      while (load<u32>(t.ptr + (<usize>h << 2)) != 0) h = (h + 1) & (cap - 1);
      store<u32>(t.ptr + (<usize>h << 2), i + 1);
    }
  }

  // groupOf returns the record of key (n bytes at p) in window w, added
  // with zero counts if new.
  groupOf(w: i64, p: usize, n: u32): usize {
    if (2 * (this.ngroups + 1) > <i32>this.tableCap) this.rehash(this.tableCap != 0 ? 2 * this.tableCap : 64);
    let mask = this.tableCap - 1;
    let t = this.table.ptr;
    let h = hash(w, p, n) & mask;
    for (let e = load<u32>(t + (<usize>h << 2)); e != 0; e = load<u32>(t + (<usize>h << 2))) {
      let r = this.groups.ptr + <usize>((e - 1) * gSize);
      if (load<i64>(r, gWindow) == w && load<u32>(r, gKeyLen) == n && memory.compare(this.keys.ptr + load<u32>(r, gKeyOff), p, n) == 0) return r;
      h = (h + 1) & mask;
    }
    let off = this.keys.len;
    this.keys.bytes(p, n);
    let gs = this.groups;
    gs.reserve(gSize);
    let r = gs.ptr + gs.len;
    gs.len += gSize;
    memory.fill(r, 0, gSize);
    store<i64>(r, w, gWindow);
    store<u32>(r, off, gKeyOff);
    store<u32>(r, n, gKeyLen);
    store<u32>(t + (<usize>h << 2), ++this.ngroups);
    return r;
  }

  // closeBefore emits the groups of every window starting before end (in
  // order of arrival) and forgets them.
  closeBefore(b: Batch, end: i64): void {
    let kept: u32 = 0, keptKeys: u32 = 0;
    let g = this.groups.ptr, k = this.keys.ptr;
    for (let i: u32 = 0; i < this.ngroups; i++) {
      let r = g + <usize>(i * gSize);
      let w = load<i64>(r, gWindow);
      let off = load<u32>(r, gKeyOff), len = load<u32>(r, gKeyLen);
      if (w >= end) {
        // Kept groups move down over the emitted ones, keys likewise.
        memory.copy(k + keptKeys, k + off, len);
        store<u32>(r, keptKeys, gKeyOff);
        keptKeys += len;
        memory.copy(g + <usize>(kept * gSize), r, gSize);
        kept++;
        continue;
      }
      b.emit();
      this.oStart!.put(b, w);
      this.oKey!.put(b, k + off, len);
      this.oCount!.put(b, load<i64>(r, gCount));
      let sum = load<f64>(r, gSum);
      this.oSum!.put(b, sum);
      let values = load<i64>(r, gValues);
      if (values != 0) this.oAvg!.put(b, sum / <f64>values);
      else this.oAvg!.putNull(b);
    }
    if (kept != this.ngroups) {
      this.ngroups = kept;
      this.groups.len = kept * gSize;
      this.keys.len = keptKeys;
      this.rehash(this.tableCap != 0 ? this.tableCap : 64);
    }
    if (end > this.closedBefore) this.closedBefore = end;
  }

  process(b: Batch): void {
    let k = this.keyCol!.view(b), v = this.valCol!.view(b), t = this.timeCol!.view(b);
    let width = this.width, byWm = this.byWatermark;
    for (let i = 0; i < b.length; i++) {
      if (!k.valid(i) || !t.valid(i)) {
        b.reject(i, "window_agg: the key or the time is null");
        continue;
      }
      let w = tumble(t.get(i), width);
      if (w < this.closedBefore || (!byWm && this.any && w < this.latest)) {
        b.reject(i, "window_agg: row too late (its window was already emitted)");
        continue;
      }
      if (!byWm && this.any && w > this.latest) this.closeBefore(b, w);
      if (!this.any || w > this.latest) this.latest = w;
      this.any = true;
      let r = this.groupOf(w, k.ptr(i), k.len(i));
      store<i64>(r, load<i64>(r, gCount) + 1, gCount);
      if (v.valid(i)) {
        store<i64>(r, load<i64>(r, gValues) + 1, gValues);
        store<f64>(r, load<f64>(r, gSum) + v.get(i), gSum);
      }
    }
  }

  // A window [w, w+width) is complete once w+width-1 <= wm (no row of
  // time <= wm is still to come).
  watermark(b: Batch, wm: i64): void {
    this.closeBefore(b, wm - this.width + 2);
  }

  // finish emits every open window. Rows of the windows emitted are late
  // from now on, later ones are not (a resumed run may read new files).
  finish(b: Batch): void {
    let end = this.any && this.latest + this.width > this.closedBefore ? this.latest + this.width : this.closedBefore;
    this.closeBefore(b, i64.MAX_VALUE);
    this.closedBefore = end;
    this.any = false;
  }

  // The state, byte for byte the C twin's: "WAG2", the width, any,
  // latest, closedBefore, the number of groups, then per group its
  // window, key length and bytes, count, values, sum.
  snapshot(st: StateWriter): void {
    st.string("WAG2");
    st.i64(this.width);
    st.u8(this.any ? 1 : 0);
    st.i64(this.latest);
    st.i64(this.closedBefore);
    st.u32(this.ngroups);
    for (let i: u32 = 0; i < this.ngroups; i++) {
      let r = this.groups.ptr + <usize>(i * gSize);
      let len = load<u32>(r, gKeyLen);
      st.i64(load<i64>(r, gWindow));
      st.u32(len);
      st.bytes(this.keys.ptr + load<u32>(r, gKeyOff), len);
      st.i64(load<i64>(r, gCount));
      st.i64(load<i64>(r, gValues));
      st.f64(load<f64>(r, gSum));
    }
  }

  restore(st: StateReader): string | null {
    this.ngroups = 0;
    this.groups.len = 0;
    this.keys.len = 0;
    this.rehash(64);
    if (!st.magic("WAG2")) return "not a window_agg state (want WAG2)";
    let w = st.i64();
    let a = st.u8();
    let latest = st.i64(), closed = st.i64();
    let n = st.u32();
    if (st.short) return "state cut short in its header";
    if (w != this.width) return "the state is of windows of another width; reset the positions to change it";
    for (let i: u32 = 0; i < n; i++) {
      let gw = st.i64();
      let kl = st.u32();
      let kp = st.bytes(kl);
      if (st.short) return "state cut short in a key";
      let r = this.groupOf(gw, kp, kl);
      store<i64>(r, st.i64(), gCount);
      store<i64>(r, st.i64(), gValues);
      store<f64>(r, st.f64(), gSum);
      if (st.short) return "state cut short in a group";
    }
    if (st.left != 0) return "state has bytes past its last group";
    this.latest = latest;
    this.closedBefore = closed;
    this.any = a != 0;
    return null;
  }
}

register(new WindowAgg());
