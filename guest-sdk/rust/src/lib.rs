//! The Rust SDK for DataWeaver Wasm stages.
//!
//! A transform is a `cdylib` crate built for `wasm32-wasi` (`weave build
//! DIR` does it). It hands one setup function to [`stage!`], which defines
//! the module's exports:
//!
//! ```
//! use dataweaver_guest::{stage, Batch, Setup};
//!
//! fn setup(s: &mut Setup) -> Result<impl FnMut(&Batch) -> Result<(), String>, String> {
//!     let min = s.config(&["min"])?.f64("min")?.unwrap_or(0.0);
//!     let amount = s.read::<f64>("amount");
//!     s.filter();
//!     Ok(move |b: &Batch| {
//!         let v = amount.view(b);
//!         for (i, x) in v.values.iter().enumerate() {
//!             if *x < min {
//!                 b.drop_row(i);
//!             }
//!         }
//!         Ok(())
//!     })
//! }
//!
//! stage!(setup);
//! # fn main() {}
//! ```
//!
//! # What the SDK hides
//!
//! The setup function runs at bind time, once per instance, with the
//! stage's configuration and the input schema. What it declares (the
//! columns it reads with [`Setup::read`], the columns it produces with
//! [`Setup::write`], [`Setup::filter`], [`Setup::drop_column`]) is the
//! stage's answer to the handshake: the host derives the output schema
//! from it and copies only the read columns into the guest for every
//! batch. The function it returns runs once per batch.
//!
//! Column views are zero-copy: a view's slices point into the buffers the
//! host wrote, and their lifetime ends with the batch. Output columns are
//! buffers the SDK reuses from batch to batch. See wasmabi/ABI.md for the
//! wire format.
//!
//! # ABI v2
//!
//! A stage that emits rows of its own (an explode, a dedupe, a window's
//! aggregates), emits at end of input or on a watermark, or keeps state
//! across batches is defined with [`stage_v2!`]: its setup function
//! returns a [`StageV2`], rows are emitted with [`Batch::emit`] and the
//! output columns' `put`/`put_null`, and [`Setup::drop_all`],
//! [`Setup::keep_state`] and [`Setup::event_time`] declare the rest
//! (README.md, "ABI v2"; transforms/rust/window_agg).
//!
//! # Errors and panics
//!
//! Setup errors (a `String`) become the bind error `weave validate`
//! reports. A process function's `Err` fails the whole batch;
//! [`Batch::reject`] refuses single rows, which the pipeline's error
//! policy then handles. A panic aborts the instance (wasm32 has no
//! unwinding): the host reports a trap with the panic message, which the
//! standard library writes to stderr, and replaces the instance.
//!
//! # Performance under a stage timeout
//!
//! With a timeout (the default) the host checks for cancellation at every
//! loop iteration and function entry in the guest (wasmabi/BENCH_NOTES.md),
//! so a stage's cost grows with the iterations and calls per row. Hot
//! loops do better working on blocks of rows: [`Batch::keep_bits`] fills
//! the selection 8 or 64 rows at a time, views give whole slices and
//! their validity bitmap once per batch, and [`StrBuilder::raw`] lets a
//! stage write values without a call per row. transforms/rust/ shows the
//! patterns.

mod batch;
pub mod bitmap;
mod column;
pub mod json;
mod log;
mod nested_in;
mod nested_out;
mod output;
mod runtime;
mod setup;
pub mod testing;
mod v2;
mod window;

#[doc(hidden)]
pub mod abi;

pub use batch::Batch;
pub use column::{BoolCol, BoolView, Col, Decimal128, Fixed, FixedView, ListCol, ListView, Offsets, StrCol, StrView};
pub use log::{log, Level};
pub use nested_in::{struct_fields, StructCol, StructView};
pub use nested_out::Node;
pub use output::{BoolOut, FixedOut, Out, OutBool, OutStr, StrBuilder};
pub use setup::{Config, Field, Setup};
pub use v2::{tumble, StageV2, StateReader};
pub use window::{hop, hop_max, session_add, sessions_closed, Hops, Session};

/// The ABI version of a stage defined with [`stage!`] (wasmabi/ABI.md);
/// [`stage_v2!`] makes a stage of version 2.
pub const ABI_VERSION: i32 = 1;

/// A per-batch function, boxed: what a setup function returns when its
/// branches make different closures.
pub type Process = Box<dyn for<'a, 'b> FnMut(&'a Batch<'b>) -> Result<(), String>>;

/// Defines the module's exports (`_initialize`, `dw_abi_version`,
/// `dw_reserve`, `dw_bind`, `dw_process`) for a stage's setup function,
/// `fn(&mut Setup) -> Result<P, String>` where P is the per-batch
/// function. Use it once, at the top level of the crate.
#[macro_export]
macro_rules! stage {
    ($setup:expr) => {
        #[no_mangle]
        pub extern "C" fn _initialize() {
            $crate::abi::initialize()
        }

        #[no_mangle]
        pub extern "C" fn dw_abi_version() -> i32 {
            $crate::ABI_VERSION
        }

        #[no_mangle]
        pub extern "C" fn dw_reserve(size: i32) -> i32 {
            $crate::abi::reserve(size)
        }

        #[no_mangle]
        pub extern "C" fn dw_bind(ptr: i32, len: i32) -> i32 {
            $crate::abi::bind(ptr, len, $setup)
        }

        #[no_mangle]
        pub extern "C" fn dw_process(batch: i32) -> i32 {
            $crate::abi::process(batch)
        }
    };
}

/// Defines the exports of an ABI v2 stage (wasmabi/ABI.md, "Version 2"):
/// v1's, answering version 2, plus `dw_finish`, `dw_watermark`,
/// `dw_snapshot` and `dw_restore`. The setup function is
/// `fn(&mut Setup) -> Result<S, String>` where S implements
/// [`StageV2`]. Every module exports all four (the ABI allows it): what
/// makes a stage stateful is [`Setup::keep_state`], and the host calls
/// `dw_watermark` only when the pipeline declared an event-time column.
#[macro_export]
macro_rules! stage_v2 {
    ($setup:expr) => {
        #[no_mangle]
        pub extern "C" fn _initialize() {
            $crate::abi::initialize()
        }

        #[no_mangle]
        pub extern "C" fn dw_abi_version() -> i32 {
            2
        }

        #[no_mangle]
        pub extern "C" fn dw_reserve(size: i32) -> i32 {
            $crate::abi::reserve(size)
        }

        #[no_mangle]
        pub extern "C" fn dw_bind(ptr: i32, len: i32) -> i32 {
            $crate::abi::bind_v2(ptr, len, $setup)
        }

        #[no_mangle]
        pub extern "C" fn dw_process(batch: i32) -> i32 {
            $crate::abi::process(batch)
        }

        #[no_mangle]
        pub extern "C" fn dw_finish() -> i32 {
            $crate::abi::finish()
        }

        #[no_mangle]
        pub extern "C" fn dw_watermark(lo: i32, hi: i32) -> i32 {
            $crate::abi::watermark(lo, hi)
        }

        #[no_mangle]
        pub extern "C" fn dw_snapshot() -> i32 {
            $crate::abi::snapshot()
        }

        #[no_mangle]
        pub extern "C" fn dw_restore(ptr: i32, len: i32) -> i32 {
            $crate::abi::restore(ptr, len)
        }
    };
}
