import { Batch } from "./batch";
import { JSONValue, Kind } from "./json";

/** Field is one column of a schema as the ABI names it: type is "int64",
 * "utf8", "timestamp[us, UTC]", "decimal128(10,2)" and so on. */
export class Field {
  constructor(public name: string, public type: string, public nullable: bool) {}
}

/**
 * Stage is a transform. setup runs at bind time, once per instance, with
 * the configuration and input schema: it declares the columns the stage
 * reads and writes (read, write…) and records problems with Setup.error.
 * process runs once per batch.
 *
 * AssemblyScript has no closures, so what Go's SetupFunc captures lives in
 * the stage's fields.
 */
export abstract class Stage {
  abstract setup(s: Setup): void;
  abstract process(b: Batch): void;
}

/** @internal The stage register() was given. */
export let registered: Stage | null = null;

/** Registers the transform: call it once, at the top level of the entry
 * file (top-level code runs from _initialize). */
export function register(stage: Stage): void {
  registered = stage;
}

/** What a Stage's setup declares the stage with. */
export class Setup {
  /** The pipeline step's name ("stages[1].wasm"), for messages. */
  stageName: string = "";
  /** The input schema. */
  schema: Field[] = [];

  /** @internal */ configValue: JSONValue | null = null;
  /** @internal */ reads: string[] = [];
  /** @internal */ writes: Field[] = [];
  /** @internal */ drops: string[] = [];
  /** @internal */ filtering: bool = false;
  /** @internal */ errs: string[] = [];
  /** @internal v2: every input column dropped (dropAll). */ dropsAll: bool = false;
  /** @internal v2: state kept across batches (keepState). */ keepsState: bool = false;
  /** v2: the event-time column the pipeline declared for this stage (the
   * wasm stage's event_time), or "" when none: the host then calls
   * StageV2.watermark after batches that advance the watermark. */
  eventTime: string = "";

  /**
   * Returns the stage's `config:` mapping. known lists every key the stage
   * understands: any other key is an error, so a typo in a pipeline file
   * is reported when the pipeline is validated (Go's DisallowUnknownFields).
   * Keys match as in Go's encoding/json: exactly or ignoring case, the last
   * occurrence winning.
   */
  config(known: string[]): Config {
    let v = this.configValue;
    if (v != null && v.kind != Kind.Object && v.kind != Kind.Null) {
      this.error("config: want a mapping, got " + v.typeName());
      v = null;
    }
    let c = new Config(this, v != null && v.kind == Kind.Object ? v : null, "config: ");
    c.check(known);
    return c;
  }

  /** The input column called name, or null. */
  field(name: string): Field | null {
    let sc = this.schema;
    for (let i = 0; i < sc.length; i++) {
      if (sc[i].name == name) return sc[i];
    }
    return null;
  }

  /** Declares that the stage drops rows (Batch.drop, Batch.keepBits). */
  filter(): void {
    this.filtering = true;
  }

  /** v2: drops every input column: the output is the written columns
   * only, so emitted rows need no origin (an aggregate). Without it, input
   * columns pass through, taken from each emitted row's origin. */
  dropAll(): void {
    this.dropsAll = true;
  }

  /** v2: declares that the stage keeps state across batches: the host
   * calls StageV2.snapshot at every checkpoint and StageV2.restore on a
   * fresh instance when a run resumes. A stateful stage runs one instance
   * and any failed call fails the run. */
  keepState(): void {
    this.keepsState = true;
  }

  /** Removes an input column from the stage's output. */
  dropColumn(name: string): void {
    if (this.field(name) == null) {
      this.error("drop: no column " + quote(name) + " in the input (columns: " + this.columnList() + ")");
      return;
    }
    this.drops.push(name);
  }

  /** Records a setup error; the stage fails to bind with every message
   * recorded (read and write use it, so a setup can declare all its
   * columns and check `failed` once). */
  error(msg: string): void {
    this.errs.push(msg);
  }

  /** Whether an error has been recorded. */
  get failed(): bool {
    return this.errs.length > 0;
  }

  /** The errors recorded so far, joined, or "". */
  err(): string {
    return this.errs.join("; ");
  }

  /** @internal */ columnList(): string {
    let names = new Array<string>(this.schema.length);
    for (let i = 0; i < this.schema.length; i++) names[i] = this.schema[i].name;
    return names.join(", ");
  }

  /** @internal Declares a read of column name whose type satisfied the
   * caller (ok), returning its slot, or -1 after recording an error. */
  addRead(name: string, f: Field | null, ok: bool, want: string): i32 {
    if (f == null) {
      this.error("no column " + quote(name) + " in the input (columns: " + this.columnList() + ")");
      return -1;
    }
    if (!ok) {
      this.error("column " + quote(name) + " is " + f.type + ", this stage reads it as " + want);
      return -1;
    }
    for (let i = 0; i < this.reads.length; i++) {
      if (this.reads[i] == name) return i;
    }
    this.reads.push(name);
    return this.reads.length - 1;
  }

