//! The machine's floor for WebSocket fan-out: the kernel's cost alone of delivering one
//! snapshot-sized message over loopback TCP to each of N connections (no WebSocket, no
//! runtime, no scheduling). Each `write` also runs the receiving side's TCP processing on
//! loopback, so this is the least any server on this machine can spend per delivery.
//!
//! Used by `cargo run --release -p wallboard --example tcp_floor` and by `wallboard
//! loadtest`, which measures it in the same run as the fan-out so the two compare.
//! Blocking: call it from a thread of its own (`spawn_blocking`).
//!
//! Two floors: [`measure`] writes to receivers that are not waiting (they read after all
//! the writes), the kernel's TCP work alone; [`measure_waiting`] writes while each receiver
//! waits for its message as a client does (a task per connection, its runtime parked in
//! `epoll`), so each write also wakes it, as every write of a real fan-out does.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

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

/// `n` loopback connections: (receiving ends, sending ends with Nagle off).
fn connect(n: usize) -> std::io::Result<(Vec<TcpStream>, Vec<TcpStream>)> {
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
    Ok((readers, writers))
}

/// Opens the connections, runs the rounds, closes the connections.
pub fn measure(opts: FloorOptions) -> std::io::Result<Floor> {
    let (mut readers, mut writers) = connect(opts.connections)?;
    let n = opts.connections;
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

/// Messages read so far, across the receivers of [`measure_waiting`].
#[derive(Default)]
struct Arrivals {
    count: Mutex<usize>,
    changed: Condvar,
}

impl Arrivals {
    fn arrive(&self) {
        *self.count.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.changed.notify_all();
    }

    fn wait_for(&self, count: usize) {
        let mut c = self.count.lock().unwrap_or_else(|p| p.into_inner());
        while *c < count {
            c = self.changed.wait(c).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// The same rounds of writes while each receiver waits for its message as a client does: a
/// task per connection on a current-thread tokio runtime of its own thread. A round starts
/// when every receiver has read the one before (and waits again). The reads' figures are
/// that thread's CPU time, and the wall time, per message.
pub fn measure_waiting(opts: FloorOptions) -> std::io::Result<Floor> {
    let (readers, mut writers) = connect(opts.connections)?;
    let (n, bytes, rounds) = (opts.connections, opts.bytes, opts.rounds);
    let arrivals = Arc::new(Arrivals::default());
    let receiving = {
        let arrivals = arrivals.clone();
        std::thread::spawn(move || -> std::io::Result<(Duration, Duration)> {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
            let (wall, cpu) = (Instant::now(), cputime::this_thread());
            runtime.block_on(async move {
                let mut tasks = tokio::task::JoinSet::new();
                for reader in readers {
                    reader.set_nonblocking(true)?;
                    let mut reader = tokio::net::TcpStream::from_std(reader)?;
                    let arrivals = arrivals.clone();
                    tasks.spawn(async move {
                        let mut buf = vec![0u8; bytes.max(4096)];
                        // Ready to receive (the first read registers with epoll).
                        arrivals.arrive();
                        for _ in 0..rounds {
                            let mut got = 0;
                            while got < bytes {
                                match reader.read(&mut buf).await? {
                                    0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                                    k => got += k,
                                }
                            }
                            arrivals.arrive();
                        }
                        Ok::<(), std::io::Error>(())
                    });
                }
                while let Some(done) = tasks.join_next().await {
                    done.map_err(std::io::Error::other)??;
                }
                Ok::<(), std::io::Error>(())
            })?;
            Ok((wall.elapsed(), cputime::this_thread().saturating_sub(cpu)))
        })
    };
    let message = vec![b'x'; bytes];
    let mut written = Vec::with_capacity(rounds);
    for round in 0..rounds {
        // Every receiver is waiting: started (round 0), or done with the round before.
        arrivals.wait_for(n * (round + 1));
        let (wall, cpu) = (Instant::now(), cputime::this_thread());
        for w in &mut writers {
            w.write_all(&message)?;
        }
        written.push((wall.elapsed(), cputime::this_thread().saturating_sub(cpu)));
    }
    let (read_wall, read_cpu) = receiving.join().map_err(|_| std::io::Error::other("a receiver panicked"))??;
    // The receivers' time is known in total only; each round gets its share.
    let share = |d: Duration| d / rounds.max(1) as u32;
    let rounds = written
        .into_iter()
        .map(|(write_wall, write_cpu)| FloorRound {
            write_wall,
            write_cpu,
            read_wall: share(read_wall),
            read_cpu: share(read_cpu),
        })
        .collect();
    Ok(Floor { connections: n, bytes, rounds })
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

    #[test]
    fn measures_writes_to_waiting_receivers() {
        let opts = FloorOptions { connections: 20, bytes: 5_000, rounds: 3 };
        let floor = measure_waiting(opts).expect("loopback");
        assert_eq!((floor.connections, floor.bytes, floor.rounds.len()), (20, 5_000, 3));
        assert!(floor.write_cpu_us() > 0.0 && floor.read_cpu_us() > 0.0, "{floor:?}");
    }
}
