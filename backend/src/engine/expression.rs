//! TaskRouter's expression language (a TaskQueue's `TargetWorkers`): parsed once into an
//! AST, evaluated against a worker's attributes (a JSON value) as often as needed.
//!
//! Grammar (keywords case-insensitive, `AND` binds tighter than `OR`):
//!
//! ```text
//! expr       := and (("OR" | "||") and)*
//! and        := primary (("AND" | "&&") primary)*
//! primary    := "(" expr ")" | operand op operand
//! op         := "==" | "=" | "!=" | "<" | "<=" | ">" | ">=" | "CONTAINS"
//!             | "HAS" | ">-" | "IN" | "<-" | "NOT" "IN"
//! operand    := literal | "[" (literal ("," literal)*)? "]" | reference
//! literal    := 'string' | "string" | number | true | false | null
//! reference  := name ("." name | "[" integer "]")*
//! ```
//!
//! Semantics where Twilio documents them: a missing key is NULL; a scalar operator on an
//! array is false; an array operator on two scalars is false. Where Twilio is silent we
//! chose (see `docs/decisions-queues-workers.md`): any comparison with NULL is false (also
//! `!=` and `NOT IN`, as in SQL); values of different types never compare (a string `"5"`
//! is not the number `5`), which makes `==`/`!=`/ordering all false; strings compare
//! case-sensitively, by bytes; `>-` and `<-` are always `HAS` and `IN`, so `x >- 1` is `x
//! HAS 1` (write `x > -1` for the comparison); a lone operand without operator is an error.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

/// Deepest parenthesis nesting accepted: deeper input is refused instead of
/// overflowing the stack while parsing or evaluating.
const MAX_DEPTH: usize = 64;
/// Longest expression accepted (Twilio's own limit is unpublished; real ones are short).
const MAX_LEN: usize = 16 * 1024;

/// Why an expression could not be parsed; `pos` is the byte offset of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {pos}")]
pub struct ParseError {
    pub pos: usize,
    pub kind: ParseErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    #[error("unexpected character {0:?}")]
    UnexpectedChar(char),
    #[error("unterminated string")]
    UnterminatedString,
    #[error("malformed number")]
    BadNumber,
    #[error("expected {expected}, found {found}")]
    Unexpected { expected: &'static str, found: String },
    #[error("parentheses nested deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("expression longer than {MAX_LEN} bytes")]
    TooLong,
    #[error("empty expression")]
    Empty,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    Has,
    In,
    NotIn,
}

/// One step of a reference: a key of an object or an index into an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// A side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A constant (scalar or array literal), stored as JSON so it compares like attributes.
    Literal(Value),
    /// A path into the attributes (`routing.levels.billing`, `langs[0]`).
    Ref(Vec<Step>),
}

/// The parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Cmp { left: Operand, op: Op, right: Operand },
}

