//! A small JSON reader and writer for the bind handshake.
//!
//! The handshake runs once per instance, so this favours being short and
//! strict over being fast. It accepts exactly RFC 8259 JSON in UTF-8 and
//! decodes it the way Go's `encoding/json` does where the two could
//! differ, so a stage written with this SDK accepts the same `config:` as
//! one written in Go: a lone UTF-16 surrogate in a `\u` escape becomes
//! U+FFFD, and a number outside the range of `f64` is an error.

use std::fmt::Write as _;

/// A parsed JSON value. Objects keep their members in document order,
/// duplicates included (see [`Json::get`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// Deeper nesting is refused rather than risking the guest's stack.
const MAX_DEPTH: usize = 256;

impl Json {
    /// Parses one JSON value (surrounding whitespace allowed).
    pub fn parse(text: &[u8]) -> Result<Json, String> {
        let text = std::str::from_utf8(text).map_err(|e| format!("json: invalid UTF-8 at byte {}", e.valid_up_to()))?;
        let mut p = Parser {
            s: text,
            i: 0,
            depth: 0,
        };
        p.ws();
        let v = p.value()?;
        p.ws();
        if p.i != p.s.len() {
            return Err(p.err("data after the value"));
        }
        Ok(v)
    }

    /// The value of the last member called `key` of an object (the one Go's
    /// decoder keeps), or None for a missing key or a non-object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(m) => m.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Number(x) => Some(*x),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    /// What kind of value this is, for error messages: "a string", "null"…
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a bool",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "a list",
            Json::Object(_) => "a mapping",
        }
    }

    /// Appends the value as compact JSON.
    pub fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            // Finite by construction (the parser refuses the rest); Rust's
            // Display of f64 is the shortest text that reads back exactly.
            Json::Number(x) => {
                let _ = write!(out, "{}", x);
            }
            Json::String(s) => write_str(out, s),
            Json::Array(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            Json::Object(m) => {
                out.push('{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(out, k);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// Appends s as a JSON string literal.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, what: &str) -> String {
        format!("json: {} at byte {}", what, self.i)
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<(), String> {
        if self.peek() != Some(c) {
            return Err(self.err(what));
        }
        self.i += 1;
        Ok(())
    }

    fn value(&mut self) -> Result<Json, String> {
        match self.peek() {
            None => Err(self.err("unexpected end of input")),
            Some(b'{') => self.nested(Parser::object),
            Some(b'[') => self.nested(Parser::array),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn nested(&mut self, f: fn(&mut Self) -> Result<Json, String>) -> Result<Json, String> {
        if self.depth == MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        self.depth += 1;
        let v = f(self);
        self.depth -= 1;
        v
    }

    fn literal(&mut self, word: &str, v: Json) -> Result<Json, String> {
        if !self.s[self.i..].starts_with(word) {
            return Err(self.err("unexpected character"));
        }
        self.i += word.len();
        Ok(v)
    }

    fn object(&mut self) -> Result<Json, String> {
        self.i += 1;
        let mut members = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a string key"));
            }
            let k = self.string()?;
            self.ws();
            self.expect(b':', "expected ':'")?;
            self.ws();
            let v = self.value()?;
            members.push((k, v));
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self) -> Result<Json, String> {
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.ws();
            items.push(self.value()?);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let start = self.i;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            // Runs end at ASCII bytes, so they are whole UTF-8 sequences.
            out.push_str(&self.s[start..self.i]);
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => return Err(self.err("control character in a string")),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), String> {
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.i += 1;
                let hi = self.hex4()?;
                let c = if (0xd800..0xdc00).contains(&hi) && self.s[self.i..].starts_with("\\u") {
                    let save = self.i;
                    self.i += 2;
                    let lo = self.hex4()?;
                    if (0xdc00..0xe000).contains(&lo) {
                        char::from_u32(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00))
                    } else {
                        // Not a pair: the high half alone is U+FFFD and the
                        // next escape is read on its own, as in Go.
                        self.i = save;
                        None
                    }
                } else {
                    char::from_u32(hi)
                };
                out.push(c.unwrap_or('\u{fffd}'));
                return Ok(());
            }
            _ => return Err(self.err("invalid escape")),
        };
        self.i += 1;
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let h = self
            .s
            .as_bytes()
            .get(self.i..self.i + 4)
            .ok_or_else(|| self.err("short \\u escape"))?;
        let mut v = 0;
        for &c in h {
            let d = (c as char).to_digit(16).ok_or_else(|| self.err("invalid \\u escape"))?;
            v = v * 16 + d;
        }
        self.i += 4;
        Ok(v)
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.i;
        let b = self.s.as_bytes();
        let digits = |i: &mut usize| {
            let s = *i;
            while *i < b.len() && b[*i].is_ascii_digit() {
                *i += 1;
            }
            *i > s
        };
        let mut i = self.i;
        if b[i] == b'-' {
            i += 1;
        }
        if b.get(i) == Some(&b'0') {
            i += 1;
        } else if !digits(&mut i) {
            self.i = i;
            return Err(self.err("invalid number"));
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                self.i = i;
                return Err(self.err("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            if !digits(&mut i) {
                self.i = i;
                return Err(self.err("invalid number"));
            }
        }
        self.i = i;
        let text = &self.s[start..i];
        // Rust's parse rounds correctly, like Go's ParseFloat; like Go, a
        // value beyond f64's range is an error rather than infinity.
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Json::Number(x)),
            _ => Err(format!("json: number {} is out of range", text)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(m: &[(&str, Json)]) -> Json {
        Json::Object(m.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn parses_values() {
        let s = |x: &str| Json::String(x.to_string());
        let cases: Vec<(&str, Json)> = vec![
            ("null", Json::Null),
            (" true ", Json::Bool(true)),
            ("false", Json::Bool(false)),
            ("0", Json::Number(0.0)),
            ("-0", Json::Number(-0.0)),
            ("12.5e-1", Json::Number(1.25)),
            ("1E2", Json::Number(100.0)),
            ("-1.5e+3", Json::Number(-1500.0)),
            ("1e-400", Json::Number(0.0)),
            ("9007199254740993", Json::Number(9007199254740992.0)),
            (r#""""#, s("")),
            (r#""a\"b\\c\/d\b\f\n\r\t""#, s("a\"b\\c/d\u{8}\u{c}\n\r\t")),
            (r#""\u00e9\u65E5""#, s("é日")),
            (r#""\ud83d\ude00""#, s("😀")),
            (r#""\ud83d""#, s("\u{fffd}")),
            (r#""\ude00x""#, s("\u{fffd}x")),
            (r#""\ud83d\u0041""#, s("\u{fffd}A")),
            ("\"ünï 日本\"", s("ünï 日本")),
            ("[]", Json::Array(vec![])),
            (
                "[1, \"a\", [null]]",
                Json::Array(vec![Json::Number(1.0), s("a"), Json::Array(vec![Json::Null])]),
            ),
            ("{}", obj(&[])),
            (
                r#" { "a" : 1 , "b": {"c": [true]} } "#,
                obj(&[
                    ("a", Json::Number(1.0)),
                    ("b", obj(&[("c", Json::Array(vec![Json::Bool(true)]))])),
                ]),
            ),
        ];
        for (text, want) in cases {
            match Json::parse(text.as_bytes()) {
                Ok(v) => assert_eq!(v, want, "parse({:?})", text),
                Err(e) => panic!("parse({:?}): {}", text, e),
            }
        }
        // -0 keeps its sign.
        assert!(Json::parse(b"-0").unwrap().as_f64().unwrap().is_sign_negative());
    }

    #[test]
    fn refuses_invalid() {
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        for text in [
            "",
            " ",
            "nul",
            "nulll",
            "tru",
            "01",
            "1.",
            ".5",
            "+1",
            "-",
            "1e",
            "1e+",
            "0x10",
            "1e400",
            "-1e400",
            "\"abc",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\u12G4\"",
            "\"a\nb\"",
            "[1,]",
            "[1 2]",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "{1:2}",
            "{\"a\":1 \"b\":2}",
            "[",
            "{",
            "1 2",
            "\"\u{7f}\" x",
            &deep,
        ] {
            if let Ok(v) = Json::parse(text.as_bytes()) {
                panic!("parse({:?}) = {:?}, want an error", text, v);
            }
        }
        assert!(Json::parse(b"\"\xff\"").is_err(), "invalid UTF-8");
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(Json::parse(ok.as_bytes()).is_ok(), "MAX_DEPTH levels are allowed");
    }

    #[test]
    fn get_takes_the_last_duplicate() {
        let v = Json::parse(br#"{"a":1,"b":2,"a":3}"#).unwrap();
        assert_eq!(v.get("a"), Some(&Json::Number(3.0)));
        assert_eq!(v.get("c"), None);
        assert_eq!(Json::Null.get("a"), None);
    }

    #[test]
    fn writes_what_it_reads() {
        let text = r#"{"name":"a\"b\\\n\u0001é","n":[1.5,-0,1e+300,true,null],"o":{}}"#;
        let v = Json::parse(text.as_bytes()).unwrap();
        let mut out = String::new();
        v.write(&mut out);
        assert_eq!(Json::parse(out.as_bytes()).unwrap(), v, "round trip of {}", out);
        assert!(out.contains(r#""a\"b\\\n\u0001é""#), "{}", out);
    }

    /// A cheap stand-in for a fuzzer (cargo-fuzz is not available offline):
    /// every prefix and every single-byte mutation of some valid documents
    /// must parse or fail without panicking, and whatever parses must
    /// survive a write/parse round trip.
    #[test]
    fn mutations_never_panic() {
        let docs = [
            r#"{"abi":1,"stage":"stages[0].wasm","config":{"column":"amount","op":">=","value":[0,"x",true,null,{"k":-1.5e-3}]},"schema":[{"name":"id","type":"int64","nullable":false}]}"#,
            r#"["\u00e9\ud83d\ude00\n", 12345678901234567890, -0.0, 1e-7]"#,
        ];
        let bytes: &[u8] = b"{}[]\",:\\/-+.0123456789eEtfnu \x00\x1f\x7f\xc3\xa9\xff";
        for doc in docs {
            let d = doc.as_bytes();
            for i in 0..=d.len() {
                check(&d[..i]);
                if i < d.len() {
                    for &b in bytes {
                        let mut m = d.to_vec();
                        m[i] = b;
                        check(&m);
                        m.insert(i, b);
                        check(&m);
                    }
                }
            }
        }
        fn check(text: &[u8]) {
            if let Ok(v) = Json::parse(text) {
                let mut out = String::new();
                v.write(&mut out);
                assert_eq!(
                    Json::parse(out.as_bytes()).as_ref(),
                    Ok(&v),
                    "round trip of {:?}",
                    String::from_utf8_lossy(text)
                );
            }
        }
    }
}
