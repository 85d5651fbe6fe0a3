//! The SDK's side of the ABI (wasmabi/ABI.md), independent of where guest
//! memory is: bind answers a request, process_batch runs one batch whose
//! header and buffers lie in a region addressed from `base`. The exports
//! in abi.rs feed it the reserved region; the tests feed it a Vec.

use std::cell::RefCell;

use crate::batch::{Batch, InCol, RowError, Selection, Span};
use crate::json::{write_str, Json};
use crate::output::{Kind, OutCol, Values};
use crate::setup::{Field, Setup};
use crate::Fixed;

/// A stage's per-batch function, as the runtime keeps it.
pub(crate) type ProcessFn = Box<dyn for<'a, 'b> FnMut(&'a Batch<'b>) -> Result<(), String>>;

/// Type codes of the column descriptors.
pub(crate) const CODE_UTF8: u8 = 12;
pub(crate) const CODE_BINARY: u8 = 13;
pub(crate) const CODE_LARGE_UTF8: u8 = 14;
pub(crate) const CODE_LARGE_BINARY: u8 = 15;

/// The descriptor code of an ABI type name, the buffers it has and, for
/// fixed-width types, typed storage for an output column of it.
pub(crate) fn type_code(ty: &str) -> Option<(u8, Kind, Values)> {
    fn fixed<T: Fixed>(code: u8) -> Option<(u8, Kind, Values)> {
        Some((code, Kind::Fixed, T::new_storage()))
    }
    match ty {
        "bool" => Some((1, Kind::Bool, Values::None)),
        "int8" => fixed::<i8>(2),
        "int16" => fixed::<i16>(3),
        "int32" => fixed::<i32>(4),
        "int64" => fixed::<i64>(5),
        "uint8" => fixed::<u8>(6),
        "uint16" => fixed::<u16>(7),
        "uint32" => fixed::<u32>(8),
        "uint64" => fixed::<u64>(9),
        "float32" => fixed::<f32>(10),
        "float64" => fixed::<f64>(11),
        "utf8" => Some((CODE_UTF8, Kind::Var, Values::None)),
        "binary" => Some((CODE_BINARY, Kind::Var, Values::None)),
        "large_utf8" => Some((CODE_LARGE_UTF8, Kind::Var, Values::None)),
        "large_binary" => Some((CODE_LARGE_BINARY, Kind::Var, Values::None)),
        "date32" => fixed::<i32>(16),
        t if t.starts_with("timestamp[") => fixed::<i64>(17),
        t if t.starts_with("decimal128(") => fixed::<crate::Decimal128>(18),
        _ => None,
    }
}

#[derive(Default)]
pub(crate) struct Runtime {
    process: Option<ProcessFn>,
    ins: Vec<InCol>,
    pub(crate) outs: Vec<RefCell<OutCol>>,
    pub(crate) sel: RefCell<Selection>,
    pub(crate) errs: RefCell<Vec<RowError>>,
    pub(crate) n: usize,
}

impl Runtime {
    /// Answers the bind request with the JSON response.
    pub fn bind<F, P>(&mut self, req: &[u8], setup: F) -> String
    where
        F: FnOnce(&mut Setup) -> Result<P, String>,
        P: for<'a, 'b> FnMut(&'a Batch<'b>) -> Result<(), String> + 'static,
    {
        self.process = None;
        match self.try_bind(req, setup) {
            Ok(resp) => resp,
            Err(e) => {
                let mut out = String::from("{\"error\":");
                write_str(&mut out, &e);
                out.push('}');
                out
            }
        }
    }