/// A parsed expression with its source text.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    source: String,
    root: Expr,
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Expression {
    /// Parses `source`; never panics, whatever the input.
    pub fn parse(source: &str) -> Result<Self, ParseError> {
        if source.len() > MAX_LEN {
            return Err(ParseError { pos: MAX_LEN, kind: ParseErrorKind::TooLong });
        }
        let tokens = lex(source)?;
        let mut p = Parser { tokens: &tokens, at: 0, end: source.len(), depth: 0 };
        if tokens.is_empty() {
            return Err(ParseError { pos: 0, kind: ParseErrorKind::Empty });
        }
        let root = p.or()?;
        if let Some(t) = p.peek() {
            return Err(p.unexpected("AND, OR or the end", t));
        }
        Ok(Self { source: source.to_owned(), root })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn root(&self) -> &Expr {
        &self.root
    }

    /// Whether a worker with these attributes matches.
    pub fn matches(&self, attributes: &Value) -> bool {
        eval(&self.root, attributes)
    }
}

fn eval(e: &Expr, attrs: &Value) -> bool {
    match e {
        Expr::Or(xs) => xs.iter().any(|x| eval(x, attrs)),
        Expr::And(xs) => xs.iter().all(|x| eval(x, attrs)),
        Expr::Cmp { left, op, right } => compare(resolve(left, attrs), *op, resolve(right, attrs)),
    }
}

fn resolve<'a>(o: &'a Operand, attrs: &'a Value) -> Option<&'a Value> {
    match o {
        Operand::Literal(v) => Some(v),
        Operand::Ref(steps) => {
            let mut v = attrs;
            for s in steps {
                v = match (s, v) {
                    (Step::Key(k), Value::Object(m)) => m.get(k)?,
                    (Step::Index(i), Value::Array(a)) => a.get(*i)?,
                    _ => return None,
                };
            }
            // A JSON null attribute is as missing as an absent one.
            (!v.is_null()).then_some(v)
        }
    }
}

fn compare(l: Option<&Value>, op: Op, r: Option<&Value>) -> bool {
    let (Some(l), Some(r)) = (l, r) else {
        return false; // NULL compares with nothing, not even with `!=` or `NOT IN`
    };
    let scalar = |v: &Value| !v.is_array() && !v.is_object() && !v.is_null();
    match op {
        Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            if !scalar(l) || !scalar(r) {
                return false;
            }
            let Some(ord) = order(l, r) else {
                return false;
            };
            match op {
                Op::Eq => ord == Ordering::Equal,
                Op::Ne => ord != Ordering::Equal,
                // Booleans are equal or not, never ordered.
                _ if l.is_boolean() => false,
                Op::Lt => ord == Ordering::Less,
                Op::Le => ord != Ordering::Greater,
                Op::Gt => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            }
        }
        Op::Contains => match (l, r) {
            (Value::String(a), Value::String(b)) => a.contains(b.as_str()),
            _ => false,
        },
        Op::Has => match l {
            Value::Array(items) if scalar(r) => items.iter().any(|i| same(i, r)),
            _ => false,
        },
        Op::In | Op::NotIn => match r {
            Value::Array(items) if scalar(l) => items.iter().any(|i| same(l, i)) == (op == Op::In),
            _ => false,
        },
    }
}

/// Order of two scalars of the same type; `None` across types.
fn order(l: &Value, r: &Value) -> Option<Ordering> {
    match (l, r) {
        (Value::String(a), Value::String(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)), // exact for integers past 2^53
            _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
        },
        _ => None,
    }
}

fn same(a: &Value, b: &Value) -> bool {
    order(a, b) == Some(Ordering::Equal)
}

// ---------------------------------------------------------------- lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Str(String),
    Num(Value),
    True,
    False,
    Null,
    And,
    Or,
    Not,
    Op(Op),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Name(n) => write!(f, "name {n:?}"),
            Tok::Str(s) => write!(f, "string {s:?}"),
            Tok::Num(n) => write!(f, "number {n}"),
            Tok::True => f.write_str("true"),
            Tok::False => f.write_str("false"),
            Tok::Null => f.write_str("null"),
            Tok::And => f.write_str("AND"),
            Tok::Or => f.write_str("OR"),
            Tok::Not => f.write_str("NOT"),
            Tok::Op(op) => write!(f, "operator {op:?}"),
            Tok::LParen => f.write_str("'('"),
            Tok::RParen => f.write_str("')'"),
            Tok::LBracket => f.write_str("'['"),
            Tok::RBracket => f.write_str("']'"),
            Tok::Comma => f.write_str("','"),
            Tok::Dot => f.write_str("'.'"),
        }
    }
}