  /** @internal */ addWrite(name: string, typ: string): i32 {
    for (let i = 0; i < this.writes.length; i++) {
      if (this.writes[i].name == name) {
        this.error("column " + quote(name) + " is written twice");
        return i;
      }
    }
    this.writes.push(new Field(name, typ, true));
    return this.writes.length - 1;
  }
}

/** quote returns s in double quotes, for messages. */
export function quote(s: string): string {
  return '"' + s + '"';
}

/**
 * Config is a read-only view of a JSON object in the stage's
 * configuration. Accessors return the default when the key is absent or
 * null, and record an error on the Setup when the value has another type.
 */
export class Config {
  constructor(private setup: Setup, private obj: JSONValue | null, private prefix: string) {}

  /** @internal Records an error for each key not in known. */
  check(known: string[]): void {
    let o = this.obj;
    if (o == null) return;
    let keys = o.keys!;
    for (let i = 0; i < keys.length; i++) {
      let ok = false;
      for (let j = 0; j < known.length; j++) {
        if (keyMatches(keys[i], known[j])) { ok = true; break; }
      }
      if (!ok) this.setup.error(this.prefix + "unknown field " + quote(String.UTF8.decode(keys[i])));
    }
  }

  /**
   * The value of key: the last member whose key matches, or null. With
   * skipNull a null member is passed over, as Go leaves a string or number
   * field unchanged when it decodes null into it.
   */
  value(key: string, skipNull: bool = false): JSONValue | null {
    let o = this.obj;
    if (o == null) return null;
    let keys = o.keys!, items = o.items!;
    for (let i = keys.length - 1; i >= 0; i--) {
      if (keyMatches(keys[i], key)) {
        let v = items[i];
        if (v.kind == Kind.Null) {
          if (skipNull) continue;
          return null;
        }
        return v;
      }
    }
    return null;
  }

  /** Whether key is present and not null. */
  has(key: string): bool {
    return this.value(key, true) != null;
  }

  private wrong(key: string, want: string, v: JSONValue): void {
    this.setup.error(this.prefix + key + ": want " + want + ", got " + v.typeName());
  }

  /** The string at key, or def. */
  string(key: string, def: string = ""): string {
    let v = this.value(key, true);
    if (v == null) return def;
    if (v.kind != Kind.String) {
      this.wrong(key, "a string", v);
      return def;
    }
    return v.toString();
  }

  /** The number at key, or def. */
  number(key: string, def: f64 = 0): f64 {
    let v = this.value(key, true);
    if (v == null) return def;
    if (v.kind != Kind.Number) {
      this.wrong(key, "a number", v);
      return def;
    }
    return v.num;
  }

  /** The boolean at key, or def. */
  bool(key: string, def: bool = false): bool {
    let v = this.value(key, true);
    if (v == null) return def;
    if (v.kind != Kind.Bool) {
      this.wrong(key, "true or false", v);
      return def;
    }
    return v.bool;
  }

  /** The list of strings at key, or null when it is absent or null. A
   * null element is "" (Go's rule for a []string). */
  strings(key: string): string[] | null {
    let v = this.value(key);
    if (v == null) return null;
    if (v.kind != Kind.Array) {
      this.wrong(key, "a list of strings", v);
      return null;
    }
    let items = v.items!;
    let out = new Array<string>(items.length);
    for (let i = 0; i < items.length; i++) {
      let e = items[i];
      if (e.kind == Kind.Null) {
        out[i] = "";
      } else if (e.kind == Kind.String) {
        out[i] = e.toString();
      } else {
        this.wrong(key + "[" + i.toString() + "]", "a string", e);
        return null;
      }
    }
    return out;
  }

  /** The object at key as a Config checked against known (an empty
   * Config when absent). */
  object(key: string, known: string[]): Config {
    let v = this.value(key, true);
    if (v != null && v.kind != Kind.Object) {
      this.wrong(key, "a mapping", v);
      v = null;
    }
    let c = new Config(this.setup, v, this.prefix + key + ".");
    c.check(known);
    return c;
  }
}

// keyMatches is Go encoding/json's field match for an ASCII name: equal
// ignoring case, where U+212A (Kelvin) folds to k and U+017F (long s) to s.
function keyMatches(key: ArrayBuffer, name: string): bool {
  let p = changetype<usize>(key);
  let n = <usize>key.byteLength;
  let j = 0;
  let i: usize = 0;
  while (i < n) {
    if (j >= name.length) return false;
    let c = <u32>load<u8>(p + i);
    if (c >= 0x80) {
      if (c == 0xe2 && i + 2 < n && load<u8>(p + i + 1) == 0x84 && load<u8>(p + i + 2) == 0xaa) {
        c = 0x6b;
        i += 3;
      } else if (c == 0xc5 && i + 1 < n && load<u8>(p + i + 1) == 0xbf) {
        c = 0x73;
        i += 2;
      } else return false;
    } else i++;
    let d = <u32>name.charCodeAt(j++);
    if (c == d) continue;
    if ((c | 0x20) != (d | 0x20) || (c | 0x20) < 0x61 || (c | 0x20) > 0x7a) return false;
  }
  return j == name.length;
}
