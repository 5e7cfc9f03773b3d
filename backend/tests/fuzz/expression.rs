//! TaskRouter's expression language (`engine::expression`, a queue's `TargetWorkers` and
//! the Workers list's `TargetWorkersExpression`): arbitrary text parses or gives a typed
//! error with a position inside the text; a generated expression, printed by the printer
//! below, parses back into the same tree; evaluation against generated worker attributes
//! never panics and is a function of the tree (its source spelling does not matter).

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;
use wallboard::engine::expression::{Expr, Expression, Op, Operand, Step};

use super::{cases, check};

/// Attribute names of the generated expressions and workers, so that references resolve.
const NAMES: &[&str] = &["skills", "level", "languages", "team", "routing", "in", "not", "x", "Ñandú", "_id"];

/// Pieces of expressions, valid and odd, for the token soup.
const PIECES: &[&str] = &[
    "skills",
    "level",
    ".",
    "[",
    "]",
    "(",
    ")",
    ",",
    "0",
    "-",
    "1.5",
    "1e3",
    "'en'",
    "\"fr\"",
    "'",
    "\"",
    "\\",
    "==",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    ">-",
    "<-",
    "HAS",
    "has",
    "IN",
    "NOT",
    "not in",
    "CONTAINS",
    "AND",
    "&&",
    "OR",
    "||",
    "true",
    "FALSE",
    "null",
    " ",
    "\t",
    "é",
    "😀",
    "\u{0}",
    "&",
    "|",
    "!",
    "99999999999999999999",
];

fn soup() -> impl Strategy<Value = String> {
    prop_oneof![
        vec(proptest::sample::select(PIECES), 0..24).prop_map(|p| p.concat()),
        "\\PC{0,60}",
        vec(any::<u8>(), 0..60).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        (0usize..80, 0usize..80).prop_map(|(open, close)| format!("{}x == 1{}", "(".repeat(open), ")".repeat(close))),
    ]
}

/// Worker attributes: JSON objects over [`NAMES`], nested.
fn attributes() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-5i64..5).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-10.0f64..10.0).prop_map(Value::from),
        proptest::sample::select(&["en", "fr", "sales", "", "EN"][..]).prop_map(Value::from),
    ];
    let value = leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            vec((proptest::sample::select(NAMES), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    });
    vec((proptest::sample::select(NAMES), value), 0..6)
        .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

#[test]
fn arbitrary_text_parses_or_gives_a_positioned_error() {
    check("expression::arbitrary_text", cases(), (soup(), attributes()), |(text, attrs)| {
        match Expression::parse(&text) {
            Ok(e) => {
                let _ = e.matches(&attrs);
                prop_assert_eq!(e.source(), text.as_str());
            }
            Err(err) => {
                prop_assert!(err.pos <= text.len(), "{err} in {} bytes", text.len());
                prop_assert!(!err.to_string().is_empty());
            }
        }
        Ok(())
    });
}

// ------------------------------------------------------------------- generated trees

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter_map("finite", |f| f.is_finite().then(|| serde_json::Number::from_f64(f)).flatten())
            .prop_map(Value::Number),
        "\\PC{0,12}".prop_map(Value::from),
        "['\"\\\\ a]{0,6}".prop_map(Value::from),
    ]
}

fn operand() -> impl Strategy<Value = Operand> {
    let key = prop_oneof![proptest::sample::select(NAMES).prop_map(str::to_owned), "[A-Za-z_][A-Za-z0-9_]{0,6}"];
    let step = prop_oneof![
        3 => key.clone().prop_map(Step::Key),
        1 => (0usize..1000).prop_map(Step::Index),
    ];
    prop_oneof![
        2 => scalar().prop_map(Operand::Literal),
        1 => vec(scalar(), 0..4).prop_map(|v| Operand::Literal(Value::Array(v))),
        // A reference starts with a name that is not a keyword; after it any key goes.
        3 => (key.prop_filter("not a keyword", |k| !is_keyword(k)), vec(step, 0..3)).prop_map(|(first, rest)| {
            let mut steps = vec![Step::Key(first)];
            steps.extend(rest);
            Operand::Ref(steps)
        }),
    ]
}

fn is_keyword(word: &str) -> bool {
    ["and", "or", "not", "in", "has", "contains", "true", "false", "null"].contains(&word.to_ascii_lowercase().as_str())
}