fn lex(s: &str) -> Result<Vec<(usize, Tok)>, ParseError> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let fail = |pos: usize, kind| Err(ParseError { pos, kind });
    while i < b.len() {
        let c = b[i];
        let start = i;
        let two = b.get(i + 1).copied();
        let tok = match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b'[' => Tok::LBracket,
            b']' => Tok::RBracket,
            b',' => Tok::Comma,
            b'.' if !two.is_some_and(|d| d.is_ascii_digit()) => Tok::Dot,
            b'=' if two == Some(b'=') => {
                i += 1;
                Tok::Op(Op::Eq)
            }
            b'=' => Tok::Op(Op::Eq),
            b'!' if two == Some(b'=') => {
                i += 1;
                Tok::Op(Op::Ne)
            }
            b'<' | b'>' => {
                // `<-` and `>-` are Twilio's aliases of IN and HAS.
                let (eq, alias, plain) = if c == b'<' { (Op::Le, Op::In, Op::Lt) } else { (Op::Ge, Op::Has, Op::Gt) };
                match two {
                    Some(b'=') => {
                        i += 1;
                        Tok::Op(eq)
                    }
                    Some(b'-') => {
                        i += 1;
                        Tok::Op(alias)
                    }
                    _ => Tok::Op(plain),
                }
            }
            b'&' if two == Some(b'&') => {
                i += 1;
                Tok::And
            }
            b'|' if two == Some(b'|') => {
                i += 1;
                Tok::Or
            }
            b'\'' | b'"' => {
                let mut text = String::new();
                let mut j = i + 1;
                loop {
                    match b.get(j) {
                        None => return fail(start, ParseErrorKind::UnterminatedString),
                        Some(&q) if q == c => break,
                        Some(b'\\') if matches!(b.get(j + 1), Some(&n) if n == c || n == b'\\') => {
                            text.push(char::from(b[j + 1]));
                            j += 2;
                        }
                        Some(_) => {
                            // Copy one UTF-8 character (the input is a &str, so boundaries hold).
                            let ch = s[j..]
                                .chars()
                                .next()
                                .ok_or(ParseError { pos: j, kind: ParseErrorKind::UnterminatedString })?;
                            text.push(ch);
                            j += ch.len_utf8();
                        }
                    }
                }
                i = j;
                Tok::Str(text)
            }
            b'-' | b'0'..=b'9' | b'.' => {
                let mut j = i + usize::from(c == b'-');
                let digits = |j: &mut usize| {
                    let from = *j;
                    while b.get(*j).is_some_and(u8::is_ascii_digit) {
                        *j += 1;
                    }
                    *j > from
                };
                let int = digits(&mut j);
                let mut frac = false;
                if b.get(j) == Some(&b'.') {
                    j += 1;
                    frac = digits(&mut j);
                    if !frac {
                        return fail(start, ParseErrorKind::BadNumber);
                    }
                }
                if !int && !frac {
                    return fail(start, ParseErrorKind::UnexpectedChar('-'));
                }
                if matches!(b.get(j), Some(b'e' | b'E')) {
                    j += 1;
                    if matches!(b.get(j), Some(b'+' | b'-')) {
                        j += 1;
                    }
                    if !digits(&mut j) {
                        return fail(start, ParseErrorKind::BadNumber);
                    }
                }
                if b.get(j).is_some_and(|&n| n.is_ascii_alphabetic() || n == b'_') {
                    return fail(start, ParseErrorKind::BadNumber);
                }
                let text = &s[i..j];
                let value = match text.parse::<i64>() {
                    Ok(n) => Value::from(n),
                    Err(_) => match text.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                        Some(n) => Value::Number(n),
                        None => return fail(start, ParseErrorKind::BadNumber),
                    },
                };
                i = j - 1;
                Tok::Num(value)
            }
            _ => {
                let Some(ch) = s[i..].chars().next() else {
                    return fail(start, ParseErrorKind::Empty);
                };
                if !(ch.is_alphabetic() || ch == '_') {
                    return fail(start, ParseErrorKind::UnexpectedChar(ch));
                }
                let mut j = i;
                for ch in s[i..].chars() {
                    if !(ch.is_alphanumeric() || ch == '_') {
                        break;
                    }
                    j += ch.len_utf8();
                }
                let word = &s[i..j];
                i = j - 1;
                // After a dot every word is a key (`a.in`, `flags.true`), keywords included.
                let after_dot = matches!(out.last(), Some((_, Tok::Dot)));
                match if after_dot { String::new() } else { word.to_ascii_lowercase() }.as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    "in" => Tok::Op(Op::In),
                    "has" => Tok::Op(Op::Has),
                    "contains" => Tok::Op(Op::Contains),
                    "true" => Tok::True,
                    "false" => Tok::False,
                    "null" => Tok::Null,
                    _ => Tok::Name(word.to_owned()),
                }
            }
        };
        i += 1;
        out.push((start, tok));
    }
    Ok(out)
}

