//! A stand-in for the host, for native unit tests of a stage
//! (`cargo test` on the build machine, no Wasm runtime needed). It binds
//! the stage's setup function like the host does and lays batches out
//! in memory in the ABI's format, so a test goes through the same code
//! as the module in a pipeline.
//!
//! ```
//! use dataweaver_guest::testing::{Column, Host};
//! # fn setup(s: &mut dataweaver_guest::Setup) -> Result<dataweaver_guest::Process, String> {
//! #     let a = s.read::<f64>("amount"); s.filter();
//! #     Ok(Box::new(move |b| { let v = a.view(b); for (i, x) in v.values.iter().enumerate() { if *x < 0.0 { b.drop_row(i) } } Ok(()) }))
//! # }
//! let mut host = Host::bind(setup, "{}", &[("amount", "float64")]).unwrap();
//! let out = host.process(&[Column::f64(&[Some(1.0), Some(-2.0), None])]).unwrap();
//! assert_eq!(out.kept(), [true, false, true]);
//! ```

use crate::batch::Batch;
use crate::json::{write_str, Json};
use crate::output::Kind;
use crate::runtime::{type_code, Runtime};
use crate::{bitmap, Fixed, Setup, StageV2};

/// One input column's data, in the ABI's layout.
#[derive(Clone, Debug)]
pub struct Column {
    ty: String,
    len: usize,
    valid: Option<Vec<u8>>,
    offsets: Option<Vec<u8>>,
    values: Vec<u8>,
}

fn validity<T>(v: &[Option<T>]) -> Option<Vec<u8>> {
    if v.iter().all(Option::is_some) {
        return None;
    }
    let mut bits = vec![0u8; (v.len() + 7) / 8];
    for (i, x) in v.iter().enumerate() {
        if x.is_some() {
            bitmap::set(&mut bits, i);
        }
    }
    Some(bits)
}

impl Column {
    /// A fixed-width column of ABI type ty (`int64`, `timestamp[ms]`…).
    pub fn fixed<T: Fixed>(ty: &str, v: &[Option<T>]) -> Column {
        assert!(T::fits(ty), "a {} column cannot hold {}", ty, T::NAME);
        let mut values = Vec::new();
        for x in v {
            x.unwrap_or_default().write_le(&mut values);
        }
        Column {
            ty: ty.into(),
            len: v.len(),
            valid: validity(v),
            offsets: None,
            values,
        }
    }

    pub fn f64(v: &[Option<f64>]) -> Column {
        Column::fixed("float64", v)
    }

    pub fn i64(v: &[Option<i64>]) -> Column {
        Column::fixed("int64", v)
    }

    pub fn i32(v: &[Option<i32>]) -> Column {
        Column::fixed("int32", v)
    }

    pub fn bool(v: &[Option<bool>]) -> Column {
        let mut values = vec![0u8; (v.len() + 7) / 8];
        for (i, x) in v.iter().enumerate() {
            if *x == Some(true) {
                bitmap::set(&mut values, i);
            }
        }
        Column {
            ty: "bool".into(),
            len: v.len(),
            valid: validity(v),
            offsets: None,
            values,
        }
    }

    /// A variable-width column of ABI type ty (utf8, binary, large_utf8,
    /// large_binary). first_offset shifts every offset, as in a sliced
    /// Arrow array (the values then start at that offset).
    pub fn var(ty: &str, v: &[Option<&[u8]>], first_offset: usize) -> Column {
        let large = ty.starts_with("large_");
        let mut offsets = Vec::new();
        let mut values = Vec::new();
        let mut push = |o: usize| {
            if large {
                offsets.extend_from_slice(&(o as i64).to_le_bytes());
            } else {
                offsets.extend_from_slice(&(o as i32).to_le_bytes());
            }
        };
        push(first_offset);
        for x in v {
            values.extend_from_slice(x.unwrap_or_default());
            push(first_offset + values.len());
        }
        Column {
            ty: ty.into(),
            len: v.len(),
            valid: validity(v),
            offsets: Some(offsets),
            values,
        }
    }

    pub fn utf8(v: &[Option<&str>]) -> Column {
        let b: Vec<Option<&[u8]>> = v.iter().map(|x| x.map(str::as_bytes)).collect();
        Column::var("utf8", &b, 0)
    }
}

/// A bound stage.
pub struct Host {
    rt: Runtime,
    schema: Vec<(String, String)>,
    reads: Vec<usize>,
    writes: Vec<String>,
    /// The bind response, as the host would read it.
    pub response: Json,
}

