//! The server's sockets, shared between HTTP, a WebSocket session and the fan-out.
//!
//! Every accepted TCP connection is a [`Conn`]. Until it is upgraded, hyper reads and
//! writes it through [`ConnIo`] like any socket. Once a WebSocket session starts on it,
//! it is *framed*: writes are whole WebSocket frames, from two writers. The session's
//! tungstenite writes its control and reply frames through `ConnIo`, and the fan-out
//! writes snapshot frames, built once per topic revision, straight to the socket
//! ([`Conn::push_snapshot`]) without waking the session. Both go through one outbox, so
//! frames never interleave.
//!
//! A write that the socket takes whole costs one non-blocking `write`. What the socket
//! does not take stays in the outbox, and the session is woken to write it as the socket
//! drains ([`Conn::backlogged`], [`Conn::flush`]). A snapshot waiting there is replaced
//! by its subscription's next one: a slow reader skips to the newest and holds at most
//! one snapshot per subscription; nothing else ever waits for it.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// Bytes a framed connection may hold unwritten; beyond it the peer is not reading and
/// the connection is closed. Snapshots are replaced rather than queued, so only a client
/// that keeps asking for replies without reading them gets here.
pub const MAX_BACKLOG: usize = 1 << 20;

/// One accepted TCP connection.
#[derive(Debug)]
pub struct Conn {
    id: u64,
    tcp: TcpStream,
    /// Set once, when the session starts: from then on writes are whole frames.
    framed: AtomicBool,
    out: Mutex<Outbox>,
    /// Notified when bytes are left in the outbox (or it was closed): the session writes
    /// them as the socket drains.
    backlog: Notify,
}

#[derive(Debug, Default)]
struct Outbox {
    closed: bool,
    items: VecDeque<Item>,
    /// Bytes of the first item already written.
    written: usize,
    /// Bytes of all items, less `written`.
    queued: usize,
    /// The subscriptions whose snapshots this connection still takes.
    live: Vec<u32>,
    next_slot: u32,
}

#[derive(Debug)]
struct Item {
    /// The subscription of a snapshot frame; `None` for any other frame.
    slot: Option<u32>,
    bytes: Bytes,
}

