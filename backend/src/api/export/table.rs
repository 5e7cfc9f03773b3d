//! A table (named columns, rows of cells) and its streamed encodings: CSV (RFC 4180
//! quoting by the `csv` crate) or a JSON array of objects keyed by the same column names.
//! Rows are encoded a chunk at a time as the body is sent, so 2,000 agents or a long
//! alert history never become one big string; every time cell is written in the export's
//! zone, which the time columns' names state.

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;
use wallboard_shared::export::{Format, column_header};

/// Rows encoded per chunk of the body.
const ROWS_PER_CHUNK: usize = 256;
/// How a time cell is written: what a spreadsheet reads as a date and time.
const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Text(String),
    Count(u64),
    Number(f64),
    Flag(bool),
    /// An instant, written in the export's zone.
    Time(DateTime<Utc>),
    Empty,
}

impl Cell {
    /// A number, text, flag or null of a resource's JSON (an RFC 3339 string is a time).
    pub(crate) fn of_json(v: &Value) -> Self {
        match v {
            Value::Null => Self::Empty,
            Value::Bool(b) => Self::Flag(*b),
            Value::Number(n) => n.as_u64().map_or_else(|| Self::Number(n.as_f64().unwrap_or(f64::NAN)), Self::Count),
            Value::String(s) => DateTime::parse_from_rfc3339(s)
                .map_or_else(|_| Self::Text(s.clone()), |t| Self::Time(t.with_timezone(&Utc))),
            other => Self::Text(other.to_string()),
        }
    }

    fn text(&self, zone: Tz) -> String {
        match self {
            Self::Text(s) => s.clone(),
            Self::Count(n) => n.to_string(),
            Self::Number(x) if x.is_finite() => x.to_string(),
            Self::Number(_) | Self::Empty => String::new(),
            Self::Flag(b) => b.to_string(),
            Self::Time(t) => t.with_timezone(&zone).format(TIME_FORMAT).to_string(),
        }
    }

    fn json(&self, zone: Tz) -> String {
        match self {
            Self::Count(n) => n.to_string(),
            Self::Number(x) if x.is_finite() => x.to_string(),
            Self::Number(_) | Self::Empty => "null".to_owned(),
            Self::Flag(b) => b.to_string(),
            Self::Text(_) | Self::Time(_) => json_string(&self.text(zone)),
        }
    }
}

fn json_string(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// The rows of a table, produced as they are encoded.
pub(crate) type Rows = Box<dyn Iterator<Item = Vec<Cell>> + Send>;

/// Column names (a time column's header adds the zone) and rows of as many cells.
pub(crate) struct Table {
    pub columns: Vec<String>,
    pub rows: Rows,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table").field("columns", &self.columns).finish_non_exhaustive()
    }
}