/// The bind request the host sends.
fn request(abi: i32, config: &str, schema: &[(&str, &str)], event_time: Option<&str>) -> String {
    let mut req = format!("{{\"abi\":{},\"stage\":\"stages[0].wasm\",\"config\":", abi);
    req.push_str(config);
    if let Some(ev) = event_time {
        req.push_str(",\"event_time\":");
        write_str(&mut req, ev);
    }
    req.push_str(",\"schema\":[");
    for (i, (name, ty)) in schema.iter().enumerate() {
        if i > 0 {
            req.push(',');
        }
        req.push_str("{\"name\":");
        write_str(&mut req, name);
        req.push_str(",\"type\":");
        write_str(&mut req, ty);
        req.push_str(",\"nullable\":true}");
    }
    req.push_str("]}");
    req
}

impl Host {
    /// Binds setup with config (JSON) on an input schema of (name, type)
    /// pairs. Err is the bind error the host would report.
    pub fn bind<F, P>(setup: F, config: &str, schema: &[(&str, &str)]) -> Result<Host, String>
    where
        F: FnOnce(&mut Setup) -> Result<P, String>,
        P: for<'a, 'b> FnMut(&'a Batch<'b>) -> Result<(), String> + 'static,
    {
        let mut rt = Runtime::default();
        let resp = rt.bind(request(1, config, schema, None).as_bytes(), setup);
        Host::bound(rt, resp, schema)
    }

    /// Binds a v2 stage's setup ([`crate::stage_v2!`]) like
    /// [`Host::bind`]; event_time is the event-time column the pipeline
    /// declares, if any.
    pub fn bind_v2<F, S>(
        setup: F,
        config: &str,
        schema: &[(&str, &str)],
        event_time: Option<&str>,
    ) -> Result<Host, String>
    where
        F: FnOnce(&mut Setup) -> Result<S, String>,
        S: StageV2,
    {
        let mut rt = Runtime::default();
        let resp = rt.bind_v2(request(2, config, schema, event_time).as_bytes(), setup);
        Host::bound(rt, resp, schema)
    }

    fn bound(rt: Runtime, resp: String, schema: &[(&str, &str)]) -> Result<Host, String> {
        let response = Json::parse(resp.as_bytes()).expect("bind response is JSON");
        if let Some(e) = response.get("error").and_then(Json::as_str) {
            return Err(e.to_string());
        }
        let names = |k: &str| -> Vec<String> {
            let list = response.get(k).and_then(Json::as_array).unwrap_or(&[]);
            list.iter()
                .map(|v| v.as_str().or_else(|| v.get("name")?.as_str()).unwrap_or("").to_string())
                .collect()
        };
        let reads = names("reads")
            .iter()
            .map(|r| {
                schema
                    .iter()
                    .position(|(n, _)| n == r)
                    .expect("reads name an input column")
            })
            .collect();
        let writes = names("writes");
        let schema = schema.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        Ok(Host {
            rt,
            schema,
            reads,
            writes,
            response,
        })
    }

    /// Runs one batch: cols holds every input column, in schema order.
    /// Err is the stage's failure for the whole batch.
    pub fn process(&mut self, cols: &[Column]) -> Result<Output, String> {
        assert_eq!(cols.len(), self.schema.len(), "one column per schema field");
        let n = cols.first().map_or(0, |c| c.len);
        for (c, (name, ty)) in cols.iter().zip(&self.schema) {
            assert!(
                c.len == n && c.ty == *ty,
                "column {} must be {} with {} rows",
                name,
                ty,
                n
            );
        }
        // Lay the batch out as the host does: header, descriptors, then
        // each buffer 64-byte aligned. Addresses start at BASE.
        const BASE: u32 = 1 << 16;
        let mut mem = vec![0u8; 16 + 32 * self.reads.len()];
        let put = |mem: &mut Vec<u8>, b: &[u8]| -> u32 {
            let off = (mem.len() + 63) / 64 * 64;
            mem.resize(off, 0);
            mem.extend_from_slice(b);
            BASE + off as u32
        };
        let mut descs = Vec::new();
        for &i in &self.reads {
            let c = &cols[i];
            let code = type_code(&c.ty).expect("an ABI type").0;
            let valid = c.valid.as_ref().map_or(0, |v| put(&mut mem, v));
            let offs = c.offsets.as_ref().map_or(0, |o| put(&mut mem, o));
            let vals = put(&mut mem, &c.values);
            descs.push([i as u32, code as u32, 0, valid, offs, vals, c.values.len() as u32, 0]);
        }
        for (k, d) in descs.iter().enumerate() {
            for (j, w) in d.iter().enumerate() {
                let at = 16 + 32 * k + 4 * j;
                mem[at..at + 4].copy_from_slice(&w.to_le_bytes());
            }
        }
        mem[0..4].copy_from_slice(&(n as u32).to_le_bytes());
        mem[4..8].copy_from_slice(&(self.reads.len() as u32).to_le_bytes());
        // The runtime needs the buffers aligned in real memory too.
        let mut region = vec![0u8; mem.len() + 64];
        let start = (64 - region.as_ptr() as usize % 64) % 64;
        region[start..start + mem.len()].copy_from_slice(&mem);
        self.rt.process_batch(&region[start..start + mem.len()], BASE, BASE)?;
        Ok(self.output())
    }

