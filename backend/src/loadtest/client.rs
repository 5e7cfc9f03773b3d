//! The load tool's WebSocket client: as little CPU per received message as the protocol
//! allows, so that the machine's time goes to the server being measured.
//!
//! One connection owns one buffer, reused for every frame: a frame's payload is handed out
//! as a slice of it (no allocation, no UTF-8 check, no JSON tree), pings are answered in
//! place, and the caller finds what it needs in the bytes with [`Markers`]' searchers,
//! built once for all clients. Only what a load tool needs of RFC 6455: the client side,
//! unfragmented frames from the server, no extensions.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use memchr::memmem::Finder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// Frames larger than this end the connection (a snapshot is about 1.2 KB).
const MAX_PAYLOAD: usize = 1 << 20;

const OP_CONTINUATION: u8 = 0x0;
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;

/// A server frame's header, read from the front of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub opcode: u8,
    /// Bytes of the header itself (2, 4 or 10: server frames carry no mask).
    pub len: usize,
    pub payload: usize,
}

/// Reads a server frame's header from `bytes`; `Ok(None)` when more bytes are needed.
pub fn parse_header(bytes: &[u8]) -> anyhow::Result<Option<Header>> {
    let [b0, b1, ..] = *bytes else { return Ok(None) };
    if b0 & 0x70 != 0 {
        bail!("a frame with reserved bits set (no extension was negotiated)");
    }
    if b1 & 0x80 != 0 {
        bail!("a masked frame from the server");
    }
    let opcode = b0 & 0x0F;
    if b0 & 0x80 == 0 || opcode == OP_CONTINUATION {
        bail!("a fragmented message (the server sends whole frames)");
    }
    let (len, payload) = match b1 & 0x7F {
        126 => match bytes.get(2..4) {
            Some(b) => (4, usize::from(u16::from_be_bytes([b[0], b[1]]))),
            None => return Ok(None),
        },
        127 => match bytes.get(2..10).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            Some(b) => (10, usize::try_from(u64::from_be_bytes(b)).unwrap_or(usize::MAX)),
            None => return Ok(None),
        },
        short => (2, usize::from(short)),
    };
    if payload > MAX_PAYLOAD {
        bail!("a frame of {payload} bytes (at most {MAX_PAYLOAD})");
    }
    Ok(Some(Header { opcode, len, payload }))
}

