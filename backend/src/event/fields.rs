//! An event's fields (every one besides its SID, type, time and workspace): names and values
//! in one text buffer, sorted by name, with one small index beside it.
//!
//! A replay decodes a million stored events a second or more (issue 14): a map of owned strings
//! cost two allocations per field, ~30 per event, and most of the decode's time. `Fields` costs
//! two allocations per event whatever the number of fields, and is read the way the map was:
//! `get` is a binary search over ~15 names.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserializer, Serialize, Serializer};

/// Where a field's name starts and ends in the buffer, and where its value (which follows
/// the name) ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    name_start: u32,
    name_end: u32,
    value_end: u32,
}

/// Field names and values (snake_case names, text values), each name once, in name order.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Fields {
    text: String,
    spans: Vec<Span>,
}

impl Fields {
    fn push(&mut self, name: &str, value: &str) {
        let name_start = self.end();
        self.text.push_str(name);
        let name_end = self.end();
        self.text.push_str(value);
        self.spans.push(Span { name_start, name_end, value_end: self.end() });
    }

    /// The buffer's length as a `u32` offset; [`super::Event`] refuses events that could
    /// not fit (200 fields of 64 KiB at most, names of TaskRouter's length).
    fn end(&self) -> u32 {
        u32::try_from(self.text.len()).unwrap_or(u32::MAX)
    }

    fn name(&self, i: usize) -> &str {
        let s = self.spans[i];
        &self.text[s.name_start as usize..s.name_end as usize]
    }

    fn value(&self, i: usize) -> &str {
        let s = self.spans[i];
        &self.text[s.name_end as usize..s.value_end as usize]
    }

    /// The index of `name`. A scan that compares lengths first: an event has ~15 fields,
    /// and most names looked up differ in length from most names present (cheaper than a
    /// binary search comparing text at each step).
    fn find(&self, name: &str) -> Option<usize> {
        let (key, text) = (name.as_bytes(), self.text.as_bytes());
        self.spans.iter().position(|s| {
            (s.name_end - s.name_start) as usize == key.len()
                && text.get(s.name_start as usize..s.name_end as usize) == Some(key)
        })
    }

    /// The value of `name`, empty or not.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.find(name).map(|i| self.value(i))
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// (name, value) in name order.
    pub fn iter(&self) -> Iter<'_> {
        Iter { fields: self, next: 0 }
    }

    /// As a map of owned strings (tests, rare edits).
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
    }

    /// Sets `name` to `value`; the old value, if any. Rebuilds the buffer (rare: edits of a
    /// built event, not decoding).
    pub fn insert(&mut self, name: &str, value: String) -> Option<String> {
        let mut map = self.to_map();
        let old = map.insert(name.to_owned(), value);
        *self = Self::from(&map);
        old
    }

    /// Removes `name`; its value, if it was there.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        let i = self.find(name)?;
        let old = self.value(i).to_owned();
        let mut map = self.to_map();
        map.remove(name);
        *self = Self::from(&map);
        Some(old)
    }

    /// Decodes the stored JSON object of string values (what [`Serialize`] writes) straight
    /// into the buffer. Reads what `serde_json::from_str::<BTreeMap<String, String>>` reads,
    /// with the same result: keys in any order, the last of a repeated key wins, anything
    /// but a string value is an error.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        let mut fields = match decode_compact(json) {
            Some(fields) => fields,
            None => {
                let mut de = serde_json::Deserializer::from_str(json);
                let fields = de.deserialize_map(FieldsVisitor)?;
                de.end()?;
                fields
            }
        };
        if !fields.is_sorted_unique() {
            fields = fields.sorted_last_wins();
        }
        Ok(fields)
    }

    fn is_sorted_unique(&self) -> bool {
        (1..self.spans.len()).all(|i| self.name(i - 1) < self.name(i))
    }

    /// Fields decoded in document order, put in name order, the last of equal names kept
    /// (rows written by hand or by another tool; Wallboard writes them in name order).
    fn sorted_last_wins(&self) -> Self {
        let mut order: Vec<usize> = (0..self.len()).collect();
        // Stable: equal names stay in document order, and the last of them is kept.
        order.sort_by(|&a, &b| self.name(a).cmp(self.name(b)));
        let mut out = Self { text: String::with_capacity(self.text.len()), spans: Vec::with_capacity(self.len()) };
        for (n, &i) in order.iter().enumerate() {
            if order.get(n + 1).is_none_or(|&next| self.name(next) != self.name(i)) {
                out.push(self.name(i), self.value(i));
            }
        }
        out
    }
}