    /// (v2) End of input: what the stage emits from dw_finish.
    pub fn finish(&mut self) -> Result<Output, String> {
        self.rt.no_input(|st, b| st.finish(b))?;
        Ok(self.output())
    }

    /// (v2) What the stage emits when told the watermark wm.
    pub fn watermark(&mut self, wm: i64) -> Result<Output, String> {
        self.rt.no_input(|st, b| st.watermark(b, wm))?;
        Ok(self.output())
    }

    /// (v2) The stage's snapshot, as the host would save it.
    pub fn snapshot(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.rt.snapshot(&mut out);
        out
    }

    /// (v2) Hands the stage a saved state; Err is its refusal.
    pub fn restore(&mut self, state: &[u8]) -> Result<(), String> {
        self.rt.restore(state)
    }

    fn output(&self) -> Output {
        let e = self.rt.emitted.borrow();
        let v2 = self.rt.is_v2();
        // v1's columns have a value per input row, v2's per emitted row.
        let n = if v2 { e.origins.len() } else { self.rt.n };
        let origins = e
            .origins
            .iter()
            .map(|&o| if o == u32::MAX { None } else { Some(o as usize) })
            .collect();
        let sel = self.rt.sel.borrow();
        let selection = if sel.active {
            Some((0..n).map(|i| bitmap::get(&sel.bits, i)).collect())
        } else {
            None
        };
        let rejected = self
            .rt
            .errs
            .borrow()
            .iter()
            .map(|e| (e.row as usize, e.msg.clone()))
            .collect();
        let mut columns = Vec::new();
        for (name, c) in self.writes.iter().zip(&self.rt.outs) {
            let c = c.borrow();
            let valid = |i: usize| !c.nulls.has_null || bitmap::get(&c.nulls.valid, i);
            let data = match c.kind {
                Kind::Var => (0..n)
                    .map(|i| valid(i).then(|| c.bytes[c.offs[i] as usize..c.offs[i + 1] as usize].to_vec()))
                    .collect(),
                Kind::Bool => (0..n)
                    .map(|i| valid(i).then(|| vec![bitmap::get(&c.bytes, i) as u8]))
                    .collect(),
                // Nested columns (nested_out.rs): their validity only.
                Kind::Nested => (0..n).map(|i| valid(i).then(Vec::new)).collect(),
                Kind::Fixed => {
                    let bytes = c.values.le_bytes();
                    let w = bytes.len() / n.max(1);
                    (0..n)
                        .map(|i| valid(i).then(|| bytes[i * w..(i + 1) * w].to_vec()))
                        .collect()
                }
            };
            columns.push((name.clone(), data));
        }
        Output {
            selection,
            rejected,
            columns,
            origins,
        }
    }
}

/// What a stage returned for one batch.
#[derive(Debug)]
pub struct Output {
    /// The selection (true = kept), or None when the stage kept every row.
    pub selection: Option<Vec<bool>>,
    /// Rejected rows and their messages, in the order rejected.
    pub rejected: Vec<(usize, String)>,
    /// Output columns in the order written: per row, its little-endian
    /// bytes (bool: one byte, 0 or 1), None for null. In v2, a row per
    /// emitted row.
    pub columns: Vec<(String, Vec<Option<Vec<u8>>>)>,
    /// (v2) Each emitted row's input row of origin, None for none.
    pub origins: Vec<Option<usize>>,
}

impl Output {
    /// Per row, whether it reaches the stage's output: selected and not rejected.
    pub fn kept(&self) -> Vec<bool> {
        let n = self.columns.first().map(|c| c.1.len());
        let n = self.selection.as_ref().map(Vec::len).or(n).unwrap_or(0);
        let mut keep = self.selection.clone().unwrap_or_else(|| vec![true; n]);
        for (r, _) in &self.rejected {
            keep[*r] = false;
        }
        keep
    }

    fn column(&self, name: &str) -> &[Option<Vec<u8>>] {
        &self
            .columns
            .iter()
            .find(|c| c.0 == name)
            .unwrap_or_else(|| panic!("no output column {:?}", name))
            .1
    }

    /// Output column name as T values.
    pub fn fixed<T: Fixed>(&self, name: &str) -> Vec<Option<T>> {
        self.column(name)
            .iter()
            .map(|v| v.as_ref().map(|b| T::read_le(b)))
            .collect()
    }

    /// Output column name's values as bytes.
    pub fn bytes(&self, name: &str) -> Vec<Option<Vec<u8>>> {
        self.column(name).to_vec()
    }

    /// Output column name's values as text (panics on invalid UTF-8).
    pub fn strings(&self, name: &str) -> Vec<Option<String>> {
        self.column(name)
            .iter()
            .map(|v| v.as_ref().map(|b| String::from_utf8(b.clone()).expect("UTF-8")))
            .collect()
    }
}
