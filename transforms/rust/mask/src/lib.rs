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

use dataweaver_guest::{stage, Batch, OutStr, Process, Setup, StrCol};

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
            // Output is at most 4 bytes longer than each input value.
            w.reserve(v.raw().1.len() + 4 * b.len());
            let (bytes, offs) = w.raw();
            for i in 0..b.len() {
                if v.is_valid(i) {
                    let (head, tail) = split(v.bytes(i));
                    bytes.extend_from_slice(head);
                    bytes.extend_from_slice(b"***");
                    bytes.extend_from_slice(tail);
                }
                offs.push(bytes.len() as i32);
            }
            if let Some(valid) = v.validity() {
                w.set_validity(valid);
            }
        }
        Ok(())
    }))
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
