//! The SDK's side of the ABI (wasmabi/ABI.md), independent of where guest
//! memory is: bind answers a request, process_batch runs one batch whose
//! header and buffers lie in a region addressed from `base`. The exports
//! in abi.rs feed it the reserved region; the tests feed it a Vec.

use std::cell::RefCell;

use crate::batch::{Batch, Emitted, InCol, Items, RowError, Selection, Span};
use crate::json::{write_str, Json};
use crate::output::{Kind, OutCol, Values};
use crate::setup::{Field, Setup};
use crate::{Fixed, StageV2};

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

/// The stage a bind made: a v1 per-batch function or a v2 stage.
pub(crate) enum Proc {
    V1(ProcessFn),
    V2(Box<dyn StageV2>),
}

#[derive(Default)]
pub(crate) struct Runtime {
    process: Option<Proc>,
    ins: Vec<InCol>,
    /// Input columns of a call without input (dw_finish, dw_watermark):
    /// empty views.
    no_ins: Vec<InCol>,
    /// v2: the rows the last call emitted.
    pub(crate) emitted: RefCell<Emitted>,
    pub(crate) outs: Vec<RefCell<OutCol>>,
    pub(crate) sel: RefCell<Selection>,
    pub(crate) errs: RefCell<Vec<RowError>>,
    pub(crate) n: usize,
    pub(crate) nodes: crate::nested_out::Nodes,
}

impl Runtime {
    /// Answers the bind request of a v1 stage with the JSON response.
    pub fn bind<F, P>(&mut self, req: &[u8], setup: F) -> String
    where
        F: FnOnce(&mut Setup) -> Result<P, String>,
        P: for<'a, 'b> FnMut(&'a Batch<'b>) -> Result<(), String> + 'static,
    {
        self.answer(req, 1, |s| Ok(Proc::V1(Box::new(setup(s)?))))
    }

    /// Answers the bind request of a v2 stage.
    pub fn bind_v2<F, S>(&mut self, req: &[u8], setup: F) -> String
    where
        F: FnOnce(&mut Setup) -> Result<S, String>,
        S: StageV2,
    {
        self.answer(req, 2, |s| Ok(Proc::V2(Box::new(setup(s)?))))
    }

    fn answer(&mut self, req: &[u8], abi: i32, setup: impl FnOnce(&mut Setup) -> Result<Proc, String>) -> String {
        self.process = None;
        match self.try_bind(req, abi, setup) {
            Ok(resp) => resp,
            Err(e) => {
                let mut out = String::from("{\"error\":");
                write_str(&mut out, &e);
                out.push('}');
                out
            }
        }
    }

    fn try_bind(
        &mut self,
        req: &[u8],
        abi: i32,
        setup: impl FnOnce(&mut Setup) -> Result<Proc, String>,
    ) -> Result<String, String> {
        let req = Json::parse(req).map_err(|e| format!("bind request: {}", e))?;
        let (stage, schema) = parse_request(&req, abi)?;
        let mut s = Setup::new(stage, schema, req.get("config").cloned().unwrap_or(Json::Null));
        s.abi = abi;
        s.event_time = req.get("event_time").and_then(Json::as_str).map(str::to_string);
        let f = setup(&mut s)?;
        s.err()?;
        let mut outs = Vec::with_capacity(s.writes.len());
        for w in &s.writes {
            let (code, kind, values) = type_code(&w.ty)
                .or_else(|| crate::nested_out::nested_code(&w.ty).map(|(c, _)| (c, Kind::Nested, Values::None)))
                .ok_or_else(|| format!("column {:?}: type {:?} is not in ABI v1", w.name, w.ty))?;
            outs.push(RefCell::new(OutCol::new(w.name.clone(), code, kind, values)));
        }
        self.outs = outs;
        self.nodes = std::mem::take(&mut s.nodes);
        self.ins = vec![InCol::default(); s.reads.len()];
        self.no_ins = vec![InCol::default(); s.reads.len()];
        self.process = Some(f);

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
        out.push_str(if s.filter { "true" } else { "false" });
        if s.drop_all {
            out.push_str(",\"drop_all\":true");
        }
        if s.state {
            out.push_str(",\"state\":true");
        }
        out.push('}');
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
        if self.process.is_none() || at(ptr, 16).is_none() {
            return Err("dw_process before dw_bind, or batch header outside the reserved region".into());
        }
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
            c.fields.clear();
            if code == CODE_STRUCT {
                // A struct's fields have its rows (nested_in.rs).
                struct_fields(region, &at, vals, vlen, n, &mut c.fields).map_err(|e| format!("column {}: {}", i, e))?;
                continue;
            }
            if code == CODE_LIST {
                c.offsets = at(offs, (n + 1) * 4)
                    .ok_or_else(|| format!("column {}: list offsets outside the reserved region", i))?;
                let kid = at(vals, 32)
                    .filter(|_| vlen == 1)
                    .ok_or_else(|| format!("column {}: list item descriptor outside the reserved region", i))?;
                let o = c.offsets.off;
                let rows = u32_at(o + 4 * n).wrapping_sub(u32_at(o)) as i32;
                if rows < 0 {
                    return Err(format!("column {}: list offsets go backwards", i));
                }
                c.items = items(region, &at, kid.off, rows as usize)
                    .map_err(|e| format!("column {}: list items: {}", i, e))?;
                if region[kid.off + 4] == CODE_STRUCT {
                    let (kids, nkids) = (u32_at(kid.off + 20), u32_at(kid.off + 24) as usize);
                    struct_fields(region, &at, kids, nkids, rows as usize, &mut c.fields)
                        .map_err(|e| format!("column {}: list items: {}", i, e))?;
                }
                continue;
            }
            if vlen > 0 {
                c.values = at(vals, vlen).ok_or_else(|| format!("column {}: values outside the reserved region", i))?;
            }
        }
        self.n = n;
        self.call(region, false, |p, b| match p {
            Proc::V1(f) => f(b),
            Proc::V2(st) => st.process(b),
        })
    }

    /// Runs a v2 call on no input rows (dw_finish, dw_watermark).
    pub fn no_input(&mut self, f: impl FnOnce(&mut dyn StageV2, &Batch) -> Result<(), String>) -> Result<(), String> {
        match &self.process {
            Some(Proc::V2(_)) => {}
            _ => return Err("called before a successful dw_bind of a v2 stage".into()),
        }
        self.n = 0;
        self.call(&[], true, |p, b| match p {
            Proc::V2(st) => f(&mut **st, b),
            Proc::V1(_) => unreachable!(),
        })
    }

    /// Whether the bound stage speaks v2.
    pub fn is_v2(&self) -> bool {
        matches!(self.process, Some(Proc::V2(_)))
    }

    /// Writes the v2 stage's state into out (emptied first).
    pub fn snapshot(&mut self, out: &mut Vec<u8>) {
        out.clear();
        if let Some(Proc::V2(st)) = &self.process {
            st.snapshot(out);
        }
    }

    /// Hands the v2 stage its saved state.
    pub fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        match &mut self.process {
            Some(Proc::V2(st)) => st.restore(state),
            _ => Err("restore before a successful dw_bind of a v2 stage".into()),
        }
    }

    /// Runs f on a batch of self.n rows over region, then checks the
    /// output columns: v1's have n rows, v2's the rows emitted.
    fn call(
        &mut self,
        region: &[u8],
        no_input: bool,
        f: impl FnOnce(&mut Proc, &Batch) -> Result<(), String>,
    ) -> Result<(), String> {
        let n = self.n;
        let v2 = self.is_v2();
        for c in &mut self.outs {
            let c = c.get_mut();
            if v2 {
                c.start_v2();
            } else {
                c.touched = false;
            }
        }
        if v2 {
            self.nodes.start();
        }
        self.sel.get_mut().active = false;
        self.errs.get_mut().clear();
        let e = self.emitted.get_mut();
        e.origins.clear();
        e.any = false;
        let b = Batch {
            n,
            arena: region,
            ins: if no_input { &self.no_ins } else { &self.ins },
            outs: &self.outs,
            sel: &self.sel,
            errs: &self.errs,
            emitted: if v2 { Some(&self.emitted) } else { None },
            nodes: &self.nodes,
        };
        f(self.process.as_mut().expect("bound"), &b)?;
        if v2 {
            let m = self.emitted.get_mut().origins.len();
            // A nested column's own failures (a row begun and not
            // ended) say more than the count of its rows.
            self.nodes.check(&self.outs)?;
            for c in &mut self.outs {
                c.get_mut().check_v2(m)?;
            }
        } else {
            for c in &self.outs {
                c.borrow().check(n)?;
            }
        }
        Ok(())
    }
}

