//! Logging through the host (the `dataweaver.log` import).

/// Log levels, numbered as the host's log/slog numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Level {
    Debug = -4,
    Info = 0,
    Warn = 4,
    Error = 8,
}

/// Writes one line to the host's log, tagged with the stage's name. The
/// host truncates messages at 64 KiB.
pub fn log(level: Level, msg: &str) {
    host_log(level as i32, msg);
}

#[cfg(target_arch = "wasm32")]
fn host_log(level: i32, msg: &str) {
    #[link(wasm_import_module = "dataweaver")]
    extern "C" {
        #[link_name = "log"]
        fn dw_log(level: i32, ptr: *const u8, len: usize);
    }
    // SAFETY: the host reads len bytes at ptr from guest memory during the
    // call and keeps nothing; msg is valid for that long.
    unsafe { dw_log(level, msg.as_ptr(), msg.len()) }
}

/// Outside Wasm (native unit tests of a stage's logic) the line goes to
/// stderr.
#[cfg(not(target_arch = "wasm32"))]
fn host_log(level: i32, msg: &str) {
    eprintln!("level={} {}", level, msg);
}
