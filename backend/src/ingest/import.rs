//! `wallboard import`: NDJSON in the format of TaskRouter's Events API into the event log.

use std::io::BufRead;

use indicatif::ProgressBar;
use wallboard_shared::event::EventResource;

use crate::event::Event;
use crate::storage::{EventLog, StorageError};

/// Rejected lines listed in full in the summary; the rest are only counted.
const MAX_LISTED_REJECTIONS: usize = 50;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub read: u64,
    pub stored: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// (line number, reason) of the first rejected lines.
    pub rejections: Vec<(u64, String)>,
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "read {} events: {} stored, {} duplicates, {} rejected",
            self.read, self.stored, self.duplicates, self.rejected
        )?;
        for (line, reason) in &self.rejections {
            writeln!(f, "  line {line}: {reason}")?;
        }
        if self.rejected > self.rejections.len() as u64 {
            writeln!(f, "  … and {} more rejected lines", self.rejected - self.rejections.len() as u64)?;
        }
        Ok(())
    }
}

/// Reads NDJSON from `input` and appends it to `log` in batches of `batch_size`.
/// `progress`, when given, advances by bytes read.
pub fn import(
    input: impl BufRead,
    log: &mut dyn EventLog,
    batch_size: usize,
    progress: Option<&ProgressBar>,
) -> Result<ImportSummary, ImportError> {
    let mut summary = ImportSummary::default();
    let mut batch: Vec<Event> = Vec::with_capacity(batch_size);
    let mut flush = |batch: &mut Vec<Event>, summary: &mut ImportSummary| -> Result<(), ImportError> {
        if batch.is_empty() {
            return Ok(());
        }
        let fresh = log.append(batch)?;
        let stored = fresh.iter().filter(|&&f| f).count() as u64;
        summary.stored += stored;
        summary.duplicates += fresh.len() as u64 - stored;
        batch.clear();
        Ok(())
    };
    for (i, line) in input.lines().enumerate() {
        let line_no = i as u64 + 1;
        let line = line.map_err(|e| ImportError::Read { line: line_no, source: e })?;
        if let Some(p) = progress {
            p.inc(line.len() as u64 + 1);
        }
        if line.trim().is_empty() {
            continue;
        }
        summary.read += 1;
        let parsed = serde_json::from_str::<EventResource>(&line)
            .map_err(|e| format!("not an event object: {e}"))
            .and_then(|r| Event::from_resource(r).map_err(|e| e.0));
        match parsed {
            Ok(event) => {
                batch.push(event);
                if batch.len() >= batch_size {
                    flush(&mut batch, &mut summary)?;
                }
            }
            Err(reason) => {
                summary.rejected += 1;
                if summary.rejections.len() < MAX_LISTED_REJECTIONS {
                    summary.rejections.push((line_no, reason));
                }
            }
        }
    }
    flush(&mut batch, &mut summary)?;
    Ok(summary)
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read line {line}: {source}")]
    Read { line: u64, source: std::io::Error },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::SqliteLog;

    #[test]
    fn counts_stored_duplicates_and_rejected_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = SqliteLog::open_dir(dir.path()).expect("open");
        let ok = |n: u32| {
            format!(
                r#"{{"sid":"EV{n:032x}","event_type":"task.created","event_date_ms":1700000000000,"workspace_sid":"WS{:032x}","event_data":{{"task_sid":"WT{n:032x}","workflow_sid":"WW{:032x}"}}}}"#,
                1, 1
            )
        };
        let input =
            [ok(1), ok(2), String::new(), ok(1), "{not json".into(), r#"{"sid":"EV1"}"#.into(), ok(3)].join("\n");
        let s = import(input.as_bytes(), &mut log, 2, None).expect("import");
        assert_eq!((s.read, s.stored, s.duplicates, s.rejected), (6, 3, 1, 2));
        assert_eq!(s.rejections.iter().map(|(l, _)| *l).collect::<Vec<_>>(), [5, 6]);
        assert_eq!(log.count().expect("count"), 3);
        let again = import(input.as_bytes(), &mut log, 100, None).expect("import");
        assert_eq!((again.stored, again.duplicates), (0, 4));
    }
}