    fn try_bind<F, P>(&mut self, req: &[u8], setup: F) -> Result<String, String>
    where
        F: FnOnce(&mut Setup) -> Result<P, String>,
        P: for<'a, 'b> FnMut(&'a Batch<'b>) -> Result<(), String> + 'static,
    {
        let req = Json::parse(req).map_err(|e| format!("bind request: {}", e))?;
        let (stage, schema) = parse_request(&req)?;
        let mut s = Setup::new(stage, schema, req.get("config").cloned().unwrap_or(Json::Null));
        let f = setup(&mut s)?;
        s.err()?;
        let mut outs = Vec::with_capacity(s.writes.len());
        for w in &s.writes {
            let (code, kind, values) =
                type_code(&w.ty).ok_or_else(|| format!("column {:?}: type {:?} is not in ABI v1", w.name, w.ty))?;
            outs.push(RefCell::new(OutCol::new(w.name.clone(), code, kind, values)));
        }
        self.outs = outs;
        self.ins = vec![InCol::default(); s.reads.len()];
        self.process = Some(Box::new(f));

        let mut out = String::from("{\"reads\":[");
        for (i, r) in s.reads.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(&mut out, r);
        }
        out.push_str("],\"writes\":[");
        for (i, w) in s.writes.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"name\":");
            write_str(&mut out, &w.name);
            out.push_str(",\"type\":");
            write_str(&mut out, &w.ty);
            out.push_str(if w.nullable {
                ",\"nullable\":true}"
            } else {
                ",\"nullable\":false}"
            });
        }
        out.push_str("],\"drops\":[");
        for (i, d) in s.drops.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(&mut out, d);
        }
        out.push_str("],\"filter\":");
        out.push_str(if s.filter { "true}" } else { "false}" });
        Ok(out)
    }

    /// Runs the batch whose header is at address ptr; region holds guest
    /// memory from address base on. On success the outputs, selection and
    /// rejections are in self for the result header.
    pub fn process_batch(&mut self, region: &[u8], base: u32, ptr: u32) -> Result<(), String> {
        let at = |p: u32, len: usize| -> Option<Span> {
            let off = p.checked_sub(base)? as usize;
            if p == 0 || off.checked_add(len)? > region.len() {
                return None;
            }
            Some(Span { off, len })
        };
        let u32_at = |off: usize| u32::from_le_bytes([region[off], region[off + 1], region[off + 2], region[off + 3]]);
        let process = match (&mut self.process, at(ptr, 16)) {
            (Some(p), Some(_)) => p,
            _ => return Err("dw_process before dw_bind, or batch header outside the reserved region".into()),
        };
        let hdr = (ptr - base) as usize;
        let (n, ncols) = (u32_at(hdr) as usize, u32_at(hdr + 4) as usize);
        if ncols != self.ins.len() {
            return Err(format!(
                "host sent {} columns, the stage reads {}",
                ncols,
                self.ins.len()
            ));
        }
        if ncols > 0 && at(ptr + 16, 32 * ncols).is_none() {
            return Err("column descriptors outside the reserved region".into());
        }
        for (i, c) in self.ins.iter_mut().enumerate() {
            let d = hdr + 16 + 32 * i;
            let code = region[d + 4];
            let (valid, offs, vals, vlen) = (u32_at(d + 12), u32_at(d + 16), u32_at(d + 20), u32_at(d + 24) as usize);
            c.large = code == CODE_LARGE_UTF8 || code == CODE_LARGE_BINARY;
            c.valid = None;
            if valid != 0 {
                c.valid = Some(
                    at(valid, (n + 7) / 8)
                        .ok_or_else(|| format!("column {}: validity outside the reserved region", i))?,
                );
            }
            c.offsets = Span::default();
            if (CODE_UTF8..=CODE_LARGE_BINARY).contains(&code) {
                let w = if c.large { 8 } else { 4 };
                c.offsets = at(offs, (n + 1) * w)
                    .ok_or_else(|| format!("column {}: offsets outside the reserved region", i))?;
            }
            c.values = Span::default();
            if vlen > 0 {
                c.values = at(vals, vlen).ok_or_else(|| format!("column {}: values outside the reserved region", i))?;
            }
        }
        for c in &mut self.outs {
            c.get_mut().touched = false;
        }
        self.sel.get_mut().active = false;
        self.errs.get_mut().clear();
        self.n = n;
        let b = Batch {
            n,
            arena: region,
            ins: &self.ins,
            outs: &self.outs,
            sel: &self.sel,
            errs: &self.errs,
        };
        process(&b)?;
        for c in &self.outs {
            c.borrow().check(n)?;
        }
        Ok(())
    }
}

fn parse_request(req: &Json) -> Result<(String, Vec<Field>), String> {
    if let Some(v) = req.get("abi") {
        if v.as_f64() != Some(crate::ABI_VERSION as f64) {
            // The host checked dw_abi_version first: this is a broken host.
            return Err(format!(
                "bind request for another ABI version, this SDK speaks {}",
                crate::ABI_VERSION
            ));
        }
    }
    let stage = req.get("stage").and_then(Json::as_str).unwrap_or("").to_string();
    let mut schema = vec![];
    for f in req.get("schema").and_then(Json::as_array).unwrap_or(&[]) {
        let name = f.get("name").and_then(Json::as_str);
        let ty = f.get("type").and_then(Json::as_str);
        match (name, ty) {
            (Some(name), Some(ty)) => schema.push(Field {
                name: name.to_string(),
                ty: ty.to_string(),
                nullable: f.get("nullable").and_then(Json::as_bool).unwrap_or(false),
            }),
            _ => return Err("bind request: a schema field lacks its name or type".into()),
        }
    }
    Ok((stage, schema))
}