fn op() -> impl Strategy<Value = Op> {
    proptest::sample::select(vec![
        Op::Eq,
        Op::Ne,
        Op::Lt,
        Op::Le,
        Op::Gt,
        Op::Ge,
        Op::Contains,
        Op::Has,
        Op::In,
        Op::NotIn,
    ])
}

/// Trees as the parser builds them: `Or` and `And` of two or more.
fn tree() -> impl Strategy<Value = Expr> {
    let cmp = (operand(), op(), operand()).prop_map(|(left, op, right)| Expr::Cmp { left, op, right });
    cmp.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![vec(inner.clone(), 2..4).prop_map(Expr::Or), vec(inner, 2..4).prop_map(Expr::And)]
    })
}

/// Prints `e` in the language, in one of several spellings (`spelling` picks keyword case,
/// operator aliases and spacing), so that the parser reads it back as `e`.
fn print(e: &Expr, spelling: u8, out: &mut String) {
    let and = ["AND", "and", "&&", "And"][usize::from(spelling % 4)];
    let or = ["OR", "or", "||", "oR"][usize::from(spelling / 4 % 4)];
    let group = |x: &Expr, out: &mut String| match x {
        Expr::Cmp { .. } => print(x, spelling, out),
        _ => {
            out.push('(');
            print(x, spelling, out);
            out.push(')');
        }
    };
    match e {
        Expr::Or(xs) | Expr::And(xs) => {
            let word = if matches!(e, Expr::Or(_)) { or } else { and };
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push_str(&format!(" {word} "));
                }
                group(x, out);
            }
        }
        Expr::Cmp { left, op, right } => {
            print_operand(left, out);
            let aliases = spelling % 2 == 1;
            out.push_str(match op {
                Op::Eq if aliases => " = ",
                Op::Eq => " == ",
                Op::Ne => " != ",
                Op::Lt => " < ",
                Op::Le => " <= ",
                Op::Gt => " > ",
                Op::Ge => " >= ",
                Op::Contains => " CONTAINS ",
                Op::Has if aliases => " >- ",
                Op::Has => " HAS ",
                Op::In if aliases => " <- ",
                Op::In => " in ",
                Op::NotIn => " NOT IN ",
            });
            print_operand(right, out);
        }
    }
}

fn print_operand(o: &Operand, out: &mut String) {
    match o {
        Operand::Literal(Value::Array(items)) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                print_scalar(v, out);
            }
            out.push(']');
        }
        Operand::Literal(v) => print_scalar(v, out),
        Operand::Ref(steps) => {
            for (i, s) in steps.iter().enumerate() {
                match s {
                    Step::Key(k) if i == 0 => out.push_str(k),
                    Step::Key(k) => {
                        out.push('.');
                        out.push_str(k);
                    }
                    Step::Index(n) => out.push_str(&format!("[{n}]")),
                }
            }
        }
    }
}

fn print_scalar(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => {
            out.push('\'');
            for c in s.chars() {
                if c == '\'' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('\'');
        }
        // `{:?}` keeps a float a float (`3.0`, `1e300`); integers print as they are.
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => out.push_str(&format!("{f:?}")),
            _ => out.push_str(&n.to_string()),
        },
        Value::Bool(b) => out.push_str(if *b { "true" } else { "FALSE" }),
        _ => out.push_str("null"),
    }
}

#[test]
fn printed_trees_parse_back_and_evaluate() {
    check("expression::printed_trees", cases(), (tree(), any::<u8>(), attributes()), |(tree, spelling, attrs)| {
        let mut a = String::new();
        print(&tree, spelling, &mut a);
        let parsed = Expression::parse(&a).map_err(|e| TestCaseError::fail(format!("{a:?}: {e}")))?;
        prop_assert_eq!(parsed.root(), &tree, "{}", a);
        // Another spelling of the same tree matches the same workers.
        let mut b = String::new();
        print(&tree, spelling.wrapping_add(5), &mut b);
        let other = Expression::parse(&b).map_err(|e| TestCaseError::fail(format!("{b:?}: {e}")))?;
        prop_assert_eq!(parsed.matches(&attrs), other.matches(&attrs), "{} and {}", a, b);
        Ok(())
    });
}