// ---------------------------------------------------------------- parser

struct Parser<'a> {
    tokens: &'a [(usize, Tok)],
    at: usize,
    /// Byte length of the source: the position reported for "unexpected end".
    end: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&(usize, Tok)> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<&(usize, Tok)> {
        let t = self.tokens.get(self.at);
        self.at += 1;
        t
    }

    fn unexpected(&self, expected: &'static str, found: &(usize, Tok)) -> ParseError {
        ParseError { pos: found.0, kind: ParseErrorKind::Unexpected { expected, found: found.1.to_string() } }
    }

    fn eof(&self, expected: &'static str) -> ParseError {
        ParseError { pos: self.end, kind: ParseErrorKind::Unexpected { expected, found: "the end".into() } }
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut xs = vec![self.and()?];
        while matches!(self.peek(), Some((_, Tok::Or))) {
            self.at += 1;
            xs.push(self.and()?);
        }
        Ok(if xs.len() == 1 { xs.remove(0) } else { Expr::Or(xs) })
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut xs = vec![self.primary()?];
        while matches!(self.peek(), Some((_, Tok::And))) {
            self.at += 1;
            xs.push(self.primary()?);
        }
        Ok(if xs.len() == 1 { xs.remove(0) } else { Expr::And(xs) })
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        match self.peek() {
            Some((pos, Tok::LParen)) => {
                let pos = *pos;
                if self.depth >= MAX_DEPTH {
                    return Err(ParseError { pos, kind: ParseErrorKind::TooDeep });
                }
                self.at += 1;
                self.depth += 1;
                let inner = self.or()?;
                self.depth -= 1;
                match self.next().cloned() {
                    Some((_, Tok::RParen)) => Ok(inner),
                    Some(t) => Err(self.unexpected("')'", &t)),
                    None => Err(self.eof("')'")),
                }
            }
            _ => {
                let left = self.operand()?;
                let op = match self.next().cloned() {
                    Some((_, Tok::Op(op))) => op,
                    Some((_, Tok::Not)) => match self.next().cloned() {
                        Some((_, Tok::Op(Op::In))) => Op::NotIn,
                        Some(t) => return Err(self.unexpected("IN after NOT", &t)),
                        None => return Err(self.eof("IN after NOT")),
                    },
                    Some(t) => return Err(self.unexpected("an operator", &t)),
                    None => return Err(self.eof("an operator")),
                };
                let right = self.operand()?;
                Ok(Expr::Cmp { left, op, right })
            }
        }
    }

    fn operand(&mut self) -> Result<Operand, ParseError> {
        let Some(t) = self.next().cloned() else {
            return Err(self.eof("a value or an attribute"));
        };
        Ok(match &t.1 {
            Tok::LBracket => {
                let mut items = Vec::new();
                if matches!(self.peek(), Some((_, Tok::RBracket))) {
                    self.at += 1;
                    return Ok(Operand::Literal(Value::Array(items)));
                }
                loop {
                    let Some(t) = self.next().cloned() else {
                        return Err(self.eof("a constant"));
                    };
                    items.push(literal(&t.1).ok_or_else(|| self.unexpected("a constant", &t))?);
                    match self.next().cloned() {
                        Some((_, Tok::Comma)) => {}
                        Some((_, Tok::RBracket)) => break,
                        Some(t) => return Err(self.unexpected("',' or ']'", &t)),
                        None => return Err(self.eof("']'")),
                    }
                }
                Operand::Literal(Value::Array(items))
            }
            Tok::Name(first) => {
                let mut steps = vec![Step::Key(first.clone())];
                loop {
                    match self.peek().map(|t| &t.1) {
                        Some(Tok::Dot) => {
                            self.at += 1;
                            match self.next().cloned() {
                                Some((_, Tok::Name(n))) => steps.push(Step::Key(n)),
                                Some(t) => return Err(self.unexpected("an attribute name after '.'", &t)),
                                None => return Err(self.eof("an attribute name after '.'")),
                            }
                        }
                        Some(Tok::LBracket) => {
                            self.at += 1;
                            let idx = match self.next().cloned() {
                                Some((_, Tok::Num(n))) if n.as_u64().is_some() => n.as_u64().unwrap_or_default(),
                                Some(t) => return Err(self.unexpected("an array index", &t)),
                                None => return Err(self.eof("an array index")),
                            };
                            match self.next().cloned() {
                                Some((_, Tok::RBracket)) => {}
                                Some(t) => return Err(self.unexpected("']'", &t)),
                                None => return Err(self.eof("']'")),
                            }
                            steps.push(Step::Index(usize::try_from(idx).unwrap_or(usize::MAX)));
                        }
                        _ => break,
                    }
                }
                Operand::Ref(steps)
            }
            other => match literal(other) {
                Some(v) => Operand::Literal(v),
                None => return Err(self.unexpected("a value or an attribute", &t)),
            },
        })
    }
}