/// The body of `table` in `format`, the time cells in `zone`, encoded chunk by chunk.
pub(crate) fn body(table: Table, format: Format, zone: Tz) -> Body {
    let chunks = Chunks { headers: table.columns, rows: table.rows, format, zone, stage: Stage::Head };
    Body::from_stream(futures_util::stream::iter(chunks.map(Ok::<Bytes, Infallible>)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Head,
    Rows { first: bool },
    Done,
}

struct Chunks {
    headers: Vec<String>,
    rows: Rows,
    format: Format,
    zone: Tz,
    stage: Stage,
}

impl Chunks {
    fn csv(&self, records: impl Iterator<Item = Vec<String>>) -> Bytes {
        let mut writer = csv::Writer::from_writer(Vec::new());
        for record in records {
            // Writing into memory fails only on a record of another length, which the
            // table's rows never are; such a record is dropped, not a panic.
            if let Err(e) = writer.write_record(&record) {
                tracing::error!(error = %e, "export: a row could not be written");
            }
        }
        Bytes::from(writer.into_inner().unwrap_or_default())
    }

    fn json_row(&self, row: &[Cell]) -> String {
        let fields: Vec<String> = self
            .headers
            .iter()
            .zip(row)
            .map(|(name, cell)| {
                format!("{}:{}", json_string(&column_header(name, self.zone.name())), cell.json(self.zone))
            })
            .collect();
        format!("{{{}}}", fields.join(","))
    }
}

impl Iterator for Chunks {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        match self.stage {
            Stage::Done => None,
            Stage::Head => {
                self.stage = Stage::Rows { first: true };
                Some(match self.format {
                    Format::Csv => {
                        let zone = self.zone.name();
                        self.csv(std::iter::once(self.headers.iter().map(|h| column_header(h, zone)).collect()))
                    }
                    Format::Json => Bytes::from_static(b"["),
                })
            }
            Stage::Rows { first } => {
                let rows: Vec<Vec<Cell>> = self.rows.by_ref().take(ROWS_PER_CHUNK).collect();
                if rows.is_empty() {
                    self.stage = Stage::Done;
                    return match self.format {
                        Format::Csv => None,
                        Format::Json => Some(Bytes::from_static(b"]\n")),
                    };
                }
                self.stage = Stage::Rows { first: false };
                Some(match self.format {
                    Format::Csv => {
                        let zone = self.zone;
                        self.csv(rows.iter().map(|r| r.iter().map(|c| c.text(zone)).collect()))
                    }
                    Format::Json => {
                        let lines: Vec<String> = rows.iter().map(|r| self.json_row(r)).collect();
                        let lead = if first { "\n" } else { ",\n" };
                        Bytes::from(format!("{lead}{}", lines.join(",\n")))
                    }
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(format: Format, zone: Tz, rows: Vec<Vec<Cell>>) -> String {
        let table = Table { columns: vec!["name".into(), "fired".into()], rows: Box::new(rows.into_iter()) };
        let chunks = Chunks { headers: table.columns, rows: table.rows, format, zone, stage: Stage::Head };
        chunks.map(|b| String::from_utf8_lossy(&b).into_owned()).collect()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("valid").with_timezone(&Utc)
    }

    #[test]
    fn csv_quotes_commas_quotes_and_newlines_and_states_the_zone() {
        let rows = vec![vec![Cell::Text("Sales, \"EU\"\nnorth".into()), Cell::Time(at("2026-07-01T10:00:00Z"))]];
        let csv = encode(Format::Csv, chrono_tz::Europe::Paris, rows);
        assert_eq!(csv, "name,fired (Europe/Paris)\n\"Sales, \"\"EU\"\"\nnorth\",2026-07-01 12:00:00\n");
    }

    #[test]
    fn json_is_an_array_of_the_same_rows_across_chunks() {
        let rows: Vec<Vec<Cell>> =
            (0..(ROWS_PER_CHUNK as u64 + 2)).map(|i| vec![Cell::Count(i), Cell::Empty]).collect();
        let json = encode(Format::Json, chrono_tz::UTC, rows);
        let parsed: Value = serde_json::from_str(&json).expect("one JSON array");
        let items = parsed.as_array().expect("array");
        assert_eq!(items.len(), ROWS_PER_CHUNK + 2);
        assert_eq!(items[257]["name"], 257);
        assert_eq!(items[0]["fired (UTC)"], Value::Null);
        assert_eq!(encode(Format::Json, chrono_tz::UTC, Vec::new()), "[]\n");
    }

    #[test]
    fn cells_of_a_resource_json() {
        assert_eq!(Cell::of_json(&serde_json::json!(3)), Cell::Count(3));
        assert_eq!(Cell::of_json(&serde_json::json!(1.5)), Cell::Number(1.5));
        assert_eq!(Cell::of_json(&serde_json::json!("2026-07-01T10:00:00Z")), Cell::Time(at("2026-07-01T10:00:00Z")));
        assert_eq!(Cell::of_json(&serde_json::json!("voice")), Cell::Text("voice".into()));
        assert_eq!(Cell::Number(f64::NAN).text(chrono_tz::UTC), "");
    }
}
