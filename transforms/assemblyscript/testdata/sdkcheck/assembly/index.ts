// sdkcheck exercises the SDK's API through the host
// (transforms/assemblyscript/sdk_test.go); config.mode picks the behaviour.

import {
  Batch, BoolCol, Col, LevelInfo, LevelWarn, Out, OutBool, OutStr, Setup, Stage, StrCol,
  log, read, readBool, readString, register, write, writeBinary, writeBool, writeString,
} from "../../../../../guest-sdk/assemblyscript/assembly";
export * from "../../../../../guest-sdk/assemblyscript/assembly/exports";

class Check extends Stage {
  mode: string = "";
  id: Col<i64> | null = null;
  amount: Col<f64> | null = null;
  country: StrCol | null = null;
  flag: BoolCol | null = null;
  twice: Out<i64> | null = null;
  amt: Out<f64> | null = null;
  upper: OutStr | null = null;
  notFlag: OutBool | null = null;
  raw: OutStr | null = null;

  setup(s: Setup): void {
    let c = s.config(["mode", "opts", "log"]);
    this.mode = c.string("mode");
    let o = c.object("opts", ["n", "on", "names"]);
    let n = o.number("n", 1);
    let on = o.bool("on");
    let names = o.strings("names");
    if (s.failed) return;
    if (c.has("log")) {
      log(LevelInfo, c.string("log") + " stage=" + s.stageName + " columns=" + s.schema.length.toString() +
        " n=" + n.toString() + " on=" + (on ? "yes" : "no") + " names=" + (names == null ? "-" : names.join("+")));
    }
    if (this.mode == "echo") {
      this.id = read<i64>(s, "id");
      this.amount = read<f64>(s, "amount");
      this.country = readString(s, "country");
      this.flag = readBool(s, "flag");
      this.twice = write<i64>(s, "twice", "int64");
      this.amt = write<f64>(s, "amount", "float64");
      this.upper = writeString(s, "upper");
      this.notFlag = writeBool(s, "not_flag");
      this.raw = writeBinary(s, "raw");
      s.dropColumn("email");
    } else if (this.mode == "drop") {
      this.id = read<i64>(s, "id");
      s.filter();
    } else if (this.mode == "unwritten") {
      this.twice = write<i64>(s, "twice", "int64");
    } else if (this.mode == "badtype") {
      read<i32>(s, "id");
      write<f64>(s, "x", "int64");
      s.dropColumn("nope");
    } else if (this.mode != "fail" && this.mode != "abort") {
      s.error("unknown mode " + this.mode);
    }
  }

  process(b: Batch): void {
    let n = b.length;
    if (this.mode == "fail") {
      b.fail("batch of " + n.toString() + " rows failed on purpose");
      return;
    }
    if (this.mode == "abort") {
      if (n > 0) throw new Error("boom ünïcode");
      return;
    }
    if (this.mode == "unwritten") return;
    let id = this.id!.view(b);
    if (this.mode == "drop") {
      for (let i = 0; i < n; i++) {
        if ((id.get(i) & 1) != 0) b.drop(i);
        if (id.get(i) == 13) b.reject(i, "thirteen ×");
      }
      log(LevelWarn, "dropped odd ids");
      return;
    }
    let amount = this.amount!.view(b);
    let country = this.country!.view(b);
    let flag = this.flag!.view(b);
    let twice = this.twice!, amt = this.amt!, notFlag = this.notFlag!;
    let upper = this.upper!.builder(b), raw = this.raw!.builder(b);
    for (let i = 0; i < n; i++) {
      twice.set(b, i, id.get(i) * 2);
      if (amount.valid(i)) amt.set(b, i, amount.get(i) + 0.5);
      else amt.setNull(b, i);
      if (country.valid(i)) {
        upper.appendString(country.toString(i).toUpperCase());
        raw.write(country.ptr(i), country.len(i));
        raw.write(country.ptr(i), country.len(i));
        raw.endRow();
      } else {
        upper.appendNull();
        raw.appendNull();
      }
      if (flag.valid(i)) notFlag.set(b, i, !flag.get(i));
      else notFlag.setNull(b, i);
    }
  }
}

register(new Check());