/// Appends `name` in snake_case (`TaskQueueSid` → `task_queue_sid`; names already in
/// snake_case are unchanged): the vocabulary of callback forms turned into the Events API's.
pub(crate) fn push_snake_case(out: &mut String, name: &str) {
    let start = out.len();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 && !out[start..].ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
}

/// Whether `name` in snake_case ([`push_snake_case`]) is `snake`, without building it.
pub(crate) fn snake_case_is(name: &str, snake: &str) -> bool {
    let mut want = snake.chars();
    let mut last = None;
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            // The separator before a capital, unless one is there already.
            if i > 0 && last != Some('_') && want.next() != Some('_') {
                return false;
            }
            let lower = c.to_ascii_lowercase();
            if want.next() != Some(lower) {
                return false;
            }
            last = Some(lower);
        } else {
            if want.next() != Some(c) {
                return false;
            }
            last = Some(c);
        }
    }
    want.next().is_none()
}

impl Fields {
    /// The fields of a callback form, pairs in document order: names in snake_case, the
    /// last of equal names kept. Two allocations, or four when the form is not in name
    /// order (TaskRouter's are not), instead of four per field through a map.
    pub fn from_form<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut fields = Self::default();
        for (name, value) in pairs {
            let name_start = fields.end();
            push_snake_case(&mut fields.text, name);
            let name_end = fields.end();
            fields.text.push_str(value);
            fields.spans.push(Span { name_start, name_end, value_end: fields.end() });
        }
        if fields.is_sorted_unique() { fields } else { fields.sorted_last_wins() }
    }
}

impl From<&BTreeMap<String, String>> for Fields {
    fn from(map: &BTreeMap<String, String>) -> Self {
        let mut out = Self {
            text: String::with_capacity(map.iter().map(|(k, v)| k.len() + v.len()).sum()),
            spans: Vec::with_capacity(map.len()),
        };
        for (k, v) in map {
            out.push(k, v);
        }
        out
    }
}

impl<'a> IntoIterator for &'a Fields {
    type Item = (&'a str, &'a str);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The fields in name order (see [`Fields::iter`]).
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    fields: &'a Fields,
    next: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        let i = self.next;
        (i < self.fields.len()).then(|| {
            self.next += 1;
            (self.fields.name(i), self.fields.value(i))
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.fields.len() - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// As a JSON object in name order: the bytes a `BTreeMap<String, String>` of the same fields
/// serializes to, so rows written before and after `Fields` read alike.
impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

/// The form Wallboard stores (`serde_json`'s compact output: `{"name":"value",…}`, no
/// spaces, the escapes it writes for quotes, backslashes and common control characters)
/// decoded in one pass without serde; `None` for anything else (spaces, `\u` escapes,
/// a value that is not a string, an error), which serde_json then reads. Where both
/// read a document they read the same fields; the tests check.
fn decode_compact(json: &str) -> Option<Fields> {
    let b = json.as_bytes();
    // JSON refuses raw control characters in strings (serde_json says so); one pass that
    // the compiler vectorizes, so that the strings are scanned for two bytes only.
    let control = b.iter().fold(false, |seen, &c| seen | (c < 0x20));
    if b.first() != Some(&b'{') || control || json.len() > u32::MAX as usize {
        return None;
    }
    let mut out = Fields { text: String::with_capacity(json.len()), spans: Vec::with_capacity(16) };
    if b.get(1) == Some(&b'}') {
        return (b.len() == 2).then_some(out);
    }
    let mut i = 1;
    loop {
        let name_start = out.end();
        i = compact_string(json, i, &mut out.text)?;
        if b.get(i) != Some(&b':') {
            return None;
        }
        let name_end = out.end();
        i = compact_string(json, i + 1, &mut out.text)?;
        out.spans.push(Span { name_start, name_end, value_end: out.end() });
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'}') if i + 1 == b.len() => return Some(out),
            _ => return None,
        }
    }
}

/// The JSON string at `json[i..]` appended to `out`, unescaped; the index after its
/// closing quote.
fn compact_string(json: &str, mut i: usize, out: &mut String) -> Option<usize> {
    let b = json.as_bytes();
    if b.get(i) != Some(&b'"') {
        return None;
    }
    i += 1;
    loop {
        let run = memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        // Split only at ASCII bytes, so always at a character boundary.
        out.push_str(json.get(i..i + run)?);
        i += run;
        match b[i] {
            b'"' => return Some(i + 1),
            b'\\' => {
                out.push(match b.get(i + 1)? {
                    b'"' => '"',
                    b'\\' => '\\',
                    b'/' => '/',
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    _ => return None,
                });
                i += 2;
            }
            _ => return None,
        }
    }
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
        let mut out =
            Fields { text: String::with_capacity(1024), spans: Vec::with_capacity(map.size_hint().unwrap_or(16)) };
        loop {
            let name_start = out.end();
            if map.next_key_seed(Append(&mut out.text))?.is_none() {
                break;
            }
            let name_end = out.end();
            map.next_value_seed(Append(&mut out.text))?;
            if out.text.len() > u32::MAX as usize {
                return Err(de::Error::custom("the fields are longer than 4 GiB"));
            }
            out.spans.push(Span { name_start, name_end, value_end: out.end() });
        }
        Ok(out)
    }
}

