//! The engine's snapshot: its whole state in a file beside the database, written when the
//! server stops, so that the next start reads it and replays only the events stored after it
//! instead of the whole log (issue 14: a month of a busy center is tens of millions of
//! events, minutes of replay).
//!
//! A snapshot is used only when everything it was made from still holds; otherwise the start
//! replays the log in full, as without one, and says why in its log:
//! - the file is whole (its length and CRC-32 match) and of this format;
//! - the same program wrote it: the running executable's length and SHA-256 (read once per
//!   process). An upgrade may fold events differently, so its first start replays in full;
//!   a copy or a reinstall of the same build (another modification time, another node's
//!   copy of it) is the same program and starts from the snapshot;
//! - the engine's settings (the retention) are the same;
//! - it is at most a day old ([`MAX_AGE_MS`]): the engine keeps what a running server keeps,
//!   such as a reservation that never ended, after its events left the retention, where a
//!   full replay no longer sees them. A server down for longer starts from the log's window,
//!   as it always did;
//! - the log still holds the event the snapshot ends on, in the same row
//!   ([`EventLog::replay_after`]): rows after it are read, rows up to it never change but
//!   for the purge of old ones, which the engine forgets by itself.
//!
//! On SQLite the position is a rowid, on PostgreSQL the log's `seq` (commit order): nodes
//! sharing a database each keep theirs in their own data directory, and any node's snapshot is a
//! state of the shared log that another node of the same build could start from. A node killed
//! without stopping writes none; its next start uses the last snapshot with a longer tail, or
//! replays in full.
//!
//! Layout: `WBENGINE`, the format (u32), the body's length (u64) and CRC-32 (u32), all little
//! endian, then the body: a [`Header`] and the engine's state ([`Engine::write_state`]), in
//! [`postcard`].

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::{Engine, EngineConfig};
use crate::storage::{EventLog, LogPosition};

/// The snapshot file's name in the data directory.
pub const FILE: &str = "engine.snapshot";

const MAGIC: &[u8; 8] = b"WBENGINE";
/// Bumped whenever the layout changes (the executable check also catches it). 2: the
/// executable by its content (1: by its size and modification time).
const FORMAT: u32 = 2;
/// The oldest snapshot a start uses, by the clock.
pub const MAX_AGE_MS: i64 = 86_400_000;
/// Magic, format, length, CRC.
const PREAMBLE: usize = 8 + 4 + 8 + 4;

/// Why a snapshot was not written or not used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("there is no snapshot")]
    Missing,
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("not an engine snapshot of this format")]
    Format,
    #[error("the snapshot is damaged: {0}")]
    Damaged(String),
    #[error("another build of wallboard wrote the snapshot")]
    OtherBuild,
    #[error("the snapshot was made with other engine settings (--retention-days)")]
    OtherSettings,
    #[error("the snapshot is older than a day")]
    TooOld,
    #[error("the event log is empty: there is nothing to start from")]
    NoPosition,
    #[error("cannot read the event log: {0}")]
    Log(#[from] crate::storage::StorageError),
}

/// What a snapshot was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Header {
    executable: Executable,
    config: EngineConfig,
    /// When it was written, by the server's clock.
    written_ms: i64,
    /// The last row of the log the engine holds.
    position: LogPosition,
}

/// A program, told apart from every other build by its content: the same bytes are the same
/// build wherever the file lies and whenever it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Executable {
    bytes: u64,
    sha256: [u8; 32],
}

impl Executable {
    /// The program of this process, read once (about 20 ms for the 25 MB release build). On
    /// Linux from `/proc/self/exe`: the image that runs, even once an upgrade has put a newer
    /// file at its path.
    fn current() -> Result<Self, SnapshotError> {
        static CURRENT: OnceLock<Result<Executable, (PathBuf, std::io::ErrorKind, String)>> = OnceLock::new();
        let found = CURRENT.get_or_init(|| {
            let path =
                if cfg!(target_os = "linux") { Ok(PathBuf::from("/proc/self/exe")) } else { std::env::current_exe() };
            let path = path.map_err(|e| (PathBuf::from("the executable"), e.kind(), e.to_string()))?;
            Self::of(&path).map_err(|e| (path, e.kind(), e.to_string()))
        });
        found.clone().map_err(|(path, kind, message)| SnapshotError::Io(path, std::io::Error::new(kind, message)))
    }

