//! The machine's floor for WebSocket fan-out: the cost of the kernel alone to deliver one
//! snapshot-sized message over loopback TCP to each of N connections (no WebSocket, no
//! runtime, no scheduling). Each `write` also runs the receiving side's TCP processing on
//! loopback, so this is the least any server on this machine can spend per delivery.
//!
//! `cargo run --release -p wallboard --example tcp_floor -- [CONNECTIONS] [BYTES]`
//! (default 9,000 connections of 1,200 bytes; two descriptors per connection).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(9_000);
    let bytes: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1_200);
    let _ = rlimit::increase_nofile_limit(u64::MAX);
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
    let message = vec![b'x'; bytes];
    let mut buf = vec![0u8; bytes.max(4096)];
    for round in 1..=5 {
        let started = Instant::now();
        for w in &mut writers {
            w.write_all(&message)?;
        }
        let wrote = started.elapsed();
        let started = Instant::now();
        for r in &mut readers {
            let mut got = 0;
            while got < bytes {
                got += r.read(&mut buf)?;
            }
        }
        let read = started.elapsed();
        println!(
            "round {round}: {n} writes of {bytes} B in {wrote:.1?} ({:.1} µs each), reads in {read:.1?} ({:.1} µs each)",
            wrote.as_secs_f64() * 1e6 / n as f64,
            read.as_secs_f64() * 1e6 / n as f64
        );
    }
    Ok(())
}
