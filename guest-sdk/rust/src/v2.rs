//! ABI v2 (wasmabi/ABI.md, "Version 2"): a stage that emits any number of
//! rows per batch, emits more at end of input or when the watermark
//! passes, and keeps state the host saves at checkpoints.

use crate::batch::Batch;

/// A v2 stage: what its setup function returns to [`crate::stage_v2!`].
/// Its methods share the stage's own fields (open windows, seen keys),
/// which is why v2 is a trait and not v1's single closure.
///
/// Every method but `process` has a default: a stage that emits nothing
/// at end of input, ignores watermarks and keeps no state implements
/// `process` only.
pub trait StageV2: 'static {
    /// Runs once per batch: read the input views, emit rows with
    /// [`Batch::emit`] and the output columns' `put`/`put_null`, reject
    /// input rows with [`Batch::reject`]. `Err` fails the whole batch.
    fn process(&mut self, b: &Batch) -> Result<(), String>;

    /// Runs once when the input has ended, after the last batch: emit
    /// what the stage held back, with origin `None` (there is no input
    /// row), and forget it. The batch has no rows.
    fn finish(&mut self, _b: &Batch) -> Result<(), String> {
        Ok(())
    }

    /// Runs after a batch when the watermark has advanced (only when the
    /// pipeline declared an event-time column, [`crate::Setup::event_time`]):
    /// `watermark` is the latest event time seen minus the allowed
    /// lateness, in the column's unit; no row of time ≤ watermark is
    /// expected any more. Emit what it closes, with origin `None`.
    fn watermark(&mut self, _b: &Batch, _watermark: i64) -> Result<(), String> {
        Ok(())
    }

    /// Writes the stage's state into `out` (empty, and reused from one
    /// checkpoint to the next) in a layout of the stage's own; called at
    /// every checkpoint of a stage that declared
    /// [`crate::Setup::keep_state`].
    fn snapshot(&self, _out: &mut Vec<u8>) {}

    /// Takes back the state [`StageV2::snapshot`] wrote, on a fresh
    /// instance after setup and before any batch. Refuse (`Err` with the
    /// reason) what it cannot read, such as another layout or another
    /// configuration, rather than start from nothing: the run would
    /// silently lose what the state held.
    fn restore(&mut self, _state: &[u8]) -> Result<(), String> {
        Err("the stage keeps no state".into())
    }
}

/// The start of the tumbling window of width `w` (> 0) that holds `t`,
/// rounding down also before 0 (`tumble(-1, 60) == -60`). A window that
/// would start before `i64::MIN` wraps, as C's `dw_tumble` and Go's
/// `guest.Tumble` do.
#[inline]
pub fn tumble(t: i64, w: i64) -> i64 {
    t.wrapping_sub(t.rem_euclid(w))
}

/// Reads a state back in the order it was written: each read takes the
/// next bytes, or fails with "state cut short in <what>" when too few are
/// left; [`StateReader::end`] checks nothing is left over.
///
/// ```
/// use dataweaver_guest::StateReader;
/// let mut st = Vec::new();
/// st.extend_from_slice(b"SEEN");
/// st.extend_from_slice(&7i64.to_le_bytes());
/// let mut r = StateReader::new(&st);
/// r.magic(b"SEEN").unwrap();
/// assert_eq!(r.i64("the header"), Ok(7));
/// r.end().unwrap();
/// ```
pub struct StateReader<'a> {
    rest: &'a [u8],
}

macro_rules! read_le {
    ($($name:ident: $t:ty),*) => {$(
        /// The next value, little-endian.
        pub fn $name(&mut self, what: &str) -> Result<$t, String> {
            let b = self.bytes(std::mem::size_of::<$t>(), what)?;
            let mut a = [0u8; std::mem::size_of::<$t>()];
            a.copy_from_slice(b);
            Ok(<$t>::from_le_bytes(a))
        }
    )*};
}

impl<'a> StateReader<'a> {
    pub fn new(state: &'a [u8]) -> StateReader<'a> {
        StateReader { rest: state }
    }

    /// Checks that the state starts with `magic`, a tag naming its layout.
    pub fn magic(&mut self, magic: &[u8]) -> Result<(), String> {
        match self.bytes(magic.len(), "its tag") {
            Ok(b) if b == magic => Ok(()),
            _ => Err(format!(
                "not a state of this stage (want {})",
                String::from_utf8_lossy(magic)
            )),
        }
    }

    /// The next n bytes.
    pub fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        if self.rest.len() < n {
            return Err(format!("state cut short in {}", what));
        }
        let (b, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(b)
    }

    read_le!(u8: u8, u32: u32, i64: i64, u64: u64, f64: f64);

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Ok when every byte has been read.
    pub fn end(&self) -> Result<(), String> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(format!("state has {} bytes past its end", self.rest.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tumble_rounds_down() {
        for (t, w, want) in [
            (0, 60, 0),
            (59, 60, 0),
            (60, 60, 60),
            (-1, 60, -60),
            (-60, 60, -60),
            (-61, 60, -120),
        ] {
            assert_eq!(tumble(t, w), want, "tumble({}, {})", t, w);
        }
        assert_eq!(
            tumble(i64::MAX, 60),
            i64::MAX - 7,
            "i64::MAX is 7 past a multiple of 60"
        );
        assert_eq!(tumble(i64::MIN, 60), i64::MIN.wrapping_sub(52), "wraps below i64::MIN");
    }

    #[test]
    fn state_reader() {
        let mut st = b"TAG1".to_vec();
        st.push(1);
        st.extend_from_slice(&5u32.to_le_bytes());
        st.extend_from_slice(&2.5f64.to_le_bytes());
        let mut r = StateReader::new(&st);
        assert_eq!(r.magic(b"TAG1"), Ok(()));
        assert_eq!(r.u8("a flag"), Ok(1));
        assert_eq!(r.u32("a count"), Ok(5));
        assert_eq!(r.f64("a sum"), Ok(2.5));
        assert_eq!(r.end(), Ok(()));
        assert!(r.is_empty());
        assert_eq!(r.u8("a flag"), Err("state cut short in a flag".to_string()));

        let mut r = StateReader::new(b"TAG0xx");
        assert!(r.magic(b"TAG1").unwrap_err().contains("want TAG1"));
        let mut r = StateReader::new(b"TAG1xx");
        r.magic(b"TAG1").unwrap();
        assert_eq!(r.end(), Err("state has 2 bytes past its end".to_string()));
    }
}
