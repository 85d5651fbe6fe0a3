// DataWeaver guest SDK for AssemblyScript (import it as
// "@dataweaver/guest/assembly"; the ABI exports are in ./exports). See
// README.md.

export { Buf, runeLen } from "./buffer";
export { Batch } from "./batch";
export { Col, FixedView, BoolCol, BoolView, StrCol, StrView, read, readBool, readString } from "./column";
export { ListCol, ListView, readList } from "./list";
export { Node, writeNested } from "./nested";
export { Out, OutBool, OutStr, StrBuilder, write, writeBool, writeString, writeBinary } from "./output";
export { Config, Field, Setup, Stage, register } from "./setup";
export { JSONValue, Kind, bytesEqual } from "./json";
export { log, logBytes, LevelDebug, LevelInfo, LevelWarn, LevelError } from "./log";
export { formatFloat } from "./format";
export { NoOrigin, StageV2, StateReader, StateWriter, tumble } from "./v2";
export { Sessions, hop, hopMax } from "./window";
