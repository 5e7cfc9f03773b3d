//! A lean JSON reader for the few answers the dashboard reads by hand (the `alerts` frame,
//! the history page's answer): a cursor over the text that visits an object's members and
//! an array's items, reads flat values and skips everything else, nested or not.
//!
//! Why not serde: a derived deserializer per type (and the float parser and formatter it
//! brings) costs the wasm several times these lines, and these readers want only a few
//! fields of each answer. Correct JSON in, the fields out, whatever the key order, and
//! escapes decoded; malformed JSON is an error naming what was being read, never a panic.

/// A flat JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Text(String),
    /// Read without a float parser (see [`Reader::value`]).
    Number(f64),
    Bool(bool),
    /// `null`, an object or an array (skipped).
    Other,
}

impl Scalar {
    pub fn into_text(self) -> Option<String> {
        match self {
            Self::Text(t) => Some(t),
            _ => None,
        }
    }

    /// A whole number that is not negative (2^53 at most, as f64 holds it).
    pub fn whole(&self) -> Option<u64> {
        match *self {
            Self::Number(n) if n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_992.0 => Some(n as u64),
            _ => None,
        }
    }
}

/// A cursor over the bytes of a JSON text.
#[derive(Debug)]
pub struct Reader<'a> {
    s: &'a [u8],
    at: usize,
    /// What is read, for the errors ("alerts", "history").
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub fn new(json: &'a str, what: &'static str) -> Self {
        Self { s: json.as_bytes(), at: 0, what }
    }

    fn error(&self, why: &str) -> String {
        format!("{}: {why} at {}", self.what, self.at)
    }

    fn skip_space(&mut self) {
        while self.s.get(self.at).is_some_and(|b| b.is_ascii_whitespace()) {
            self.at += 1;
        }
    }

    /// Skips whitespace, then takes `byte` if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        self.skip_space();
        let hit = self.s.get(self.at) == Some(&byte);
        self.at += usize::from(hit);
        hit
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.eat(byte) { Ok(()) } else { Err(self.error(&format!("'{}' expected", byte as char))) }
    }

    /// Reads an object: `member` is called with each key and the cursor on its value, which
    /// it must read ([`Self::value`] skips what it does not want).
    pub fn object(&mut self, mut member: impl FnMut(&str, &mut Self) -> Result<(), String>) -> Result<(), String> {
        self.expect(b'{')?;
        if self.eat(b'}') {
            return Ok(());
        }
        loop {
            self.skip_space();
            let key = self.text()?;
            self.expect(b':')?;
            member(&key, self)?;
            if self.eat(b'}') {
                return Ok(());
            }
            self.expect(b',')?;
        }
    }

    /// Reads an array: `item` is called with the cursor on each item, which it must read.
    pub fn array(&mut self, mut item: impl FnMut(&mut Self) -> Result<(), String>) -> Result<(), String> {
        self.expect(b'[')?;
        if self.eat(b']') {
            return Ok(());
        }
        loop {
            item(self)?;
            if self.eat(b']') {
                return Ok(());
            }
            self.expect(b',')?;
        }
    }

    /// Reads the value at the cursor: a string, number or boolean as such; `null`, objects
    /// and arrays skipped whole (strings inside them included) as [`Scalar::Other`].
    pub fn value(&mut self) -> Result<Scalar, String> {
        self.skip_space();
        match self.s.get(self.at) {
            Some(b'"') => self.text().map(Scalar::Text),
            Some(b'-' | b'0'..=b'9') => Ok(Scalar::Number(self.number())),
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                loop {
                    match self.s.get(self.at) {
                        Some(b'"') => {
                            self.text()?;
                            continue;
                        }
                        Some(b'{' | b'[') => depth += 1,
                        Some(b'}' | b']') => depth -= 1,
                        Some(_) => {}
                        None => return Err(self.error("unterminated value")),
                    }
                    self.at += 1;
                    if depth == 0 {
                        return Ok(Scalar::Other);
                    }
                }
            }
            Some(b't' | b'f' | b'n') => {
                let start = self.at;
                while self.s.get(self.at).is_some_and(u8::is_ascii_alphabetic) {
                    self.at += 1;
                }
                match &self.s[start..self.at] {
                    b"true" => Ok(Scalar::Bool(true)),
                    b"false" => Ok(Scalar::Bool(false)),
                    b"null" => Ok(Scalar::Other),
                    _ => Err(self.error("unknown literal")),
                }
            }
            Some(_) => Err(self.error("value expected")),
            None => Err(self.error("value expected")),
        }
    }

    /// A string at the cursor, escapes decoded; the cursor ends after its closing quote.
    pub fn text(&mut self) -> Result<String, String> {
        if self.s.get(self.at) != Some(&b'"') {
            return Err(self.error("string expected"));
        }
        self.at += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let b = *self.s.get(self.at).ok_or_else(|| self.error("unterminated string"))?;
            self.at += 1;
            match b {
                b'"' => return String::from_utf8(out).map_err(|e| self.error(&e.to_string())),
                b'\\' => {
                    let e = *self.s.get(self.at).ok_or_else(|| self.error("unterminated string"))?;
                    self.at += 1;
                    let c = match e {
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code =
                                if (0xd800..0xdc00).contains(&hi) && self.s.get(self.at..self.at + 2) == Some(b"\\u") {
                                    self.at += 2;
                                    0x10000 + ((hi - 0xd800) << 10) + (self.hex4()?.wrapping_sub(0xdc00) & 0x3ff)
                                } else {
                                    hi
                                };
                            char::from_u32(code).unwrap_or('\u{fffd}')
                        }
                        other => other as char,
                    };
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                b => out.push(b),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self.s.get(self.at..self.at + 4).ok_or_else(|| self.error("bad \\u escape"))?;
        self.at += 4;
        digits
            .iter()
            .try_fold(0u32, |n, d| (*d as char).to_digit(16).map(|d| n * 16 + d))
            .ok_or_else(|| self.error("bad \\u escape"))
    }

    /// A JSON number (without a float parser: digits, fraction, exponent).
    fn number(&mut self) -> f64 {
        let negative = self.eat(b'-');
        let (mut mantissa, mut exponent) = (0f64, 0i32);
        let mut fraction = false;
        while let Some(&b) = self.s.get(self.at) {
            match b {
                b'0'..=b'9' => {
                    mantissa = mantissa * 10.0 + f64::from(b - b'0');
                    exponent -= i32::from(fraction);
                }
                b'.' => fraction = true,
                b'e' | b'E' => {
                    self.at += 1;
                    let minus = self.eat(b'-');
                    if !minus {
                        self.eat(b'+');
                    }
                    let mut e = 0i32;
                    while let Some(d @ b'0'..=b'9') = self.s.get(self.at) {
                        e = e.saturating_mul(10).saturating_add(i32::from(d - b'0'));
                        self.at += 1;
                    }
                    exponent += if minus { -e } else { e };
                    break;
                }
                _ => break,
            }
            self.at += 1;
        }
        let v = if exponent < 0 { mantissa / 10f64.powi(-exponent) } else { mantissa * 10f64.powi(exponent) };
        if negative { -v } else { v }
    }

    /// Only whitespace is left.
    pub fn end(&mut self) -> Result<(), String> {
        self.skip_space();
        if self.at == self.s.len() { Ok(()) } else { Err(self.error("trailing characters")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every member of an object, read flat.
    fn members(json: &str) -> Result<Vec<(String, Scalar)>, String> {
        let mut r = Reader::new(json, "test");
        let mut out = Vec::new();
        r.object(|k, r| {
            out.push((k.to_owned(), r.value()?));
            Ok(())
        })?;
        r.end()?;
        Ok(out)
    }

    #[test]
    fn flat_values_and_skipped_nesting() {
        let got = members(
            r#" { "a" : "x\"y\\z\/\u00e9\ud83d\ude00\n", "b": -12.5e1, "c": true, "d": false, "e": null,
                 "f": {"g": ["}", {"h": "]"}]}, "i": [1, [2, {}]], "j": 0 } "#,
        )
        .expect("valid");
        let want = vec![
            ("a".to_owned(), Scalar::Text("x\"y\\z/é😀\n".into())),
            ("b".into(), Scalar::Number(-125.0)),
            ("c".into(), Scalar::Bool(true)),
            ("d".into(), Scalar::Bool(false)),
            ("e".into(), Scalar::Other),
            ("f".into(), Scalar::Other),
            ("i".into(), Scalar::Other),
            ("j".into(), Scalar::Number(0.0)),
        ];
        assert_eq!(got, want);
        assert_eq!(members("{}").expect("empty"), vec![]);
    }

    #[test]
    fn whole_numbers() {
        assert_eq!(Scalar::Number(42.0).whole(), Some(42));
        assert_eq!(Scalar::Number(0.5).whole(), None);
        assert_eq!(Scalar::Number(-1.0).whole(), None);
        assert_eq!(Scalar::Text("1".into()).whole(), None);
    }

    #[test]
    fn nested_objects_and_arrays_are_visited() {
        let mut r = Reader::new(r#"{"list": [{"n": 1}, {"n": 2, "skip": [3]}], "o": {"n": 4}}"#, "test");
        let mut seen = Vec::new();
        r.object(|k, r| match k {
            "list" => r.array(|r| {
                r.object(|k, r| {
                    let v = r.value()?;
                    if k == "n" {
                        seen.push(v.whole().unwrap_or(0));
                    }
                    Ok(())
                })
            }),
            _ => r.value().map(drop),
        })
        .expect("valid");
        assert_eq!(seen, [1, 2]);
    }

    #[test]
    fn malformed_text_is_an_error_naming_what_was_read() {
        for bad in [
            "",
            "[",
            "{",
            "{\"a\"",
            "{\"a\":",
            "{\"a\":1",
            "{\"a\":1,}",
            "{a:1}",
            "{\"a\":tru}",
            "{\"a\":\"x",
            "{\"a\":\"\\u12\"}",
            "{\"a\":[1,2}",
            "{\"a\":{\"b\":1]",
            "{\"a\":1} x",
            "{\"a\":+1}",
        ] {
            let err = members(bad).expect_err(bad);
            assert!(err.starts_with("test: "), "{bad}: {err}");
        }
    }
}
