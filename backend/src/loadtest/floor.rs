//! The machine's floor for WebSocket fan-out: the kernel's cost alone of delivering one
//! snapshot-sized message over loopback TCP to each of N connections (no WebSocket, no
//! runtime, no scheduling). Each `write` also runs the receiving side's TCP processing on
//! loopback, so this is the least any server on this machine can spend per delivery.
//!
//! Used by `cargo run --release -p wallboard --example tcp_floor` and by `wallboard
//! loadtest`, which measures it in the same run as the fan-out so the two compare.
//! Blocking: call it from a thread of its own (`spawn_blocking`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::cputime;

/// What to measure.
#[derive(Debug, Clone, Copy)]
pub struct FloorOptions {
    /// Connections (two descriptors each).
    pub connections: usize,
    /// Bytes per message.
    pub bytes: usize,
    /// Rounds: one message to every connection, then every message read.
    pub rounds: usize,
}

/// One round: the writes to every connection, then the reads of every message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloorRound {
    pub write_wall: Duration,
    /// The writing thread's CPU time (the same accounting as a server's `/proc` figure).
    pub write_cpu: Duration,
    pub read_wall: Duration,
    pub read_cpu: Duration,
}

/// What was measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Floor {
    pub connections: usize,
    pub bytes: usize,
    pub rounds: Vec<FloorRound>,
}

impl Floor {
    /// The rounds that count: all but the first (it warms the new connections), or the
    /// only one.
    fn counted(&self) -> &[FloorRound] {
        if self.rounds.len() > 1 { &self.rounds[1..] } else { &self.rounds }
    }

    fn per_op_us(&self, part: impl Fn(&FloorRound) -> Duration) -> f64 {
        let rounds = self.counted();
        let ops = (rounds.len() * self.connections) as f64;
        if ops == 0.0 {
            return f64::NAN;
        }
        rounds.iter().map(&part).sum::<Duration>().as_secs_f64() * 1e6 / ops
    }

    /// CPU µs per write, over the counted rounds: the floor a delivery is compared with.
    pub fn write_cpu_us(&self) -> f64 {
        self.per_op_us(|r| r.write_cpu)
    }

    /// Wall-clock µs per write, over the counted rounds.
    pub fn write_wall_us(&self) -> f64 {
        self.per_op_us(|r| r.write_wall)
    }

    /// CPU µs per read, over the counted rounds (what a client on this machine pays at least).
    pub fn read_cpu_us(&self) -> f64 {
        self.per_op_us(|r| r.read_cpu)
    }
}

/// Opens the connections, runs the rounds, closes the connections.
pub fn measure(opts: FloorOptions) -> std::io::Result<Floor> {
    let n = opts.connections;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let (mut readers, mut writers) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let reader = TcpStream::connect(addr)?;
        let (writer, _) = listener.accept()?;
        writer.set_nodelay(true)?;
        readers.push(reader);
        writers.push(writer);
    }
    let message = vec![b'x'; opts.bytes];
    let mut buf = vec![0u8; opts.bytes.max(4096)];
    let mut rounds = Vec::with_capacity(opts.rounds);
    for _ in 0..opts.rounds {
        let (wall, cpu) = (Instant::now(), cputime::this_thread());
        for w in &mut writers {
            w.write_all(&message)?;
        }
        let (write_wall, write_cpu) = (wall.elapsed(), cputime::this_thread().saturating_sub(cpu));
        let (wall, cpu) = (Instant::now(), cputime::this_thread());
        for r in &mut readers {
            let mut got = 0;
            while got < opts.bytes {
                match r.read(&mut buf)? {
                    0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                    k => got += k,
                }
            }
        }
        let (read_wall, read_cpu) = (wall.elapsed(), cputime::this_thread().saturating_sub(cpu));
        rounds.push(FloorRound { write_wall, write_cpu, read_wall, read_cpu });
    }
    Ok(Floor { connections: n, bytes: opts.bytes, rounds })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(write_cpu_ms: u64) -> FloorRound {
        FloorRound {
            write_wall: Duration::from_millis(2 * write_cpu_ms),
            write_cpu: Duration::from_millis(write_cpu_ms),
            read_wall: Duration::from_millis(20),
            read_cpu: Duration::from_millis(10),
        }
    }

    #[test]
    fn the_first_round_warms_up_and_is_not_counted() {
        // 5,000 connections; rounds of 90 (warm-up), 40, 45, 40 and 45 ms of write CPU:
        // 170 ms over 20,000 writes = 8.5 µs a write; 17 µs wall; 2 µs a read.
        let floor = Floor { connections: 5_000, bytes: 1_200, rounds: [90, 40, 45, 40, 45].map(round).to_vec() };
        assert!((floor.write_cpu_us() - 8.5).abs() < 1e-9, "{}", floor.write_cpu_us());
        assert!((floor.write_wall_us() - 17.0).abs() < 1e-9);
        assert!((floor.read_cpu_us() - 2.0).abs() < 1e-9);
        // One round is all there is.
        let one = Floor { connections: 1_000, bytes: 1_200, rounds: vec![round(9)] };
        assert!((one.write_cpu_us() - 9.0).abs() < 1e-9);
        assert!(Floor { connections: 0, bytes: 1, rounds: vec![] }.write_cpu_us().is_nan());
    }

    #[test]
    fn measures_real_loopback_writes() {
        let floor = measure(FloorOptions { connections: 20, bytes: 1_200, rounds: 2 }).expect("loopback");
        assert_eq!((floor.connections, floor.bytes, floor.rounds.len()), (20, 1_200, 2));
        assert!(floor.write_cpu_us() > 0.0, "{floor:?}");
    }
}