    /// The program in the file at `path`.
    fn of(path: &Path) -> std::io::Result<Self> {
        let mut file = std::io::BufReader::with_capacity(1 << 20, File::open(path)?);
        let mut hasher = Sha256::new();
        let bytes = std::io::copy(&mut file, &mut hasher)?;
        Ok(Self { bytes, sha256: hasher.finalize().into() })
    }
}

/// Writes `engine` to `path` as standing at `position` of the log: to a temporary file
/// first, synced, then renamed over the old one, so a crash leaves the old snapshot or the
/// new one, never half of one. Returns the file's size.
pub fn save(path: &Path, engine: &Engine, position: LogPosition, now_ms: i64) -> Result<u64, SnapshotError> {
    save_as(path, engine, position, now_ms, Executable::current()?)
}

/// [`save`], as written by the program `executable`.
fn save_as(
    path: &Path,
    engine: &Engine,
    position: LogPosition,
    now_ms: i64,
    executable: Executable,
) -> Result<u64, SnapshotError> {
    let io = |e| SnapshotError::Io(path.to_owned(), e);
    let header = Header { executable, config: *engine.config(), written_ms: now_ms, position };
    if let Some(dir) = path.parent() {
        // A PostgreSQL node's data directory holds nothing else and may not exist yet.
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    // Named by the process: nodes sharing a data directory never write the same file.
    let tmp = path.with_extension(format!("snapshot.{}.tmp", std::process::id()));
    let mut file = File::create(&tmp).map_err(io)?;
    file.write_all(&[0; PREAMBLE]).map_err(io)?;
    // postcard writes a few bytes at a time: the buffer sits before the checksum, which then
    // sums whole megabytes.
    let out = BufWriter::with_capacity(1 << 20, Checked { inner: file, crc: crc32fast::Hasher::new(), len: 0 });
    let out = postcard::to_io(&header, out).map_err(|e| SnapshotError::Damaged(e.to_string()))?;
    let out = engine.write_state(out).map_err(|e| SnapshotError::Damaged(e.to_string()))?;
    let Checked { inner: mut file, crc, len } = out.into_inner().map_err(|e| io(e.into_error()))?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    file.write_all(&preamble(len, crc.finalize())).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent() {
        // The rename itself is durable once the directory is.
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    }
    Ok(PREAMBLE as u64 + len)
}

/// Deletes what writers that were killed mid-write left next to `path` (their temporary
/// files, `engine.snapshot.<pid>.tmp`) once older than an hour: no write takes that long, so
/// none of them is being written. Returns how many were deleted.
pub fn sweep_temporaries(path: &Path) -> usize {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else { return 0 };
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let prefix = format!("{name}.");
    let mut deleted = 0;
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(file) = file.to_str() else { continue };
        if !(file.starts_with(&prefix) && file.ends_with(".tmp")) {
            continue;
        }
        let old = entry.metadata().and_then(|m| m.modified()).ok().and_then(|m| m.elapsed().ok());
        if old.is_some_and(|age| age.as_secs() > 3_600) && std::fs::remove_file(entry.path()).is_ok() {
            deleted += 1;
        }
    }
    deleted
}

/// Writes the snapshot of a stopping server: first applies what other processes stored
/// meanwhile (`wallboard import`), so the engine holds every row up to the log's position.
pub fn save_after_follow(
    path: &Path,
    engine: &mut Engine,
    log: &mut dyn EventLog,
    now_ms: i64,
) -> Result<u64, SnapshotError> {
    log.follow(&mut |e| {
        engine.apply(&e);
    })?;
    save_at_position(path, engine, log, now_ms)
}

