//! The bodies of the exports that [`crate::stage!`] defines, and the
//! module's state between calls.
//!
//! State lives in a thread-local RefCell: a wasm32-wasi module has one
//! thread, so it costs one flag check per call, and an export re-entered
//! by mistake panics instead of aliasing the state.

use std::cell::RefCell;

use crate::batch::Batch;
use crate::runtime::{Runtime, CODE_BINARY, CODE_UTF8};
use crate::setup::Setup;
use crate::StageV2;

#[derive(Default)]
struct Guest {
    /// The reserved region is region[start..start+len], 64-byte aligned.
    region: Vec<u8>,
    start: usize,
    len: usize,
    rt: Runtime,
    /// Bind response: u32 length, then the JSON.
    resp: Vec<u8>,
    /// Result header (ABI.md): status, msg, selection, columns, errors.
    result: [u32; 10],
    out_desc: Vec<u32>,
    err_desc: Vec<u32>,
    fail: String,
    /// v2: the snapshot's bytes and header (ptr, len), the refusal of a
    /// restore (u32 length, then the message).
    state: Vec<u8>,
    state_hdr: [u32; 2],
    refusal: Vec<u8>,
}

thread_local! {
    static GUEST: RefCell<Guest> = RefCell::new(Guest::default());
}

fn with<R>(f: impl FnOnce(&mut Guest) -> R) -> R {
    GUEST.with(|g| f(&mut g.borrow_mut()))
}

/// A guest memory address: wasm32 pointers are 32 bits.
fn addr<T>(p: *const T) -> u32 {
    p as usize as u32
}

/// Where a slice is, for a descriptor: address and length, 0 when empty.
fn place<T>(v: &[T]) -> (u32, u32) {
    if v.is_empty() {
        (0, 0)
    } else {
        (addr(v.as_ptr()), std::mem::size_of_val(v) as u32)
    }
}

pub fn initialize() {
    #[cfg(target_arch = "wasm32")]
    {
        extern "C" {
            fn __wasm_call_ctors();
        }
        // SAFETY: __wasm_call_ctors is the function wasm-ld generates to
        // run the module's static constructors (wasi-libc's, if any). A
        // reactor's _initialize calls it once before any other export, as
        // wasi-libc's crt1-reactor.c does; the host runs _initialize once
        // per instance, first (ABI.md). Exporting _initialize is also what
        // stops wasm-ld from wrapping every export in constructor and
        // destructor calls, as it does for a command module.
        unsafe { __wasm_call_ctors() }
    }
}

pub fn reserve(size: i32) -> i32 {
    if size < 0 {
        return 0;
    }
    with(|g| {
        let size = size as usize;
        // Free the old region first: the host owns it only until now.
        g.region = Vec::new();
        let mut v = Vec::new();
        if v.try_reserve_exact(size + 64).is_err() {
            return 0;
        }
        v.resize(size + 64, 0);
        g.region = v;
        let a = addr(g.region.as_ptr()) as usize;
        g.start = (64 - a % 64) % 64;
        g.len = size;
        (a + g.start) as i32
    })
}

pub fn bind<F, P>(ptr: i32, len: i32, setup: F) -> i32
where
    F: FnOnce(&mut Setup) -> Result<P, String>,
    P: for<'a, 'b> FnMut(&'a Batch<'b>) -> Result<(), String> + 'static,
{
    answer(ptr, len, |rt, req| rt.bind(req, setup))
}

pub fn bind_v2<F, S>(ptr: i32, len: i32, setup: F) -> i32
where
    F: FnOnce(&mut Setup) -> Result<S, String>,
    S: StageV2,
{
    answer(ptr, len, |rt, req| rt.bind_v2(req, setup))
}

/// The bytes at ptr..ptr+len of region (whose first byte is at its
/// address), if they lie inside it.
fn slice_of(region: &[u8], ptr: i32, len: i32) -> Option<&[u8]> {
    let off = (ptr as u32).wrapping_sub(addr(region.as_ptr())) as usize;
    match region.get(off..off.wrapping_add(len as u32 as usize)) {
        Some(b) if ptr != 0 => Some(b),
        _ => None,
    }
}

fn answer(ptr: i32, len: i32, bind: impl FnOnce(&mut Runtime, &[u8]) -> String) -> i32 {
    with(|g| {
        let region = &g.region[g.start..g.start + g.len];
        let body = match slice_of(region, ptr, len) {
            Some(req) => bind(&mut g.rt, req),
            _ => "{\"error\":\"bind request outside the reserved region\"}".to_string(),
        };
        g.resp.clear();
        g.resp.extend_from_slice(&(body.len() as u32).to_le_bytes());
        g.resp.extend_from_slice(body.as_bytes());
        addr(g.resp.as_ptr()) as i32
    })
}