/// What became of a snapshot frame handed to [`Conn::push_snapshot`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// The socket took it whole.
    Written,
    /// It waits in the outbox; `replaced` if it took the place of an older snapshot of
    /// the same subscription that had not started out.
    Queued { replaced: bool },
    /// The subscription was ended.
    Ended,
    /// The connection is closed.
    Closed,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Conn {
    pub fn new(tcp: TcpStream) -> Arc<Self> {
        Arc::new(Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            tcp,
            framed: AtomicBool::new(false),
            out: Mutex::new(Outbox::default()),
            backlog: Notify::new(),
        })
    }

    /// Unique in this process.
    pub fn id(&self) -> u64 {
        self.id
    }

    fn outbox(&self) -> MutexGuard<'_, Outbox> {
        self.out.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// From now on writes are whole WebSocket frames (the session started).
    pub fn set_framed(&self) {
        self.framed.store(true, Ordering::Release);
    }

    /// A new subscription's slot: its snapshots are taken until [`Conn::end_slot`].
    pub fn open_slot(&self) -> u32 {
        let mut out = self.outbox();
        let slot = out.next_slot;
        out.next_slot = out.next_slot.wrapping_add(1);
        out.live.push(slot);
        slot
    }

    /// Ends a subscription: its waiting snapshot is dropped, later ones are refused.
    pub fn end_slot(&self, slot: u32) {
        let mut out = self.outbox();
        out.live.retain(|s| *s != slot);
        let out = &mut *out;
        let mut index = 0;
        out.items.retain(|item| {
            let started = index == 0 && out.written > 0;
            index += 1;
            let drop = item.slot == Some(slot) && !started;
            if drop {
                out.queued -= item.bytes.len();
            }
            !drop
        });
    }

    /// Writes a complete snapshot frame of subscription `slot`, or leaves it in the outbox
    /// in place of the subscription's older one. Never waits.
    pub fn push_snapshot(&self, slot: u32, frame: &Bytes) -> Pushed {
        let mut out = self.outbox();
        if out.closed {
            return Pushed::Closed;
        }
        if !out.live.contains(&slot) {
            return Pushed::Ended;
        }
        if out.items.is_empty() {
            return match self.tcp.try_write(frame) {
                Ok(n) if n == frame.len() => Pushed::Written,
                Ok(n) => {
                    out.written = n;
                    self.enqueue(&mut out, Some(slot), frame.clone());
                    Pushed::Queued { replaced: false }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.enqueue(&mut out, Some(slot), frame.clone());
                    Pushed::Queued { replaced: false }
                }
                Err(_) => {
                    self.close_locked(&mut out);
                    Pushed::Closed
                }
            };
        }
        let written = out.written;
        let older =
            out.items.iter().enumerate().position(|(i, item)| item.slot == Some(slot) && !(i == 0 && written > 0));
        match older {
            Some(i) => {
                let old = std::mem::replace(&mut out.items[i].bytes, frame.clone());
                out.queued = out.queued - old.len() + frame.len();
                if out.queued > MAX_BACKLOG {
                    self.close_locked(&mut out);
                    return Pushed::Closed;
                }
                Pushed::Queued { replaced: true }
            }
            None => {
                self.enqueue(&mut out, Some(slot), frame.clone());
                if out.closed { Pushed::Closed } else { Pushed::Queued { replaced: false } }
            }
        }
    }

    /// Queues `bytes` (whose first `out.written` bytes may be out already if the queue was
    /// empty); closes the connection if the backlog grows past [`MAX_BACKLOG`].
    fn enqueue(&self, out: &mut Outbox, slot: Option<u32>, bytes: Bytes) {
        let was_empty = out.items.is_empty();
        out.queued += bytes.len() - if was_empty { out.written } else { 0 };
        out.items.push_back(Item { slot, bytes });
        if out.queued > MAX_BACKLOG {
            self.close_locked(out);
        } else if was_empty {
            self.backlog.notify_one();
        }
    }

    /// Writes bytes that are not snapshots: written now if nothing waits, queued otherwise.
    fn write_other(&self, buf: &[u8]) -> io::Result<()> {
        let mut out = self.outbox();
        if out.closed {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "the connection is closed"));
        }
        let mut rest = buf;
        if out.items.is_empty() {
            match self.tcp.try_write(buf) {
                Ok(n) => rest = &buf[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    self.close_locked(&mut out);
                    return Err(e);
                }
            }
        }
        if !rest.is_empty() {
            self.enqueue(&mut out, None, Bytes::copy_from_slice(rest));
            if out.closed {
                return Err(io::Error::other("the peer is not reading what is sent"));
            }
        }
        Ok(())
    }

    /// Writes what the outbox holds as far as the socket takes it; true when it is empty.
    fn write_out(&self, out: &mut Outbox) -> io::Result<bool> {
        while let Some(item) = out.items.front() {
            match self.tcp.try_write(&item.bytes[out.written..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    out.written += n;
                    out.queued -= n;
                    if out.written == item.bytes.len() {
                        out.items.pop_front();
                        out.written = 0;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Resolves when the outbox has bytes to write, or the connection was closed.
    pub async fn backlogged(&self) {
        self.backlog.notified().await;
    }

    /// Writes out everything waiting, as the socket drains. Fails when the connection is
    /// closed or broke, or when the socket took nothing for `stall` (the peer stopped
    /// reading); either way the caller ends the session.
    pub async fn flush(&self, stall: Duration) -> io::Result<()> {
        loop {
            {
                let mut out = self.outbox();
                if out.closed {
                    return Err(io::Error::new(io::ErrorKind::BrokenPipe, "the connection is closed"));
                }
                match self.write_out(&mut out) {
                    Ok(true) => return Ok(()),
                    Ok(false) => {}
                    Err(e) => {
                        self.close_locked(&mut out);
                        return Err(e);
                    }
                }
            }
            match tokio::time::timeout(stall, self.tcp.writable()).await {
                Ok(ready) => ready?,
                Err(_) => {
                    self.close();
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "the peer stopped reading"));
                }
            }
        }
    }

    /// Bytes waiting in the outbox.
    #[cfg(test)]
    pub(crate) fn backlog_bytes(&self) -> usize {
        self.outbox().queued
    }

    /// Drops what waits and refuses every later write; the socket closes with the last
    /// handle.
    pub fn close(&self) {
        let mut out = self.outbox();
        self.close_locked(&mut out);
    }

    fn close_locked(&self, out: &mut Outbox) {
        if !out.closed {
            out.closed = true;
            out.items.clear();
            out.written = 0;
            out.queued = 0;
            out.live.clear();
            self.backlog.notify_one();
        }
    }

    fn framed(&self) -> bool {
        self.framed.load(Ordering::Acquire)
    }
}

/// The IO hyper (and, after the upgrade, the session's tungstenite) reads and writes.
#[derive(Debug)]
pub struct ConnIo(Arc<Conn>);

impl ConnIo {
    pub fn conn(&self) -> &Arc<Conn> {
        &self.0
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let tcp = &self.0.tcp;
        loop {
            ready!(tcp.poll_read_ready(cx))?;
            match tcp.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                // Readiness was cleared: the next poll registers for the next.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let conn = &self.0;
        if conn.framed() {
            // Whole frames only: what the socket does not take waits in the outbox.
            return Poll::Ready(conn.write_other(buf).map(|()| buf.len()));
        }
        loop {
            ready!(conn.tcp.poll_write_ready(cx))?;
            match conn.tcp.try_write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                done => return Poll::Ready(done),
            }
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let conn = &self.0;
        if conn.framed() {
            let all: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            return Poll::Ready(conn.write_other(&all).map(|()| all.len()));
        }
        loop {
            ready!(conn.tcp.poll_write_ready(cx))?;
            match conn.tcp.try_write_vectored(bufs) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                done => return Poll::Ready(done),
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Nothing is buffered here; a framed connection's outbox is the session's to flush.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        let conn = &self.0;
        if conn.framed() {
            // The session flushes the outbox and drops the connection.
            return Poll::Ready(Ok(()));
        }
        match rustix::net::shutdown(&conn.tcp, rustix::net::Shutdown::Write) {
            Err(e) if e != rustix::io::Errno::NOTCONN => Poll::Ready(Err(e.into())),
            _ => Poll::Ready(Ok(())),
        }
    }
}

/// The server's listener: every accepted connection becomes a [`Conn`], with Nagle off
/// (snapshots are small and latency matters more than packet count).
#[derive(Debug)]
pub struct Listener(pub TcpListener);

impl axum::serve::Listener for Listener {
    type Io = ConnIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (ConnIo, SocketAddr) {
        let (tcp, addr) = axum::serve::Listener::accept(&mut self.0).await;
        let _ = tcp.set_nodelay(true);
        (ConnIo(Conn::new(tcp)), addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    async fn pair() -> (Arc<Conn>, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr")).await.expect("connect");
        let (server, _) = listener.accept().await.expect("accept");
        let conn = Conn::new(server);
        conn.set_framed();
        (conn, client)
    }

    /// Fills the socket's buffers until a frame stays in the outbox.
    fn fill(conn: &Conn, slot: u32) -> usize {
        let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
        let mut pushed = 0;
        while conn.backlog_bytes() == 0 {
            assert!(matches!(conn.push_snapshot(slot, &chunk), Pushed::Written | Pushed::Queued { .. }));
            pushed += chunk.len();
        }
        pushed
    }

    #[tokio::test]
    async fn a_waiting_snapshot_is_replaced_by_the_newest_and_other_frames_keep_their_order() {
        let (conn, mut client) = pair().await;
        let (a, b) = (conn.open_slot(), conn.open_slot());
        let filled = fill(&conn, a);
        let waiting = conn.backlog_bytes();
        // One snapshot of `b` waits, then a reply, then `b`'s newer one takes the first's place.
        assert_eq!(conn.push_snapshot(b, &Bytes::from_static(b"B1")), Pushed::Queued { replaced: false });
        conn.write_other(b"R").expect("queued");
        assert_eq!(conn.push_snapshot(b, &Bytes::from_static(b"B2")), Pushed::Queued { replaced: true });
        assert_eq!(conn.backlog_bytes(), waiting + 3);
        let reader = tokio::spawn(async move {
            let mut all = Vec::new();
            let mut buf = vec![0; 256 * 1024];
            while all.len() < filled + 3 {
                let n = client.read(&mut buf).await.expect("read");
                assert!(n > 0, "closed early");
                all.extend_from_slice(&buf[..n]);
            }
            all
        });
        conn.flush(Duration::from_secs(30)).await.expect("flushed");
        let all = reader.await.expect("reader");
        assert_eq!(all.len(), filled + 3);
        assert_eq!(&all[filled..], b"B2R", "the newest snapshot, in the place of the first, then the reply");
        assert_eq!(conn.backlog_bytes(), 0);
    }

    #[tokio::test]
    async fn an_ended_subscription_takes_no_more_snapshots_and_drops_the_waiting_one() {
        let (conn, _client) = pair().await;
        let (a, b) = (conn.open_slot(), conn.open_slot());
        fill(&conn, a);
        let waiting = conn.backlog_bytes();
        assert_eq!(conn.push_snapshot(b, &Bytes::from_static(b"B1")), Pushed::Queued { replaced: false });
        conn.end_slot(b);
        assert_eq!(conn.backlog_bytes(), waiting, "the waiting snapshot of b is gone");
        assert_eq!(conn.push_snapshot(b, &Bytes::from_static(b"B2")), Pushed::Ended);
    }

    #[tokio::test]
    async fn a_peer_that_never_reads_is_closed_at_the_backlog_limit_or_the_stall() {
        let (conn, _client) = pair().await;
        let a = conn.open_slot();
        fill(&conn, a);
        // Replies that are never read: the connection closes instead of holding them all.
        let reply = vec![b'r'; 4096];
        let mut sent = 0;
        while conn.write_other(&reply).is_ok() {
            sent += reply.len();
            assert!(sent <= MAX_BACKLOG + reply.len(), "the backlog is bounded");
        }
        assert_eq!(conn.push_snapshot(a, &Bytes::from_static(b"A")), Pushed::Closed);
        assert!(conn.flush(Duration::from_secs(1)).await.is_err());

        let (conn, _client) = pair().await;
        let a = conn.open_slot();
        fill(&conn, a);
        let stalled = conn.flush(Duration::from_millis(50)).await.expect_err("the peer reads nothing");
        assert_eq!(stalled.kind(), io::ErrorKind::TimedOut);
        assert_eq!(conn.push_snapshot(a, &Bytes::from_static(b"A")), Pushed::Closed);
    }
}