/// Writes `engine`, which must hold exactly the rows `log` has seen, as of `log`'s position.
pub fn save_at_position(path: &Path, engine: &Engine, log: &dyn EventLog, now_ms: i64) -> Result<u64, SnapshotError> {
    let at = log.position()?.ok_or(SnapshotError::NoPosition)?;
    save(path, engine, at, now_ms)
}

/// A snapshot read back.
#[derive(Debug)]
pub struct Loaded {
    pub engine: Engine,
    /// The last row of the log the engine holds.
    pub position: LogPosition,
    /// When it was written, by the server's clock.
    pub written_ms: i64,
}

/// Reads the snapshot at `path` if this executable wrote it with `config` at most
/// [`MAX_AGE_MS`] before `now_ms`: the engine, where in the log it stands and when it was
/// written (see the module's documentation for the checks).
pub fn load(path: &Path, config: &EngineConfig, now_ms: i64) -> Result<Loaded, SnapshotError> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(SnapshotError::Missing),
        Err(e) => return Err(SnapshotError::Io(path.to_owned(), e)),
    };
    // The program is read on another core while this one reads and sums the file; it is
    // compared before the engine is decoded, which another build's state might fail.
    let mut bytes = Vec::new();
    let program = std::thread::scope(|scope| {
        let program = scope.spawn(Executable::current);
        file.read_to_end(&mut bytes).map_err(|e| SnapshotError::Io(path.to_owned(), e))?;
        program.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })?;
    let body = checked_body(&bytes)?;
    let (header, state): (Header, _) =
        postcard::take_from_bytes(body).map_err(|e| SnapshotError::Damaged(e.to_string()))?;
    if header.executable != program {
        return Err(SnapshotError::OtherBuild);
    }
    if header.config != *config {
        return Err(SnapshotError::OtherSettings);
    }
    if now_ms.saturating_sub(header.written_ms) > MAX_AGE_MS {
        return Err(SnapshotError::TooOld);
    }
    let (engine, rest) = Engine::read_state(state).map_err(|e| SnapshotError::Damaged(e.to_string()))?;
    if !rest.is_empty() {
        return Err(SnapshotError::Damaged(format!("{} bytes after the engine", rest.len())));
    }
    Ok(Loaded { engine, position: header.position, written_ms: header.written_ms })
}

fn preamble(len: u64, crc: u32) -> [u8; PREAMBLE] {
    let mut p = [0; PREAMBLE];
    p[..8].copy_from_slice(MAGIC);
    p[8..12].copy_from_slice(&FORMAT.to_le_bytes());
    p[12..20].copy_from_slice(&len.to_le_bytes());
    p[20..24].copy_from_slice(&crc.to_le_bytes());
    p
}

/// The body of a whole snapshot of this format.
fn checked_body(bytes: &[u8]) -> Result<&[u8], SnapshotError> {
    let (pre, body) = bytes.split_at_checked(PREAMBLE).ok_or(SnapshotError::Format)?;
    if &pre[..8] != MAGIC || pre[8..12] != FORMAT.to_le_bytes() {
        return Err(SnapshotError::Format);
    }
    let len = u64::from_le_bytes(pre[12..20].try_into().expect("8 bytes"));
    let crc = u32::from_le_bytes(pre[20..24].try_into().expect("4 bytes"));
    if len != body.len() as u64 {
        return Err(SnapshotError::Damaged(format!("{} bytes of {len}", body.len())));
    }
    if crc32fast::hash(body) != crc {
        return Err(SnapshotError::Damaged("its checksum does not match".into()));
    }
    Ok(body)
}

/// A writer that sums what goes through it.
struct Checked<W> {
    inner: W,
    crc: crc32fast::Hasher,
    len: u64,
}

