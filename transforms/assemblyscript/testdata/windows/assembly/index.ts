// windows answers the window helpers' requests (hop, Sessions) in the
// line protocol of internal/windowtest, which the C SDK's native harness
// (guest-sdk/c/sdktest/testdata/harness.c) speaks too: each row's utf8
// "req" is one request, its utf8 "resp" the answer's lines, joined by
// newlines. transforms/assemblyscript/windows_test.go checks the answers
// against the windows' definitions on the cases the C test uses.

import {
  Batch, OutStr, Sessions, Setup, Stage, StrCol, hop, readString, register, writeString,
} from "../../../../../guest-sdk/assemblyscript/assembly";
export * from "../../../../../guest-sdk/assemblyscript/assembly/exports";

// The starts a hop answer lists, as the C harness's.
const maxStarts = 64;

class Windows extends Stage {
  req: StrCol | null = null;
  resp: OutStr | null = null;
  starts: Array<i64> = new Array<i64>(maxStarts);
  sessions: Sessions = new Sessions();

  setup(s: Setup): void {
    this.req = readString(s, "req");
    this.resp = writeString(s, "resp");
  }

  process(b: Batch): void {
    let req = this.req!.view(b);
    let out = this.resp!.builder(b);
    for (let i = 0; i < b.length; i++) {
      let f = req.toString(i).split(" ");
      let answer = "";
      if (f[0] == "hop") answer = this.hop(I64.parseInt(f[1]), I64.parseInt(f[2]), I64.parseInt(f[3]));
      else if (f[0] == "session") answer = this.session(f);
      else {
        b.fail("windows: bad request " + req.toString(i));
        return;
      }
      out.appendString(answer);
    }
  }

  hop(t: i64, w: i64, s: i64): string {
    let n = hop(t, w, s, this.starts);
    let line = n.toString();
    for (let k = 0; k < n && k < maxStarts; k++) line += " " + this.starts[<i32>k].toString();
    return line;
  }

  // session adds one key's rows in arrival order; the watermark is the
  // largest time seen minus lateness, and rows at or behind it are late,
  // as window_agg treats them.
  session(f: string[]): string {
    let gap = I64.parseInt(f[1]), lateness = I64.parseInt(f[2]);
    let s = this.sessions;
    s.clear();
    let out = "";
    let seen = false;
    let max: i64 = 0;
    for (let j = 3; j < f.length; j++) {
      let t = I64.parseInt(f[j]);
      if (seen && t <= max - lateness) {
        out += "late " + t.toString() + "\n";
        continue;
      }
      let at = s.add(t, gap);
      if (!(s.start(at) <= t && t <= s.last(at))) out += "wrong index " + at.toString() + " for " + t.toString() + "\n";
      if (!seen || t > max) {
        max = t;
        seen = true;
      }
      let k = s.closed(max - lateness, gap);
      for (let i = 0; i < k; i++) out += "closed " + s.start(i).toString() + " " + s.last(i).toString() + "\n";
      s.dropFirst(k);
    }
    for (let i = 0; i < s.length; i++) out += "open " + s.start(i).toString() + " " + s.last(i).toString() + "\n";
    return out + "end";
  }
}

register(new Windows());