fn parse_request(req: &Json, abi: i32) -> Result<(String, Vec<Field>), String> {
    if let Some(v) = req.get("abi") {
        if v.as_f64() != Some(abi as f64) {
            // The host checked dw_abi_version first: this is a broken host.
            return Err(format!(
                "bind request for another ABI version, this stage speaks {}",
                abi
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

/// The code of a list column (ABI v2 nested types, wasmabi/ABI.md).
pub(crate) const CODE_LIST: u8 = 19;
use crate::nested_out::CODE_STRUCT;

/// struct_fields resolves the nkids field descriptors at guest address
/// kids of a struct of `rows` rows into out (reused from batch to batch).
fn struct_fields(
    region: &[u8],
    at: &dyn Fn(u32, usize) -> Option<Span>,
    kids: u32,
    nkids: usize,
    rows: usize,
    out: &mut Vec<Items>,
) -> Result<(), String> {
    let d = at(kids, 32 * nkids)
        .filter(|_| nkids > 0)
        .ok_or("struct child descriptors outside the reserved region")?;
    for k in 0..nkids {
        let code = region[d.off + 32 * k + 4];
        if code >= CODE_LIST {
            return Err(format!(
                "field {}: a nested field (the SDK reads structs of v1 types)",
                k
            ));
        }
        out.push(items(region, at, d.off + 32 * k, rows).map_err(|e| format!("field {}: {}", k, e))?);
    }
    Ok(())
}

/// items resolves a list's item descriptor at offset d of the region, of
/// `rows` rows; `at` maps a host pointer and a length to a span of it.
fn items(region: &[u8], at: &dyn Fn(u32, usize) -> Option<Span>, d: usize, rows: usize) -> Result<Items, String> {
    let u32_at = |off: usize| u32::from_le_bytes([region[off], region[off + 1], region[off + 2], region[off + 3]]);
    let code = region[d + 4];
    let (valid, offs, vals, vlen) = (u32_at(d + 12), u32_at(d + 16), u32_at(d + 20), u32_at(d + 24) as usize);
    let mut it = Items {
        rows,
        large: code == CODE_LARGE_UTF8 || code == CODE_LARGE_BINARY,
        ..Items::default()
    };
    if valid != 0 {
        it.valid = Some(at(valid, (rows + 7) / 8).ok_or("validity outside the reserved region")?);
    }
    if (CODE_UTF8..=CODE_LARGE_BINARY).contains(&code) {
        let w = if it.large { 8 } else { 4 };
        it.offsets = at(offs, (rows + 1) * w).ok_or("offsets outside the reserved region")?;
    }
    if vlen > 0 {
        it.values = at(vals, vlen).ok_or("values outside the reserved region")?;
    }
    Ok(it)
}
