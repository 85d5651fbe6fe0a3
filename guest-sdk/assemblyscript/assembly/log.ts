import { Buf } from "./buffer";

// Log levels, as the host's log/slog numbers them.
export const LevelDebug = -4;
export const LevelInfo = 0;
export const LevelWarn = 4;
export const LevelError = 8;

// @ts-ignore: decorator
@external("dataweaver", "log")
declare function hostLog(level: i32, ptr: usize, len: u32): void;

const line = new Buf();

/** Writes one line to the host's log, tagged with the stage's name. */
export function log(level: i32, msg: string): void {
  line.len = 0;
  line.str(msg);
  hostLog(level, line.ptr, line.len);
}

/** Writes n bytes of UTF-8 at p as one log line. */
export function logBytes(level: i32, p: usize, n: u32): void {
  hostLog(level, p, n);
}