fn literal(t: &Tok) -> Option<Value> {
    Some(match t {
        Tok::Str(s) => Value::String(s.clone()),
        Tok::Num(n) => n.clone(),
        Tok::True => Value::Bool(true),
        Tok::False => Value::Bool(false),
        Tok::Null => Value::Null,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use serde_json::json;

    use super::*;

    fn m(expr: &str, attrs: &Value) -> bool {
        Expression::parse(expr).unwrap_or_else(|e| panic!("{expr:?}: {e}")).matches(attrs)
    }

    fn bad(expr: &str) -> ParseError {
        Expression::parse(expr).expect_err(expr)
    }

    fn worker() -> Value {
        json!({
            "skills": ["support", "sales"],
            "languages": ["english"],
            "level": 5,
            "rating": 4.5,
            "name": "Alice Smith",
            "vip": true,
            "note": null,
            "routing": {"skills": ["billing"], "levels": {"billing": 3, "sales": 1}},
            "history": [{"queue": "q1"}, {"queue": "q2"}],
            "str_num": "5"
        })
    }

    #[test]
    fn constants() {
        let w = worker();
        assert!(m("1==1", &w));
        assert!(m("1 == 1", &w));
        assert!(!m("1==0", &w));
        assert!(m("1 = 1", &w));
        assert!(m("1.0 == 1", &w));
        assert!(m("'a' == \"a\"", &w));
        assert!(m("true == true", &w));
        assert!(!m("true == false", &w));
        assert!(m("-3 < 2", &w));
        assert!(m("1e3 == 1000", &w));
        assert!(m(".5 < 1", &w));
    }

    #[test]
    fn every_scalar_operator() {
        let w = worker();
        for (e, want) in [
            ("level == 5", true),
            ("level != 5", false),
            ("level != 4", true),
            ("level < 5", false),
            ("level < 6", true),
            ("level <= 5", true),
            ("level > 5", false),
            ("level > 4", true),
            ("level >= 5", true),
            ("level >= 5.5", false),
            ("rating > 4", true),
            ("rating == 4.5", true),
            ("name == 'Alice Smith'", true),
            ("name == 'alice smith'", false),
            ("name < 'Bob'", true),
            ("name >= 'Alice'", true),
            ("name CONTAINS 'Smith'", true),
            ("name contains 'smith'", false),
            ("name CONTAINS ''", true),
            ("vip == true", true),
            ("vip != false", true),
            ("vip > false", false),
            ("5 == level", true),
            ("'Smith' CONTAINS name", false),
        ] {
            assert_eq!(m(e, &w), want, "{e}");
        }
    }

    #[test]
    fn every_array_operator() {
        let w = worker();
        for (e, want) in [
            ("skills HAS 'support'", true),
            ("skills has 'marketing'", false),
            ("skills >- 'sales'", true),
            ("'sales' IN ['a', 'sales']", true),
            ("'sales' in ['a', 'b']", false),
            ("'sales' <- ['sales']", true),
            ("'sales' NOT IN ['a', 'b']", true),
            ("'sales' not in ['sales']", false),
            ("level IN [1, 5, 9]", true),
            ("level IN [1.0, 5.0]", true),
            ("level NOT IN []", true),
            ("level IN []", false),
            ("'support' IN skills", true),
            ("name IN skills", false),
            // An array operator on two scalars, a scalar operator on an array: false.
            ("level HAS 5", false),
            ("level IN 5", false),
            ("level NOT IN 5", false),
            ("skills == 'support'", false),
            ("skills != 'support'", false),
            ("skills CONTAINS 'support'", false),
            ("skills IN ['support']", false),
            ("skills HAS ['support']", false),
        ] {
            assert_eq!(m(e, &w), want, "{e}");
        }
    }

    #[test]
    fn reference_docs_example() {
        let e = "(skills HAS \"support\") AND (languages HAS \"english\")";
        assert!(m(e, &json!({"skills": ["support", "sales"], "languages": ["english"]})));
        assert!(!m(e, &json!({"skills": ["sales"], "languages": ["spanish", "english"]})));
    }

    #[test]
    fn nested_and_indexed_attributes() {
        let w = worker();
        assert!(m("routing.skills HAS 'billing' AND routing.levels.billing >= 3", &w));
        assert!(!m("routing.levels.sales >= 3", &w));
        assert!(m("skills[0] == 'support'", &w));
        assert!(m("skills[1] == 'sales'", &w));
        assert!(!m("skills[2] == 'sales'", &w));
        assert!(m("history[1].queue == 'q2'", &w));
        assert!(!m("routing.levels[0] == 3", &w));
        assert!(!m("level.sub == 5", &w));
        assert!(m("a.in == 1", &json!({"a": {"in": 1}})));
        assert!(m("a.IN == 1 AND a.true == 2", &json!({"a": {"IN": 1, "true": 2}})));
    }

    #[test]
    fn missing_and_null_compare_false() {
        let w = worker();
        for e in [
            "missing == 1",
            "missing != 1",
            "missing < 1",
            "missing HAS 'a'",
            "missing IN ['a']",
            "missing NOT IN ['a']",
            "'a' NOT IN missing",
            "missing CONTAINS 'a'",
            "note == null",
            "note != 1",
            "routing.nothing.deeper == 1",
        ] {
            assert!(!m(e, &w), "{e}");
        }
    }

    #[test]
    fn types_do_not_mix() {
        let w = worker();
        assert!(!m("str_num == 5", &w));
        assert!(!m("str_num != 5", &w));
        assert!(!m("str_num > 4", &w));
        assert!(m("str_num == '5'", &w));
        assert!(!m("vip == 1", &w));
        assert!(!m("level == '5'", &w));
    }

    #[test]
    fn precedence_and_parentheses() {
        let w = worker();
        // AND binds tighter: false AND false OR true == (false AND false) OR true.
        assert!(m("1==0 AND 1==0 OR 1==1", &w));
        assert!(m("1==1 OR 1==0 AND 1==0", &w));
        assert!(!m("(1==1 OR 1==0) AND 1==0", &w));
        assert!(m("1==1 && (1==0 || 2==2)", &w));
        assert!(m("((((level == 5))))", &w));
        assert!(m("1==1 and 2==2 AND 3==3 And 4==4", &w));
        assert!(!m("1==1 and 2==2 AND 3==3 And 4==5", &w));
        let parsed = Expression::parse("a==1 OR b==1 AND c==1").expect("valid");
        assert!(matches!(parsed.root(), Expr::Or(xs) if xs.len() == 2 && matches!(xs[1], Expr::And(_))));
    }

    #[test]
    fn strings_escape_and_unicode() {
        let w = json!({"name": "O'Brien", "city": "Zürich"});
        assert!(m(r"name == 'O\'Brien'", &w));
        assert!(m(r#"name == "O'Brien""#, &w));
        assert!(m("city == 'Zürich'", &w));
        assert!(m("ünï == 1", &json!({"ünï": 1})));
    }

    #[test]
    fn malformed_expressions_are_typed_errors_with_position() {
        assert_eq!(bad("").kind, ParseErrorKind::Empty);
        assert_eq!(bad("   ").kind, ParseErrorKind::Empty);
        assert_eq!(
            bad("level =="),
            ParseError {
                pos: 8,
                kind: ParseErrorKind::Unexpected { expected: "a value or an attribute", found: "the end".into() }
            }
        );
        assert_eq!(bad("name == 'abc").pos, 8);
        assert_eq!(bad("name == 'abc").kind, ParseErrorKind::UnterminatedString);
        assert_eq!(bad("level ~ 1"), ParseError { pos: 6, kind: ParseErrorKind::UnexpectedChar('~') });
        assert_eq!(bad("first-name == 'a'").pos, 5);
        assert_eq!(bad("(level == 1").pos, 11);
        assert_eq!(bad("level == 1)").pos, 10);
        assert_eq!(bad("level").pos, 5);
        assert_eq!(bad("level == 1 AND").pos, 14);
        assert_eq!(bad("level NOT HAS 1").pos, 10);
        assert_eq!(bad("x IN [1, y]").pos, 9);
        assert_eq!(bad("x IN [1 2]").pos, 8);
        assert_eq!(bad("1 == 1 1 == 1").pos, 7);
        assert_eq!(bad("x[a] == 1").pos, 2);
        assert_eq!(bad("x. == 1").pos, 3);
        assert_eq!(bad("1.e5 == 1").kind, ParseErrorKind::BadNumber);
        assert_eq!(bad("12abc == 1").kind, ParseErrorKind::BadNumber);
        assert_eq!(bad("- == 1").kind, ParseErrorKind::UnexpectedChar('-'));
        assert_eq!(bad("1 == 1e999").kind, ParseErrorKind::BadNumber);
        let deep = format!("{}1==1{}", "(".repeat(100), ")".repeat(100));
        assert_eq!(bad(&deep).kind, ParseErrorKind::TooDeep);
        let ok = format!("{}1==1{}", "(".repeat(60), ")".repeat(60));
        assert!(m(&ok, &json!({})));
        assert_eq!(bad(&"1==1 OR ".repeat(5000)).kind, ParseErrorKind::TooLong);
        // The message says what and where.
        assert_eq!(bad("level ~ 1").to_string(), "unexpected character '~' at byte 6");
    }

    #[test]
    fn long_flat_chains_are_fine() {
        let e = vec!["level == 5"; 500].join(" AND ");
        assert!(m(&e, &worker()));
    }

    #[test]
    fn random_input_never_panics() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let pieces = [
            "(",
            ")",
            "[",
            "]",
            ",",
            ".",
            "'",
            "\"",
            "==",
            "=",
            "!=",
            "<",
            "<=",
            ">",
            ">=",
            ">-",
            "<-",
            "-",
            " AND ",
            " OR ",
            " NOT ",
            " IN ",
            " HAS ",
            " CONTAINS ",
            "&&",
            "||",
            "1",
            "2.5",
            "1e",
            "skills",
            "level",
            "a.b",
            "[0]",
            "'x'",
            "true",
            "null",
            "\\",
            "é",
            " ",
        ];
        let w = worker();
        for _ in 0..20_000 {
            let s: String = if rng.random_bool(0.5) {
                let n = rng.random_range(0..24);
                let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                let n = rng.random_range(0..12);
                (0..n).map(|_| pieces[rng.random_range(0..pieces.len())]).collect()
            };
            if let Ok(e) = Expression::parse(&s) {
                let _ = e.matches(&w);
                let _ = e.matches(&json!(null));
            }
        }
    }
}
