// Type codes of the column descriptors (wasmabi/ABI.md).

export const codeBool = 1;
export const codeUTF8 = 12;
export const codeBinary = 13;
export const codeLargeUTF8 = 14;
export const codeLargeBinary = 15;
export const codeDate32 = 16;
export const codeTimestamp = 17;
export const codeDecimal128 = 18;
// ABI v2's nested types ("Nested types").
export const codeList = 19;
export const codeStruct = 20;
export const codeMap = 21;

/** typeCode maps an ABI type name to its descriptor code, 0 if unknown. */
export function typeCode(typ: string): i32 {
  if (typ == "bool") return codeBool;
  if (typ == "int8") return 2;
  if (typ == "int16") return 3;
  if (typ == "int32") return 4;
  if (typ == "int64") return 5;
  if (typ == "uint8") return 6;
  if (typ == "uint16") return 7;
  if (typ == "uint32") return 8;
  if (typ == "uint64") return 9;
  if (typ == "float32") return 10;
  if (typ == "float64") return 11;
  if (typ == "utf8") return codeUTF8;
  if (typ == "binary") return codeBinary;
  if (typ == "large_utf8") return codeLargeUTF8;
  if (typ == "large_binary") return codeLargeBinary;
  if (typ == "date32") return codeDate32;
  if (typ.startsWith("timestamp[")) return codeTimestamp;
  if (typ.startsWith("decimal128(")) return codeDecimal128;
  return 0;
}

/** typeWidth is the value width in bytes of a fixed-width code (0 for bool
 * and variable-width codes). */
export function typeWidth(code: i32): i32 {
  switch (code) {
    case 2: case 6: return 1;
    case 3: case 7: return 2;
    case 4: case 8: case 10: case codeDate32: return 4;
    case 5: case 9: case 11: case codeTimestamp: return 8;
    case codeDecimal128: return 16;
  }
  return 0;
}

/** nestedCode is the type code of a list<…>, struct<…> or map<…> type
 * name, or 0. */
export function nestedCode(t: string): i32 {
  if (!t.endsWith(">")) return 0;
  if (t.startsWith("list<") && t.length > 6) return codeList;
  if (t.startsWith("struct<") && t.length > 8) return codeStruct;
  if (t.startsWith("map<") && t.length > 5) return codeMap;
  return 0;
}

/** listElem is T of a "list<T>" type whose items are of a v1 type, or
 * "" (not a list, or a list of nested items). */
export function listElem(typ: string): string {
  if (!typ.startsWith("list<") || !typ.endsWith(">")) return "";
  let elem = typ.slice(5, typ.length - 1);
  return typeCode(elem) == 0 ? "" : elem;
}

/** isVarWidth: utf8, binary and their large forms. */
export function isVarWidth(typ: string): bool {
  return typ == "utf8" || typ == "binary" || typ == "large_utf8" || typ == "large_binary";
}

/** fits reports whether a column of ABI type typ can be viewed as T:
 * date32 is i32 days, timestamps are i64 in their unit. */
export function fits<T>(typ: string): bool {
  if (isBoolean<T>()) return false;
  if (isFloat<T>()) return sizeof<T>() == 8 ? typ == "float64" : typ == "float32";
  if (!isInteger<T>()) return false;
  if (isSigned<T>()) {
    switch (sizeof<T>()) {
      case 1: return typ == "int8";
      case 2: return typ == "int16";
      case 4: return typ == "int32" || typ == "date32";
      case 8: return typ == "int64" || typ.startsWith("timestamp[");
    }
    return false;
  }
  switch (sizeof<T>()) {
    case 1: return typ == "uint8";
    case 2: return typ == "uint16";
    case 4: return typ == "uint32";
    case 8: return typ == "uint64";
  }
  return false;
}

/** The AssemblyScript name of T, for messages. */
export function typeName<T>(): string {
  if (isFloat<T>()) return sizeof<T>() == 8 ? "f64" : "f32";
  let s = isSigned<T>() ? "i" : "u";
  return s + (sizeof<T>() * 8).toString();
}
