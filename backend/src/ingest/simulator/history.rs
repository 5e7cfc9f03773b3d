//! Simulated history as NDJSON in the import format (`wallboard simulate --out FILE --days N`).

use std::io::{self, BufWriter, Write};

use super::config::SimConfig;
use super::model::Simulator;

/// The base of the `url` of every written event, as TaskRouter's Events API has it.
const EVENTS_BASE_URL: &str = "https://taskrouter.twilio.com";

/// Simulated time covered per step (bounds the events held in memory).
const STEP_MS: i64 = 3_600_000;

/// Simulates from `start_ms` (an empty center) to `end_ms` and writes every event, one
/// Events API resource per line. Returns the number of events written.
pub fn write_ndjson(
    w: impl Write,
    config: &SimConfig,
    seed: u64,
    start_ms: i64,
    end_ms: i64,
    account_sid: &str,
) -> io::Result<u64> {
    let mut sim = Simulator::try_new(config.clone(), seed, start_ms)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let mut w = BufWriter::with_capacity(1 << 16, w);
    let mut events = Vec::new();
    let mut written = 0u64;
    let mut t = start_ms;
    while t < end_ms {
        t = (t + STEP_MS).min(end_ms);
        events.clear();
        sim.advance(t, &mut events);
        for e in &events {
            serde_json::to_writer(&mut w, &e.to_resource(account_sid, EVENTS_BASE_URL))?;
            w.write_all(b"\n")?;
            written += 1;
        }
    }
    w.flush()?;
    Ok(written)
}
