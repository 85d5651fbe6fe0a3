//! mask hides PII in string columns: the Rust twin of transforms/mask. An
//! email keeps the first character of its local part and its domain
//! ("alice@example.com" → "a***@example.com"); any other value keeps its
//! first character ("Alice" → "A***"); "" becomes "***"; nulls stay null.
//!
//! ```yaml
//! stages:
//!   - wasm: transforms/rust/mask/mask.wasm
//!     config: {columns: [email]}
//! ```

use dataweaver_guest::{stage, Batch, Offsets, OutStr, Process, Setup, StrCol, StrView};

stage!(setup);

fn setup(s: &mut Setup) -> Result<Process, String> {
    let c = s.config(&["columns"])?;
    let names: Vec<String> = c
        .strings("columns")?
        .unwrap_or_default()
        .iter()
        .map(|n| n.to_string())
        .collect();
    if names.is_empty() {
        return Err("config: columns: name at least one string column to mask".into());
    }
    let cols: Vec<(StrCol, OutStr)> = names.iter().map(|n| (s.read_string(n), s.write_string(n))).collect();
    Ok(Box::new(move |b: &Batch| {
        for (col, out) in &cols {
            let v = col.view(b);
            let mut w = out.builder(b);
            let (bytes, offs) = w.raw();
            match v.raw() {
                (Offsets::Small(o), data) => mask_rows(&v, o, data, bytes, offs),
                (Offsets::Large(_), data) => {
                    bytes.reserve(data.len() + 3 * b.len());
                    for i in 0..b.len() {
                        if v.is_valid(i) {
                            let (head, tail) = split(v.bytes(i));
                            bytes.extend_from_slice(head);
                            bytes.extend_from_slice(b"***");
                            bytes.extend_from_slice(tail);
                        }
                        offs.push(bytes.len() as i32);
                    }
                }
            }
            // Null rows were written empty: mark them.
            if let Some(valid) = v.validity() {
                w.set_validity(valid);
            }
        }
        Ok(())
    }))
}

/// Masks the rows of a utf8 column, 4 per loop iteration (under a stage
/// timeout each iteration is a check by the host, wasmabi/BENCH_NOTES.md).
/// The output buffer is sized for the worst case up front (a value grows
/// by 3 bytes at most) plus 32 bytes of scratch, so a row is written with
/// fixed-size copies and no capacity check.
///
/// A valid row of 1-32 bytes starting with an ASCII byte, lying at least
/// 32 bytes from both ends of data (almost every email) takes the fast
/// path, with no loop and no branch on its content: its '@' bytes come
/// from four 8-byte loads ending at the value's end, and the output is
/// the first byte, "***" and a 32-byte copy from the last '@' at index 1
/// or more (or from the value's end, when there is none), of which only
/// the tail's length counts; the next row overwrites the rest. Other rows
/// go through split.
fn mask_rows(v: &StrView, o: &[i32], data: &[u8], bytes: &mut Vec<u8>, offs: &mut Vec<i32>) {
    let n = o.len() - 1;
    let base = o[0] as usize;
    let start = bytes.len();
    bytes.resize(start + data.len() + 3 * n + 36, 0);
    let first = offs.len();
    offs.resize(first + n, 0);
    let (out, offs) = (&mut bytes[..], &mut offs[first..]);
    let mut p = start;
    let mut row = |i: usize| {
        let (o0, o1) = (o[i] as usize - base, o[i + 1] as usize - base);
        let len = o1.wrapping_sub(o0);
        if len.wrapping_sub(1) < 32 && o1 >= 32 && o1 + 32 <= data.len() && data[o0] < 0x80 && v.is_valid(i) {
            let w = o1 - 32;
            let m = (at_bits(word(&data[w..w + 8]))
                | at_bits(word(&data[w + 8..w + 16])) << 8
                | at_bits(word(&data[w + 16..w + 24])) << 16
                | at_bits(word(&data[w + 24..w + 32])) << 24)
                // only bytes at index 1 or more of the value
                & (!0u64 << (33 - len)) as u32;
            // The last '@', or 32 (the value's end) when there is none.
            let at = if m == 0 { 32 } else { 31 - m.leading_zeros() as usize };
            out[p] = data[o0];
            out[p + 1..p + 4].copy_from_slice(b"***");
            out[p + 4..p + 36].copy_from_slice(&data[w + at..w + at + 32]);
            p += 4 + 32 - at;
        } else if v.is_valid(i) {
            let (head, tail) = split(&data[o0..o1]);
            out[p..p + head.len()].copy_from_slice(head);
            out[p + head.len()..p + head.len() + 3].copy_from_slice(b"***");
            let q = p + head.len() + 3;
            out[q..q + tail.len()].copy_from_slice(tail);
            p = q + tail.len();
        }
        offs[i] = p as i32;
    };
    let mut i = 0;
    while i + 4 <= n {
        row(i);
        row(i + 1);
        row(i + 2);
        row(i + 3);
        i += 4;
    }
    while i < n {
        row(i);
        i += 1;
    }
    bytes.truncate(p);
}