/// A JSON string appended to the buffer, unescaped, without allocating.
struct Append<'b>(&'b mut String);

impl<'de> DeserializeSeed<'de> for Append<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Append<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.push_str(v);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a callback form read as before `Fields::from_form`: a map of snake_case names,
    /// the last of equal names kept.
    fn form_reference(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        for (k, v) in pairs {
            let mut name = String::new();
            push_snake_case(&mut name, k);
            map.insert(name, (*v).to_owned());
        }
        map
    }

    #[test]
    fn snake_case_names() {
        let snake = |s: &str| {
            let mut out = String::new();
            push_snake_case(&mut out, s);
            out
        };
        assert_eq!(snake("TaskChannelUniqueName"), "task_channel_unique_name");
        assert_eq!(snake("task_sid"), "task_sid");
        assert_eq!(snake("Sid"), "sid");
        assert_eq!(snake("SID"), "s_i_d");
        assert_eq!(snake("Task_Sid"), "task_sid");
        assert_eq!(snake("_Sid"), "_sid");
        assert_eq!(snake("ÉtatX"), "État_x", "only ASCII capitals");
        for name in
            ["Sid", "sid", "SID", "Sid_", "_Sid", "S", "", "EventType", "event_type", "Event_Type", "EventTypeX"]
        {
            for target in ["sid", "event_type", "s_i_d", "", "_sid", "sid_"] {
                assert_eq!(snake_case_is(name, target), snake(name) == target, "{name} as {target}");
            }
        }
    }

    proptest::proptest! {
        /// Any form, names and values in any order, with repeats: what the map read.
        #[test]
        fn a_form_reads_as_the_map_did(
            pairs in proptest::collection::vec(("[A-Za-z_é]{0,6}", "[a-z0-9%{}\\\"é]{0,6}"), 0..12),
            target in "[a-z_]{0,5}",
        ) {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let fields = Fields::from_form(pairs.iter().copied());
            proptest::prop_assert_eq!(fields.to_map(), form_reference(&pairs));
            proptest::prop_assert_eq!(&fields, &Fields::from(&form_reference(&pairs)));
            for (name, _) in &pairs {
                let mut snake = String::new();
                push_snake_case(&mut snake, name);
                proptest::prop_assert_eq!(snake_case_is(name, &target), snake == target);
                proptest::prop_assert!(snake_case_is(name, &snake));
            }
        }
    }

    /// What the stored JSON read as before `Fields`: the reference decoder.
    fn reference(json: &str) -> Result<BTreeMap<String, String>, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn decodes_as_a_map_of_strings_does() {
        for json in [
            r#"{}"#,
            r#"{"a":"1","b":""}"#,
            r#" { "task_sid" : "WT1" , "task_attributes":"{\"from\":\"+1 \\\"x\\\"\",\"n\":1}" } "#,
            r#"{"z":"last","a":"first","m":"é\u00e9\ud83d\ude00\n\t\\/"}"#,
            r#"{"k":"1","j":"2","k":"3"}"#,
            r#"{"k":"1","k":"1"}"#,
            r#"{"":"empty name","b":"x"}"#,
        ] {
            let fields = Fields::from_json(json).expect(json);
            let map = reference(json).expect(json);
            assert_eq!(fields.to_map(), map, "{json}");
            assert_eq!(fields, Fields::from(&map), "{json}: canonical");
            assert_eq!(serde_json::to_string(&fields).expect("json"), serde_json::to_string(&map).expect("json"));
        }
    }

    #[test]
    fn the_compact_form_decodes_without_serde_as_serde_does() {
        for json in [
            r#"{}"#,
            r#"{"a":""}"#,
            r#"{"a":"\"\\\/\b\f\n\r\t","b":"été ☎ 👩‍💼"}"#,
            r#"{"task_attributes":"{\"from\":\"+1 \\\"x\\\"\"}","z":"1"}"#,
            r#"{"b":"1","a":"2","b":"3"}"#,
        ] {
            assert!(decode_compact(json).is_some(), "{json}: the fast path reads it");
            let map = reference(json).expect(json);
            assert_eq!(Fields::from_json(json).expect(json), Fields::from(&map), "{json}");
        }
        for json in [
            r#"{ "a":"1"}"#,
            r#"{"a":"\u00e9"}"#,
            r#"{"a":1}"#,
            r#"{"a":"1",}"#,
            r#"{"a":"1"} "#,
            r#"{"a":"1"}}"#,
            r#"{"a":"1""#,
            r#"{"a":"x"#,
            "{\"a\":\"\u{1}\"}",
            r#"{"a":"\x"}"#,
            r#"{"a""b"}"#,
            r#"{}"#.trim_end_matches('}'),
        ] {
            assert!(decode_compact(json).is_none(), "{json}: left to serde_json");
            match (Fields::from_json(json), reference(json)) {
                (Ok(f), Ok(map)) => assert_eq!(f, Fields::from(&map), "{json}"),
                (Err(_), Err(_)) => {}
                (f, map) => panic!("{json}: {f:?} but {map:?}"),
            }
        }
    }

    #[test]
    fn refuses_what_a_map_of_strings_refuses() {
        for json in [
            r#"{"a":1}"#,
            r#"{"a":null}"#,
            r#"{"a":true}"#,
            r#"{"a":["x"]}"#,
            r#"{"a":{"b":"c"}}"#,
            r#"["a","b"]"#,
            r#""a""#,
            r#"{"a":"b"} x"#,
            r#"{"a":"b""#,
            r#"{"a":"\ud800"}"#,
            "",
        ] {
            assert!(reference(json).is_err(), "{json}: the reference refuses it");
            assert!(Fields::from_json(json).is_err(), "{json}");
        }
    }

    #[test]
    fn reads_like_the_map() {
        let map: BTreeMap<String, String> = [("b", "2"), ("a", "1"), ("c", ""), ("aa", "x")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut f = Fields::from(&map);
        assert_eq!(
            (f.get("a"), f.get("aa"), f.get("b"), f.get("c"), f.get("d")),
            (Some("1"), Some("x"), Some("2"), Some(""), None)
        );
        assert_eq!(f.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["a", "aa", "b", "c"]);
        assert_eq!((f.len(), f.contains_key("c"), f.contains_key("")), (4, true, false));
        assert_eq!(f.insert("b", "3".into()), Some("2".into()));
        assert_eq!(f.insert("0", "z".into()), None);
        assert_eq!(f.remove("aa"), Some("x".into()));
        assert_eq!(f.remove("aa"), None);
        assert_eq!(f.iter().collect::<Vec<_>>(), [("0", "z"), ("a", "1"), ("b", "3"), ("c", "")]);
        assert_eq!(format!("{f:?}"), r#"{"0": "z", "a": "1", "b": "3", "c": ""}"#);
    }
}