impl<W: Write> Write for Checked<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::View;
    use crate::engine::floor::WorkerSet;
    use crate::event::Event;
    use crate::ingest::simulator::{SimConfig, Simulator};
    use wallboard_shared::WindowSpec;

    const T0: i64 = 1_764_000_000_000;
    const HOUR: i64 = 3_600_000;

    /// Three hours of the built-in center, in the order it produced them, with a supervisor
    /// changing agents' skills often (each change re-evaluates the queues' expressions).
    fn events() -> Vec<Event> {
        let mut config = SimConfig::default();
        config.skill_changes.per_day = 2_000.0;
        let mut sim = Simulator::try_new(config, 5, T0).expect("a valid configuration");
        let mut out = Vec::new();
        sim.advance(T0 + 3 * HOUR, &mut out);
        out
    }

    fn position() -> LogPosition {
        LogPosition { row: 42, sid: "EV00000000000000000000000000000042".into() }
    }

    /// Every kind of answer the engine gives at `now`, order-independent where the
    /// engine's own order is a hash map's.
    fn answers(e: &Engine, now: i64) -> Vec<String> {
        let mut out = Vec::new();
        let windows: Vec<_> = [15, 60, 240]
            .iter()
            .map(|&m| WindowSpec::Minutes(m).resolve(now, 30 * 86_400_000).expect("window"))
            .collect();
        for (id, _) in e.registry().workflows() {
            let view = View { target: crate::engine::Target::Workflow(id), channel: None };
            out.push(format!("{:?}", e.realtime(id, None, now)));
            out.push(format!("{:?}", e.history(view, now - HOUR, now)));
            for (ch, _) in e.registry().channels() {
                out.push(format!("{:?}", e.realtime(id, Some(ch), now)));
            }
            for w in &windows {
                out.push(format!("{:?}", e.cumulative(id, None, *w, Some(&[20, 60, 300]))));
            }
        }
        for (ws, _) in e.registry().workspaces() {
            let ws = ws.index();
            out.push(format!("{:?}", e.workspace_realtime(ws, None, now)));
            let mut workers: Vec<String> = e.floor().workers(ws).iter().map(|w| format!("{w:?}")).collect();
            workers.sort();
            out.extend(workers);
            let mut activities: Vec<String> = e.floor().activities(ws).iter().map(|a| format!("{a:?}")).collect();
            activities.sort();
            out.extend(activities);
            for w in &windows {
                out.push(format!("{:?}", e.workspace_cumulative(ws, None, *w, Some(&[20, 60]))));
                out.push(format!("{:?}", e.workers_cumulative(ws, WorkerSet::All, None, *w)));
            }
            let queues: Vec<u32> = e.floor().queue_ids(ws).collect();
            assert!(!queues.is_empty(), "the center has task queues");
            for q in queues {
                let mut rt = format!("{:?}", e.floor().queue_realtime(q, None, now));
                rt.push_str(&format!("{:?}", e.floor().workers_realtime(ws, Some(q))));
                out.push(rt);
                for w in &windows {
                    out.push(format!("{:?}", e.queue_cumulative(q, None, *w, Some(&[20]))));
                }
            }
        }
        out
    }

    /// Applies `events` as a server does: the clock's maintenance every ten minutes.
    fn run(engine: &mut Engine, events: &[Event], maintained: &mut i64) {
        for e in events {
            if e.ts_ms >= *maintained + 600_000 {
                *maintained = e.ts_ms;
                engine.maintain(e.ts_ms);
            }
            engine.apply(e);
        }
    }

    #[test]
    fn an_engine_read_back_continues_exactly_as_the_one_that_wrote_it() {
        let events = events();
        let (first, second) = events.split_at(events.len() / 2);
        let now = T0 + 3 * HOUR;

        let mut whole = Engine::default();
        let mut maintained = i64::MIN / 2;
        run(&mut whole, &events, &mut maintained);
        whole.maintain(now);

        let mut written = Engine::default();
        let mut maintained = i64::MIN / 2;
        run(&mut written, first, &mut maintained);
        let mut bytes = Vec::new();
        written.write_state(&mut bytes).expect("write");
        let (mut read, rest) = Engine::read_state(&bytes).expect("read");
        assert!(rest.is_empty());
        assert_eq!(
            answers(&read, first.last().expect("events").ts_ms),
            answers(&written, first.last().expect("events").ts_ms)
        );
        run(&mut read, second, &mut maintained);
        read.maintain(now);

        assert_eq!(read.sizes(), whole.sizes());
        assert_eq!(answers(&read, now), answers(&whole, now));
    }

    #[test]
    fn a_file_is_used_only_when_it_is_whole_recent_and_of_the_same_settings() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(FILE);
        let mut engine = Engine::default();
        let mut maintained = i64::MIN / 2;
        run(&mut engine, &events()[..2_000], &mut maintained);
        let now = T0 + HOUR;
        assert!(matches!(load(&path, engine.config(), now), Err(SnapshotError::Missing)));

        let bytes = save(&path, &engine, position(), now).expect("save");
        assert_eq!(bytes, std::fs::metadata(&path).expect("the file").len());
        assert_eq!(std::fs::read_dir(dir.path()).expect("the directory").count(), 1, "the temporary file is renamed");
        let read = load(&path, engine.config(), now + MAX_AGE_MS).expect("load");
        assert_eq!((read.position, read.written_ms), (position(), now));
        assert_eq!(read.engine.sizes(), engine.sizes());

        assert!(matches!(load(&path, engine.config(), now + MAX_AGE_MS + 1), Err(SnapshotError::TooOld)));
        let other = EngineConfig { retention_ms: 7 * 86_400_000, ..*engine.config() };
        assert!(matches!(load(&path, &other, now), Err(SnapshotError::OtherSettings)));

        let good = std::fs::read(&path).expect("read");
        let mut flipped = good.clone();
        flipped[good.len() - 10] ^= 1;
        std::fs::write(&path, &flipped).expect("write");
        assert!(matches!(load(&path, engine.config(), now), Err(SnapshotError::Damaged(_))));
        std::fs::write(&path, &good[..good.len() - 1]).expect("write");
        assert!(matches!(load(&path, engine.config(), now), Err(SnapshotError::Damaged(_))));
        std::fs::write(&path, &good[..10]).expect("write");
        assert!(matches!(load(&path, engine.config(), now), Err(SnapshotError::Format)));
        // A killed writer's leftovers go once they are old; a fresh one may be being written.
        let fresh = dir.path().join(format!("{FILE}.1.tmp"));
        let stale = dir.path().join(format!("{FILE}.2.tmp"));
        std::fs::write(&fresh, b"half").expect("write");
        std::fs::write(&stale, b"half").expect("write");
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3_700);
        File::options().write(true).open(&stale).and_then(|f| f.set_modified(hour_ago)).expect("age it");
        assert_eq!(sweep_temporaries(&path), 1);
        assert!(fresh.exists() && !stale.exists() && path.exists());

        // Another build of the program wrote it: the same everything else, refused.
        let mut other = Executable::current().expect("this program");
        other.sha256[0] ^= 1;
        save_as(&path, &engine, position(), now, other).expect("save");
        assert!(matches!(load(&path, engine.config(), now), Err(SnapshotError::OtherBuild)));

        let mut other_format = good.clone();
        other_format[8] = FORMAT as u8 + 1;
        std::fs::write(&path, &other_format).expect("write");
        assert!(matches!(load(&path, engine.config(), now), Err(SnapshotError::Format)));
    }

    #[test]
    fn a_program_is_told_by_its_content_not_its_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let content: Vec<u8> = (0..3_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        std::fs::write(&a, &content).expect("write");
        std::fs::write(&b, &content).expect("write");
        let day_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(86_400);
        File::options().write(true).open(&b).and_then(|f| f.set_modified(day_ago)).expect("age it");
        let program = Executable::of(&a).expect("a");
        assert_eq!(program.bytes, content.len() as u64);
        assert_eq!(Executable::of(&b).expect("b"), program, "a copy written at another time is the same program");
        let mut changed = content.clone();
        changed[1_500_000] ^= 1;
        std::fs::write(&b, &changed).expect("write");
        assert_ne!(Executable::of(&b).expect("b"), program, "one byte makes another build");
        // This process's program is the file it was started from.
        let exe = std::env::current_exe().expect("the test's executable");
        assert_eq!(Executable::current().expect("current"), Executable::of(&exe).expect("read"));
    }
}