/// Bit k set where byte k of w is '@'. The zero-byte test is exact (no
/// borrow crosses bytes) and the multiplication gathers each byte's flag
/// into the top byte without carries.
#[inline(always)]
fn at_bits(w: u64) -> u32 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = w ^ 0x4040_4040_4040_4040;
    let z = !(((x & LOW7) + LOW7) | x | LOW7);
    (((z >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56) as u32
}

#[inline(always)]
fn word(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(b);
    u64::from_le_bytes(w)
}

/// What the mask keeps of s: its first character (a whole UTF-8 sequence,
/// or one byte where s is not UTF-8, as Go's utf8.DecodeRune reads it),
/// and the tail from the last '@' when that '@' is not the first byte.
fn split(s: &[u8]) -> (&[u8], &[u8]) {
    if s.is_empty() {
        return (s, s);
    }
    let n = first_char_len(s);
    match last_at(s) {
        Some(at) if at > 0 => (&s[..n.min(at)], &s[at..]),
        _ => (&s[..n], &[]),
    }
}

fn first_char_len(s: &[u8]) -> usize {
    let w = match s[0] {
        0x00..=0x7f => return 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return 1,
    };
    if s.len() >= w && std::str::from_utf8(&s[..w]).is_ok() {
        w
    } else {
        1
    }
}

/// The index of the last '@' in s, eight bytes per step: under a stage
/// timeout every loop iteration is a check by the host
/// (wasmabi/BENCH_NOTES.md), so a byte-by-byte scan from the end of an
/// email costs about one per byte of its domain and this one per eight.
fn last_at(s: &[u8]) -> Option<usize> {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const AT: u64 = 0x4040_4040_4040_4040;
    let mut i = s.len();
    while i >= 8 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[i - 8..i]);
        let x = u64::from_le_bytes(w) ^ AT;
        // The high bit of each byte of x that is zero (exact: no borrow
        // crosses bytes), i.e. of each '@'.
        let z = !(((x & LOW7) + LOW7) | x | LOW7);
        if z != 0 {
            return Some(i - 8 + (63 - z.leading_zeros() as usize) / 8);
        }
        i -= 8;
    }
    s[..i].iter().rposition(|&c| c == b'@')
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataweaver_guest::testing::{Column, Host};

    #[test]
    fn split_like_go() {
        for (input, want) in [
            ("alice@example.com", "a***@example.com"),
            ("Alice", "A***"),
            ("", "***"),
            ("a", "a***"),
            ("@", "@***"),
            ("@example.com", "@***"),
            ("a@", "a***@"),
            ("ab@c@d.fr", "a***@d.fr"),
            ("é@x.fr", "é***@x.fr"),
            ("Édith@mail.fr", "É***@mail.fr"),
            ("日@本", "日***@本"),
            ("😀@mail.example", "😀***@mail.example"),
            ("@@", "@***@"),
            ("x@@y", "x***@y"),
            ("01234567890123456789012345678901@x", "0***@x"),
        ] {
            let (h, t) = split(input.as_bytes());
            assert_eq!([h, b"***", t].concat(), want.as_bytes(), "{:?}", input);
        }
        // Not UTF-8: one byte is the first character, as in Go.
        assert_eq!(split(b"\xff\xfeab"), (&b"\xff"[..], &b""[..]));
        assert_eq!(split(b"\xc3@x"), (&b"\xc3"[..], &b"@x"[..]));
        assert_eq!(
            split(b"\xed\xa0\x80z"),
            (&b"\xed"[..], &b""[..]),
            "a surrogate is not a character"
        );
        assert_eq!(
            split(b"\xe6\x97"),
            (&b"\xe6"[..], &b""[..]),
            "a cut sequence is one byte"
        );
    }

    #[test]
    fn last_at_is_rposition() {
        for s in [
            "",
            "@",
            "a@b",
            "abcdefgh@",
            "@abcdefgh",
            "a@bcdefghijklmnopq",
            "user12@example3.com",
            "A@@@@@@@@@@@@@@@@A",
            "xxxxxxxxxxxxxxxxxxx",
            "é@ü@ééééééééé",
            "@A@A@A@A@A@A@A@A@A@A",
            "\u{c0}\u{c0}\u{c0}\u{c0}\u{c0}",
        ] {
            assert_eq!(last_at(s.as_bytes()), s.bytes().rposition(|c| c == b'@'), "{:?}", s);
        }
        // Bytes that differ from '@' only in the high bit.
        assert_eq!(last_at(b"\xc0\xc0\xc0\xc0\xc0\xc0\xc0\xc0\xc0"), None);
    }

    /// Many rows, so most take the fast path: the output must be split's.
    #[test]
    fn fast_path_is_split() {
        let pieces = ["a", "@", "é", "日", "x", ".", "@@", "bob", "😀", "example.com"];
        let mut r = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |m: u64| {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            (r % m) as usize
        };
        let vals: Vec<Option<String>> = (0..2000)
            .map(|_| match next(20) {
                0 => None,
                _ => Some((0..next(12)).map(|_| pieces[next(pieces.len() as u64)]).collect()),
            })
            .collect();
        let rows: Vec<Option<&[u8]>> = vals.iter().map(|v| v.as_ref().map(|s| s.as_bytes())).collect();
        let mut h = Host::bind(super::setup, r#"{"columns":["e"]}"#, &[("e", "utf8")]).unwrap();
        for first in [0, 5] {
            let out = h.process(&[Column::var("utf8", &rows, first)]).unwrap();
            let want: Vec<Option<String>> = vals
                .iter()
                .map(|v| {
                    v.as_ref().map(|s| {
                        let (h, t) = split(s.as_bytes());
                        String::from_utf8([h, b"***", t].concat()).unwrap()
                    })
                })
                .collect();
            assert_eq!(out.strings("e"), want);
        }
    }

    #[test]
    fn stage_masks_columns_keeping_nulls() {
        let schema = [("e", "utf8"), ("n", "large_utf8"), ("i", "int64")];
        let mut h = Host::bind(super::setup, r#"{"columns":["e","n"]}"#, &schema).unwrap();
        let e: Vec<Option<&[u8]>> = vec![Some(b"alice@example.com"), None, Some(b""), Some(b"bob"), None];
        let cols = [
            Column::var("utf8", &e, 0),
            Column::var("large_utf8", &e, 7),
            Column::i64(&[Some(1); 5]),
        ];
        let out = h.process(&cols).unwrap();
        let want = [
            Some("a***@example.com".to_string()),
            None,
            Some("***".into()),
            Some("b***".into()),
            None,
        ];
        assert_eq!(out.strings("e"), want);
        assert_eq!(out.strings("n"), want);
        for (conf, err) in [
            ("{}", "name at least one"),
            (r#"{"columns":[]}"#, "name at least one"),
            (r#"{"columns":["i"]}"#, "column \"i\" is int64"),
            (r#"{"columns":["x"]}"#, "no column \"x\""),
            (r#"{"columns":"e"}"#, "want a list of strings"),
        ] {
            let got = Host::bind(super::setup, conf, &schema).err().unwrap_or_default();
            assert!(got.contains(err), "{}: {:?}", conf, got);
        }
    }
}
