//! The machine's floor for WebSocket fan-out: the cost of the kernel alone to deliver one
//! snapshot-sized message over loopback TCP to each of N connections (no WebSocket, no
//! runtime, no scheduling). Each `write` also runs the receiving side's TCP processing on
//! loopback, so this is the least any server on this machine can spend per delivery.
//! `wallboard loadtest` measures the same thing (`wallboard::loadtest::floor`) in its own run.
//! Then the same writes while every receiver waits for its message, as clients do, so each
//! write also wakes it (`measure_waiting`).
//!
//! `cargo run --release -p wallboard --example tcp_floor -- [CONNECTIONS] [BYTES]`
//! (default 9,000 connections of 1,200 bytes; two descriptors per connection).

use wallboard::loadtest::floor::{FloorOptions, measure, measure_waiting};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(9_000);
    let bytes: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1_200);
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let floor = measure(FloorOptions { connections: n, bytes, rounds: 5 })?;
    let us = |d: std::time::Duration| d.as_secs_f64() * 1e6 / n as f64;
    for (i, r) in floor.rounds.iter().enumerate() {
        println!(
            "round {}: {n} writes of {bytes} B in {:.1?} ({:.1} µs each, {:.1} µs CPU), reads in {:.1?} ({:.1} µs each, {:.1} µs CPU)",
            i + 1,
            r.write_wall,
            us(r.write_wall),
            us(r.write_cpu),
            r.read_wall,
            us(r.read_wall),
            us(r.read_cpu)
        );
    }
    println!(
        "rounds 2-{}: {:.1} µs CPU per write ({:.1} µs wall), {:.1} µs CPU per read",
        floor.rounds.len(),
        floor.write_cpu_us(),
        floor.write_wall_us(),
        floor.read_cpu_us()
    );
    let waiting = measure_waiting(FloorOptions { connections: n, bytes, rounds: 5 })?;
    println!(
        "receivers waiting, rounds 2-{}: {:.1} µs CPU per write ({:.1} µs wall), the receivers' runtime {:.1} µs CPU per message",
        waiting.rounds.len(),
        waiting.write_cpu_us(),
        waiting.write_wall_us(),
        waiting.read_cpu_us()
    );
    Ok(())
}