/// Appends one client frame (FIN, masked with `mask`, as RFC 6455 requires of clients).
pub fn encode_frame(opcode: u8, payload: &[u8], mask: [u8; 4], out: &mut Vec<u8>) {
    out.push(0x80 | opcode);
    match payload.len() {
        n @ 0..=125 => out.push(0x80 | n as u8),
        n @ 126..=0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
}

/// The marks a client looks for in a frame's bytes, searched with precompiled finders.
#[derive(Debug)]
pub struct Markers {
    snapshot: Finder<'static>,
    total_tasks: Finder<'static>,
}

impl Default for Markers {
    fn default() -> Self {
        Self { snapshot: Finder::new(b"\"type\":\"snapshot\""), total_tasks: Finder::new(b"\"total_tasks\":") }
    }
}

impl Markers {
    /// Whether the frame is a snapshot (`"type":"snapshot"`, as serde_json writes it).
    pub fn is_snapshot(&self, frame: &[u8]) -> bool {
        self.snapshot.find(frame).is_some()
    }

    /// The workflow's live tasks in a snapshot frame: its first `"total_tasks":`, the
    /// realtime statistics' (a workflow's cumulative statistics have none). Each event the
    /// load tool posts creates a task, so this count says which events a snapshot carries.
    pub fn total_tasks(&self, frame: &[u8]) -> Option<u64> {
        let at = self.total_tasks.find(frame)? + self.total_tasks.needle().len();
        let digits = frame[at..].iter().take_while(|b| b.is_ascii_digit());
        let mut n: Option<u64> = None;
        for d in digits {
            n = Some(n.unwrap_or(0).checked_mul(10)?.checked_add(u64::from(d - b'0'))?);
        }
        n
    }
}

/// One WebSocket connection to the server.
#[derive(Debug)]
pub struct Client {
    stream: TcpStream,
    /// Received bytes not yet handed out are `buf[start..end]`.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Client frames to send (reused).
    out: Vec<u8>,
}

impl Client {
    /// Connects and upgrades `GET path` (the handshake's answer is checked, `Sec-WebSocket-Accept` too).
    pub async fn connect(addr: SocketAddr, path: &str) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let mut c = Self { stream, buf: vec![0; 4096], start: 0, end: 0, out: Vec::with_capacity(256) };
        let key = tokio_tungstenite::tungstenite::handshake::client::generate_key();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        c.stream.write_all(request.as_bytes()).await?;
        let head_end = loop {
            if let Some(i) = memchr::memmem::find(&c.buf[..c.end], b"\r\n\r\n") {
                break i + 4;
            }
            if c.end == c.buf.len() {
                bail!("the upgrade's answer has no end of headers in {} bytes", c.buf.len());
            }
            let n = c.stream.read(&mut c.buf[c.end..]).await?;
            if n == 0 {
                bail!("the server closed the connection during the upgrade");
            }
            c.end += n;
        };
        let head = String::from_utf8_lossy(&c.buf[..head_end]);
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap_or_default();
        if !status.starts_with("HTTP/1.1 101") {
            bail!("the server refused the upgrade: {}", status.trim());
        }
        let accept = lines
            .filter_map(|l| l.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("sec-websocket-accept"))
            .map(|(_, v)| v.trim())
            .context("the upgrade's answer has no Sec-WebSocket-Accept")?;
        if accept != derive_accept_key(key.as_bytes()) {
            bail!("the upgrade's Sec-WebSocket-Accept does not match the key");
        }
        c.start = head_end;
        Ok(c)
    }

    /// Sends one text frame.
    pub async fn send_text(&mut self, text: &str) -> anyhow::Result<()> {
        self.send(OP_TEXT, text.as_bytes()).await
    }

    async fn send(&mut self, opcode: u8, payload: &[u8]) -> anyhow::Result<()> {
        self.out.clear();
        encode_frame(opcode, payload, rand::random(), &mut self.out);
        self.stream.write_all(&self.out).await?;
        Ok(())
    }

    /// The next text or binary message's payload, a slice of the connection's buffer
    /// (valid until the next call); `None` once the server closed. Pings are answered here.
    pub async fn next_message(&mut self) -> anyhow::Result<Option<&[u8]>> {
        loop {
            if self.start == self.end {
                (self.start, self.end) = (0, 0);
            }
            let Some(h) = parse_header(&self.buf[self.start..self.end])? else {
                if !self.fill(self.start + 10).await? {
                    return Ok(None);
                }
                continue;
            };
            let (from, to) = (self.start + h.len, self.start + h.len + h.payload);
            if to > self.end {
                if !self.fill(to).await? {
                    return Ok(None);
                }
                continue;
            }
            self.start = to;
            match h.opcode {
                OP_TEXT | OP_BINARY => return Ok(Some(&self.buf[from..to])),
                OP_PING => {
                    let mut ping = [0u8; 125];
                    let n = h.payload.min(125);
                    ping[..n].copy_from_slice(&self.buf[from..from + n]);
                    self.send(OP_PONG, &ping[..n]).await?;
                }
                OP_PONG => {}
                OP_CLOSE => return Ok(None),
                other => bail!("a frame of unknown opcode {other:#x}"),
            }
        }
    }

    /// Reads at least one more byte towards `buf[..upto]` (moving the unread bytes to the
    /// front, growing the buffer for a large frame). False when the server closed.
    async fn fill(&mut self, upto: usize) -> anyhow::Result<bool> {
        if upto > self.buf.len() {
            let unread = self.end - self.start;
            self.buf.copy_within(self.start..self.end, 0);
            let upto = upto - self.start;
            (self.start, self.end) = (0, unread);
            if upto > self.buf.len() {
                self.buf.resize(upto, 0);
            }
        }
        let n = self.stream.read(&mut self.buf[self.end..]).await?;
        self.end += n;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_are_masked_as_rfc_6455_shows() {
        // RFC 6455 § 5.7: a masked "Hello".
        let mut out = Vec::new();
        encode_frame(OP_TEXT, b"Hello", [0x37, 0xfa, 0x21, 0x3d], &mut out);
        assert_eq!(out, [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        out.clear();
        encode_frame(OP_TEXT, &[b'a'; 300], [0; 4], &mut out);
        assert_eq!(&out[..4], [0x81, 0x80 | 126, 0x01, 0x2c]);
        assert_eq!(out.len(), 4 + 4 + 300);
    }

    #[test]
    fn server_headers_of_every_length_form() {
        // RFC 6455 § 5.7: an unmasked "Hello"; a 256-byte binary frame; a 64 KiB one.
        assert_eq!(parse_header(&[0x81, 0x05, b'H']).ok().flatten(), Some(Header { opcode: 1, len: 2, payload: 5 }));
        assert_eq!(
            parse_header(&[0x82, 0x7E, 0x01, 0x00]).ok().flatten(),
            Some(Header { opcode: 2, len: 4, payload: 256 })
        );
        let long = [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0];
        assert_eq!(parse_header(&long).ok().flatten(), Some(Header { opcode: 2, len: 10, payload: 65_536 }));
        assert_eq!(parse_header(&[0x89, 0x00]).ok().flatten(), Some(Header { opcode: OP_PING, len: 2, payload: 0 }));
    }

    #[test]
    fn short_headers_wait_for_more_bytes() {
        for partial in [&[][..], &[0x81], &[0x81, 0x7E, 0x01], &[0x82, 0x7F, 0, 0, 0]] {
            assert_eq!(parse_header(partial).ok().flatten(), None, "{partial:?}");
        }
    }

    #[test]
    fn what_a_server_must_not_send_is_an_error() {
        for bad in
            [&[0x81, 0x85][..], &[0x01, 0x05], &[0x80, 0x05], &[0xC1, 0x05], &[0x82, 0x7F, 0, 0, 0, 0, 0x10, 0, 0, 0]]
        {
            assert!(parse_header(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn markers_read_the_live_tasks_of_a_snapshot_frame() {
        let m = Markers::default();
        let frame = br#"{"type":"snapshot","id":"load","rev":7,"at":"2026-12-02T08:00:00Z","stale":false,"realtime":{"account_sid":"AC1","longest_task_waiting_age":0,"tasks_by_priority":{"0":21},"tasks_by_status":{"pending":21},"total_tasks":21,"url":"x"},"cumulative":null}"#;
        assert!(m.is_snapshot(frame));
        assert_eq!(m.total_tasks(frame), Some(21));
        assert!(!m.is_snapshot(br#"{"type":"error","code":20403}"#));
        assert_eq!(m.total_tasks(br#"{"type":"error"}"#), None);
        assert_eq!(m.total_tasks(br#"{"total_tasks":}"#), None);
        assert_eq!(m.total_tasks(br#"{"total_tasks":99999999999999999999999}"#), None);
    }

    /// A real loopback server that answers the upgrade and sends frames in 7-byte pieces: a
    /// text, a ping, a binary frame larger than the client's buffer, a text, a close.
    #[tokio::test]
    async fn reads_split_frames_grows_for_large_ones_and_answers_pings() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let big: Vec<u8> = (0..5_000u32).map(|i| (i % 251) as u8).collect();
        let server = {
            let big = big.clone();
            tokio::spawn(async move {
                let (mut s, _) = listener.accept().await.expect("accept");
                let mut req = Vec::new();
                while memchr::memmem::find(&req, b"\r\n\r\n").is_none() {
                    let mut b = [0u8; 512];
                    let n = s.read(&mut b).await.expect("request");
                    req.extend_from_slice(&b[..n]);
                }
                let req = String::from_utf8_lossy(&req).into_owned();
                let key = req.lines().find_map(|l| l.strip_prefix("Sec-WebSocket-Key: ")).expect("key").trim();
                let mut out = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                    derive_accept_key(key.as_bytes())
                )
                .into_bytes();
                out.extend_from_slice(&[0x81, 5]);
                out.extend_from_slice(b"hello");
                out.extend_from_slice(&[0x89, 2, b'p', b'1']);
                out.extend_from_slice(&[0x82, 126, 0x13, 0x88]);
                out.extend_from_slice(&big);
                out.extend_from_slice(&[0x81, 3]);
                out.extend_from_slice(b"bye");
                out.extend_from_slice(&[0x88, 0]);
                for piece in out.chunks(7) {
                    s.write_all(piece).await.expect("write");
                    s.flush().await.expect("flush");
                }
                let mut pong = [0u8; 8];
                s.read_exact(&mut pong).await.expect("pong");
                let unmasked: Vec<u8> = pong[6..].iter().zip(&pong[2..6]).map(|(b, m)| b ^ m).collect();
                (pong[..2].to_vec(), unmasked)
            })
        };
        let mut c = Client::connect(addr, "/ws").await.expect("upgrade");
        assert_eq!(c.next_message().await.expect("hello"), Some(&b"hello"[..]));
        assert_eq!(c.next_message().await.expect("big"), Some(&big[..]));
        assert_eq!(c.next_message().await.expect("bye"), Some(&b"bye"[..]));
        assert_eq!(c.next_message().await.expect("close"), None);
        let (head, payload) = server.await.expect("server");
        assert_eq!(head, [0x80 | OP_PONG, 0x80 | 2]);
        assert_eq!(payload, b"p1");
    }
}