pub fn process(ptr: i32) -> i32 {
    with(|g| {
        g.result = [0; 10];
        let region = &g.region[g.start..g.start + g.len];
        let base = addr(region.as_ptr());
        let r = g.rt.process_batch(region, base, ptr as u32);
        result(g, r)
    })
}

/// The result header of a call: its failure, or what it produced.
fn result(g: &mut Guest, r: Result<(), String>) -> i32 {
    g.result = [0; 10];
    match r {
        Ok(()) if g.rt.is_v2() => encode_v2(g),
        Ok(()) => encode(g),
        Err(e) => {
            g.fail = e;
            g.result[0] = 1;
            let (p, len) = place(g.fail.as_bytes());
            g.result[1] = p;
            g.result[2] = len;
        }
    }
    addr(g.result.as_ptr()) as i32
}

pub fn finish() -> i32 {
    with(|g| {
        let r = g.rt.no_input(|st, b| st.finish(b));
        result(g, r)
    })
}

pub fn watermark(lo: i32, hi: i32) -> i32 {
    let wm = ((hi as u32 as u64) << 32 | lo as u32 as u64) as i64;
    with(|g| {
        let r = g.rt.no_input(|st, b| st.watermark(b, wm));
        result(g, r)
    })
}

pub fn snapshot() -> i32 {
    with(|g| {
        g.rt.snapshot(&mut g.state);
        g.state_hdr = [place(&g.state).0, g.state.len() as u32];
        addr(g.state_hdr.as_ptr()) as i32
    })
}

pub fn restore(ptr: i32, len: i32) -> i32 {
    with(|g| {
        let region = &g.region[g.start..g.start + g.len];
        // The stage reads the state during the call and keeps what it
        // needs: the host owns the region again afterwards.
        let r = match slice_of(region, ptr, len) {
            Some(st) => g.rt.restore(st),
            None if len == 0 => g.rt.restore(&[]),
            None => Err("the state is outside the reserved region".to_string()),
        };
        match r {
            Ok(()) => 0,
            Err(msg) => {
                g.refusal.clear();
                g.refusal.extend_from_slice(&(msg.len() as u32).to_le_bytes());
                g.refusal.extend_from_slice(msg.as_bytes());
                addr(g.refusal.as_ptr()) as i32
            }
        }
    })
}

/// Fills the result header from the runtime's outputs.
fn encode(g: &mut Guest) {
    let n = g.rt.n;
    describe(g);
    let rt = &g.rt;
    let sel = rt.sel.borrow();
    if sel.active {
        g.result[3] = 1;
        g.result[4] = addr(sel.bits.as_ptr());
        g.result[5] = ((n + 7) / 8) as u32;
    }
    g.result[6] = rt.outs.len() as u32;
    g.result[7] = place(&g.out_desc).0;
    g.result[8] = (g.err_desc.len() / 3) as u32;
    g.result[9] = place(&g.err_desc).0;
}

/// Fills the v2 result header: the emitted rows, their origins, the
/// columns and the row errors.
fn encode_v2(g: &mut Guest) {
    describe(g);
    let e = g.rt.emitted.borrow();
    let m = e.origins.len();
    g.result[3] = m as u32;
    if e.any && m > 0 {
        g.result[4] = addr(e.origins.as_ptr());
    }
    g.result[5] = g.rt.outs.len() as u32;
    g.result[6] = place(&g.out_desc).0;
    g.result[7] = (g.err_desc.len() / 3) as u32;
    g.result[8] = place(&g.err_desc).0;
}

/// The output column descriptors and row errors of the last call.
fn describe(g: &mut Guest) {
    let rt = &g.rt;
    g.out_desc.clear();
    for (i, c) in rt.outs.iter().enumerate() {
        let c = c.borrow();
        if rt.nodes.is_nested(i) {
            let mut d = [i as u32, c.code as u32, 0, 0, 0, 0, 0, 0];
            if c.nulls.has_null {
                d[3] = addr(c.nulls.valid.as_ptr());
            }
            rt.nodes.describe(i, c.offs.as_ptr(), &mut d, &|p| addr(p));
            g.out_desc.extend_from_slice(&d);
            continue;
        }
        let valid = if c.nulls.has_null {
            addr(c.nulls.valid.as_ptr())
        } else {
            0
        };
        let (offs, (vals, vlen)) = match c.code {
            CODE_UTF8 | CODE_BINARY => (addr(c.offs.as_ptr()), place(&c.bytes)),
            1 => (0, place(&c.bytes)),
            _ => {
                let (p, len) = c.values.raw();
                (0, if len == 0 { (0, 0) } else { (addr(p), len as u32) })
            }
        };
        g.out_desc
            .extend_from_slice(&[i as u32, c.code as u32, 0, valid, offs, vals, vlen, 0]);
    }
    g.err_desc.clear();
    for e in rt.errs.borrow().iter() {
        let (p, len) = place(e.msg.as_bytes());
        g.err_desc.extend_from_slice(&[e.row, p, len]);
    }
}
