//! Sending Cypher statements to Neo4j or Memgraph over Bolt, in one transaction
//! (`git lineage export cypher --bolt`). See: issue 9.
//!
//! Only the part of the protocol this needs, written from the Bolt and PackStream
//! specifications: the version handshake (5.0-5.4, 4.0-4.4), `HELLO` (with the credentials
//! before 5.1, then `LOGON`), `BEGIN`, `RUN` + `PULL` per statement, `COMMIT` and `GOODBYE`,
//! messages in chunks, and the PackStream values those messages carry. Statements are
//! pipelined in batches. The Rust Bolt clients
//! are asynchronous (tokio or a runtime of the caller's): one blocking socket is all a
//! command that sends a script needs. Plain TCP only: `bolt+s://` (TLS) is refused with a
//! hint to pipe the script to `cypher-shell` instead.
//!
//! The statements run inside one explicit transaction: a failing statement stops the load,
//! the connection is closed without `COMMIT`, and the server rolls everything back.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The handshake's preamble.
const MAGIC: [u8; 4] = [0x60, 0x60, 0xB0, 0x17];
/// Versions offered, best first (`[0, range, minor, major]`): 5.4 down to 5.0, 4.4 down to
/// 4.2, 4.1, 4.0 (servers that predate ranges match single versions only).
const OFFERED: [[u8; 4]; 4] = [[0, 4, 4, 5], [0, 2, 4, 4], [0, 0, 1, 4], [0, 0, 0, 4]];
/// Statements sent before their replies are read.
const BATCH: usize = 100;
/// How long one reply may take.
const TIMEOUT: Duration = Duration::from_mins(2);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("`{0}` is not a Bolt address (bolt://host:port, neo4j://host:port)")]
    Address(String),
    #[error(
        "`{0}` asks for TLS, which git-lineage does not speak: pipe the script to cypher-shell instead (`git lineage export cypher | cypher-shell -a {0}`)"
    )]
    Tls(String),
    #[error("connecting to {address}")]
    Connect { address: String, source: io::Error },
    #[error("the server closed the connection")]
    Closed,
    #[error("talking to the server")]
    Io(#[source] io::Error),
    #[error("the server speaks none of Bolt 4.0-4.4 and 5.0-5.4")]
    NoVersion,
    #[error("the server refused the login: {0}")]
    Login(String),
    #[error("statement {index} failed, nothing was committed: {message}\n  {statement}")]
    Statement { index: usize, statement: String, message: String },
    #[error("the server refused {step}: {message}")]
    Refused { step: &'static str, message: String },
    #[error("the server sent a message git-lineage cannot read: {0}")]
    Protocol(String),
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Error {
        match e.kind() {
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe => Error::Closed,
            _ => Error::Io(e),
        }
    }
}

/// Who logs in.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub user: Option<String>,
    pub password: Option<String>,
}

/// What was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The Bolt version agreed on, `(major, minor)`.
    pub version: (u8, u8),
    pub statements: usize,
}

/// A PackStream value: what the messages here carry.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Struct(u8, Vec<Value>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

fn map<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// PackStream encoding of `value`, appended to `out`.
pub fn pack(value: &Value, out: &mut Vec<u8>) {
    fn size(out: &mut Vec<u8>, len: usize, tiny: u8, markers: [u8; 3]) {
        // PackStream sizes are at most u32; the statements sent here are far smaller.
        #[allow(clippy::cast_possible_truncation)]
        match len {
            0..=15 if tiny != 0 => out.push(tiny | len as u8),
            0..=0xFF => out.extend([markers[0], len as u8]),
            0x100..=0xFFFF => {
                out.push(markers[1]);
                out.extend((len as u16).to_be_bytes());
            }
            _ => {
                out.push(markers[2]);
                out.extend((len as u32).to_be_bytes());
            }
        }
    }
    match value {
        Value::Null => out.push(0xC0),
        Value::Bool(b) => out.push(if *b { 0xC3 } else { 0xC2 }),
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Value::Int(n) => match *n {
            -16..=127 => out.push(*n as u8),
            -128..=-17 => out.extend([0xC8, *n as u8]),
            -32_768..=32_767 => {
                out.push(0xC9);
                out.extend((*n as i16).to_be_bytes());
            }
            -2_147_483_648..=2_147_483_647 => {
                out.push(0xCA);
                out.extend((*n as i32).to_be_bytes());
            }
            _ => {
                out.push(0xCB);
                out.extend(n.to_be_bytes());
            }
        },
        Value::Float(f) => {
            out.push(0xC1);
            out.extend(f.to_be_bytes());
        }
        Value::String(s) => {
            size(out, s.len(), 0x80, [0xD0, 0xD1, 0xD2]);
            out.extend(s.as_bytes());
        }
        Value::List(items) => {
            size(out, items.len(), 0x90, [0xD4, 0xD5, 0xD6]);
            for item in items {
                pack(item, out);
            }
        }
        Value::Map(entries) => {
            size(out, entries.len(), 0xA0, [0xD8, 0xD9, 0xDA]);
            for (k, v) in entries {
                pack(&Value::String(k.clone()), out);
                pack(v, out);
            }
        }
        Value::Struct(signature, fields) => {
            // Structures have at most 15 fields.
            #[allow(clippy::cast_possible_truncation)]
            out.push(0xB0 | (fields.len().min(15) as u8));
            out.push(*signature);
            for field in fields {
                pack(field, out);
            }
        }
    }
}

/// The PackStream value at the start of `bytes` and the bytes after it.
pub fn unpack(bytes: &[u8]) -> Result<(Value, &[u8]), Error> {
    fn take(bytes: &[u8], n: usize) -> Result<(&[u8], &[u8]), Error> {
        if bytes.len() < n {
            return Err(Error::Protocol("a value ends early".into()));
        }
        Ok(bytes.split_at(n))
    }
    fn len(bytes: &[u8], width: usize) -> Result<(usize, &[u8]), Error> {
        let (raw, rest) = take(bytes, width)?;
        let n = raw.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        Ok((n, rest))
    }
    fn string(bytes: &[u8], n: usize) -> Result<(Value, &[u8]), Error> {
        let (raw, rest) = take(bytes, n)?;
        let text = std::str::from_utf8(raw).map_err(|e| Error::Protocol(e.to_string()))?;
        Ok((Value::String(text.to_string()), rest))
    }
    fn items(mut bytes: &[u8], n: usize) -> Result<(Vec<Value>, &[u8]), Error> {
        let mut items = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            let (item, rest) = unpack(bytes)?;
            items.push(item);
            bytes = rest;
        }
        Ok((items, bytes))
    }
    fn list(bytes: &[u8], n: usize) -> Result<(Value, &[u8]), Error> {
        items(bytes, n).map(|(items, rest)| (Value::List(items), rest))
    }
    fn entries(mut bytes: &[u8], n: usize) -> Result<(Value, &[u8]), Error> {
        let mut out = BTreeMap::new();
        for _ in 0..n {
            let (key, rest) = unpack(bytes)?;
            let (value, rest) = unpack(rest)?;
            let Value::String(key) = key else {
                return Err(Error::Protocol("a map key is not a string".into()));
            };
            out.insert(key, value);
            bytes = rest;
        }
        Ok((Value::Map(out), bytes))
    }
    fn int(bytes: &[u8], width: usize) -> Result<(Value, &[u8]), Error> {
        let (raw, rest) = take(bytes, width)?;
        let mut buf = [if raw.first().is_some_and(|b| b & 0x80 != 0) { 0xFF } else { 0 }; 8];
        buf[8 - width..].copy_from_slice(raw);
        Ok((Value::Int(i64::from_be_bytes(buf)), rest))
    }
    let (&marker, rest) =
        bytes.split_first().ok_or_else(|| Error::Protocol("an empty value".into()))?;
    match marker {
        0x00..=0x7F => Ok((Value::Int(i64::from(marker)), rest)),
        0xF0..=0xFF => Ok((Value::Int(i64::from(marker.cast_signed())), rest)),
        0x80..=0x8F => string(rest, usize::from(marker & 0x0F)),
        0x90..=0x9F => list(rest, usize::from(marker & 0x0F)),
        0xA0..=0xAF => entries(rest, usize::from(marker & 0x0F)),
        0xB0..=0xBF => {
            let (&signature, rest) = rest
                .split_first()
                .ok_or_else(|| Error::Protocol("a structure ends early".into()))?;
            let (fields, rest) = items(rest, usize::from(marker & 0x0F))?;
            Ok((Value::Struct(signature, fields), rest))
        }
        0xC0 => Ok((Value::Null, rest)),
        0xC1 => {
            let (raw, rest) = take(rest, 8)?;
            let mut buf = [0; 8];
            buf.copy_from_slice(raw);
            Ok((Value::Float(f64::from_be_bytes(buf)), rest))
        }
        0xC2 => Ok((Value::Bool(false), rest)),
        0xC3 => Ok((Value::Bool(true), rest)),
        0xC8 => int(rest, 1),
        0xC9 => int(rest, 2),
        0xCA => int(rest, 4),
        0xCB => int(rest, 8),
        0xCC..=0xCE => {
            // Bytes: read and kept as a list of their values.
            let (n, rest) = len(rest, 1 << (marker - 0xCC))?;
            let (raw, rest) = take(rest, n)?;
            Ok((Value::List(raw.iter().map(|b| Value::Int(i64::from(*b))).collect()), rest))
        }
        0xD0..=0xD2 => {
            let (n, rest) = len(rest, 1 << (marker - 0xD0))?;
            string(rest, n)
        }
        0xD4..=0xD6 => {
            let (n, rest) = len(rest, 1 << (marker - 0xD4))?;
            list(rest, n)
        }
        0xD8..=0xDA => {
            let (n, rest) = len(rest, 1 << (marker - 0xD8))?;
            entries(rest, n)
        }
        other => Err(Error::Protocol(format!("unknown PackStream marker {other:#04x}"))),
    }
}

/// A message in chunks of at most 65 535 bytes, then the empty chunk that ends it.
pub fn chunk(message: &[u8], out: &mut Vec<u8>) {
    for piece in message.chunks(0xFFFF) {
        #[allow(clippy::cast_possible_truncation)] // chunks of at most 0xFFFF bytes
        out.extend((piece.len() as u16).to_be_bytes());
        out.extend(piece);
    }
    out.extend([0, 0]);
}

/// The host and port of a `bolt://` or `neo4j://` address (port 7687 unless given).
pub fn address(uri: &str) -> Result<String, Error> {
    let (scheme, rest) = uri.split_once("://").ok_or_else(|| Error::Address(uri.into()))?;
    match scheme {
        "bolt" | "neo4j" => {}
        "bolt+s" | "bolt+ssc" | "neo4j+s" | "neo4j+ssc" => return Err(Error::Tls(uri.into())),
        _ => return Err(Error::Address(uri.into())),
    }
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or(host);
    if host.is_empty() {
        return Err(Error::Address(uri.into()));
    }
    let has_port = host.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        && !host.ends_with(']');
    Ok(if has_port { host.to_string() } else { format!("{host}:7687") })
}

/// One connection to a Bolt server.
struct Connection {
    stream: TcpStream,
    version: (u8, u8),
}

/// A server's reply to one message.
enum Reply {
    Success,
    Failure(String),
    Ignored,
}

impl Connection {
    fn open(uri: &str) -> Result<Connection, Error> {
        let address = address(uri)?;
        let connect = |source| Error::Connect { address: address.clone(), source };
        let mut last = None;
        let mut stream = None;
        for addr in address.to_socket_addrs().map_err(connect)? {
            match TcpStream::connect_timeout(&addr, Duration::from_secs(10)) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let mut stream = match (stream, last) {
            (Some(s), _) => s,
            (None, Some(e)) => return Err(connect(e)),
            (None, None) => {
                return Err(connect(io::Error::new(io::ErrorKind::NotFound, "no address")));
            }
        };
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_nodelay(true)?;
        let mut hello = MAGIC.to_vec();
        for version in OFFERED {
            hello.extend(version);
        }
        stream.write_all(&hello)?;
        let mut agreed = [0u8; 4];
        stream.read_exact(&mut agreed)?;
        let version = (agreed[3], agreed[2]);
        if !matches!(version, (4 | 5, 0..=4)) {
            return Err(Error::NoVersion);
        }
        Ok(Connection { stream, version })
    }

    fn send(&mut self, messages: &[Value]) -> Result<(), Error> {
        let mut out = Vec::new();
        for message in messages {
            let mut body = Vec::new();
            pack(message, &mut body);
            chunk(&body, &mut out);
        }
        self.stream.write_all(&out)?;
        Ok(())
    }

    fn receive(&mut self) -> Result<Reply, Error> {
        loop {
            let mut message = Vec::new();
            loop {
                let mut size = [0u8; 2];
                self.stream.read_exact(&mut size)?;
                let size = usize::from(u16::from_be_bytes(size));
                if size == 0 {
                    if message.is_empty() {
                        continue; // a keep-alive (NOOP chunk)
                    }
                    break;
                }
                let start = message.len();
                message.resize(start + size, 0);
                self.stream.read_exact(&mut message[start..])?;
            }
            let (value, _) = unpack(&message)?;
            let Value::Struct(signature, mut fields) = value else {
                return Err(Error::Protocol("a reply is not a structure".into()));
            };
            let metadata = match fields.pop() {
                Some(Value::Map(m)) => m,
                _ => BTreeMap::new(),
            };
            return Ok(match signature {
                0x70 => Reply::Success,
                0x71 => continue, // RECORD: MERGE statements return none; skip any
                0x7E => Reply::Ignored,
                0x7F => {
                    let text = |key: &str| match metadata.get(key) {
                        Some(Value::String(s)) => s.clone(),
                        _ => String::new(),
                    };
                    Reply::Failure(format!("{}: {}", text("code"), text("message")))
                }
                other => return Err(Error::Protocol(format!("message {other:#04x}"))),
            });
        }
    }

    /// The reply to a message that must succeed.
    fn expect_success(&mut self, step: &'static str) -> Result<(), Error> {
        match self.receive()? {
            Reply::Success => Ok(()),
            Reply::Failure(message) => Err(Error::Refused { step, message }),
            Reply::Ignored => Err(Error::Refused { step, message: "ignored".into() }),
        }
    }

    fn login(&mut self, credentials: &Credentials) -> Result<(), Error> {
        let agent = concat!("git-lineage/", env!("CARGO_PKG_VERSION"));
        let auth: Vec<(&str, Value)> = match (&credentials.user, &credentials.password) {
            (Some(user), password) => vec![
                ("scheme", "basic".into()),
                ("principal", user.as_str().into()),
                ("credentials", password.as_deref().unwrap_or_default().into()),
            ],
            (None, _) => vec![("scheme", "none".into())],
        };
        let mut hello: BTreeMap<String, Value> = BTreeMap::new();
        hello.insert("user_agent".into(), agent.into());
        if self.version >= (5, 3) {
            hello.insert("bolt_agent".into(), map([("product", agent.into())]));
        }
        let separate_logon = self.version >= (5, 1);
        if !separate_logon {
            hello.extend(auth.iter().map(|(k, v)| ((*k).to_string(), v.clone())));
        }
        self.send(&[Value::Struct(0x01, vec![Value::Map(hello)])])?;
        let refused = |reply| match reply {
            Reply::Success => Ok(()),
            Reply::Failure(message) => Err(Error::Login(message)),
            Reply::Ignored => Err(Error::Login("ignored".into())),
        };
        refused(self.receive()?)?;
        if separate_logon {
            let auth = auth.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            self.send(&[Value::Struct(0x6A, vec![Value::Map(auth)])])?;
            refused(self.receive()?)?;
        }
        Ok(())
    }
}

/// Run `statements` in one transaction on the server at `uri` (in `database`, when given):
/// all of them, or none when one fails.
pub fn send(
    uri: &str,
    credentials: &Credentials,
    database: Option<&str>,
    statements: &[String],
) -> Result<Sent, Error> {
    let mut connection = Connection::open(uri)?;
    connection.login(credentials)?;
    let mut begin = BTreeMap::new();
    if let Some(db) = database {
        begin.insert("db".to_string(), Value::from(db));
    }
    connection.send(&[Value::Struct(0x11, vec![Value::Map(begin)])])?;
    connection.expect_success("BEGIN")?;
    let pull = Value::Struct(0x3F, vec![map([("n", Value::Int(-1))])]);
    // Pipelined: a batch of RUN + PULL pairs goes out in one write and its replies are read
    // after, so a remote server costs a round trip per batch, not per statement. The server
    // answers in order; after a failure it ignores the rest.
    for (batch, chunk) in statements.chunks(BATCH).enumerate() {
        let mut messages = Vec::with_capacity(2 * chunk.len());
        for statement in chunk {
            let none = || Value::Map(BTreeMap::new());
            messages.push(Value::Struct(0x10, vec![statement.as_str().into(), none(), none()]));
            messages.push(pull.clone());
        }
        connection.send(&messages)?;
        for (offset, statement) in chunk.iter().enumerate() {
            let failed = |message| Error::Statement {
                index: batch * BATCH + offset + 1,
                statement: statement.clone(),
                message,
            };
            for _ in 0..2 {
                match connection.receive()? {
                    Reply::Success => {}
                    Reply::Failure(message) => {
                        // No COMMIT: closing the connection rolls the transaction back.
                        let _ = connection.send(&[Value::Struct(0x02, vec![])]);
                        return Err(failed(message));
                    }
                    Reply::Ignored => return Err(failed("ignored".into())),
                }
            }
        }
    }
    connection.send(&[Value::Struct(0x12, vec![])])?;
    connection.expect_success("COMMIT")?;
    // GOODBYE has no reply; the server closes the connection.
    let _ = connection.send(&[Value::Struct(0x02, vec![])]);
    Ok(Sent { version: connection.version, statements: statements.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let long = "x".repeat(70_000);
        let values = [
            Value::Null,
            Value::Bool(true),
            Value::Int(-1),
            Value::Int(-17),
            Value::Int(200),
            Value::Int(-40_000),
            Value::Int(1 << 40),
            Value::Float(1.5),
            Value::from("MERGE (:Dataset {name: \"a\"})"),
            Value::from(long.as_str()),
            Value::List((0..20).map(Value::Int).collect()),
            map([("n", Value::Int(-1)), ("db", "neo4j".into())]),
            Value::Struct(0x10, vec!["RETURN 1".into(), map([]), map([])]),
        ];
        for value in values {
            let mut bytes = Vec::new();
            pack(&value, &mut bytes);
            let (back, rest) = unpack(&bytes).unwrap();
            assert_eq!((back, rest.len()), (value, 0));
        }
    }

    #[test]
    fn packed_bytes_follow_the_specification() {
        let mut bytes = Vec::new();
        pack(&Value::Struct(0x3F, vec![map([("n", Value::Int(-1))])]), &mut bytes);
        assert_eq!(bytes, [0xB1, 0x3F, 0xA1, 0x81, b'n', 0xFF]);
        let mut chunks = Vec::new();
        chunk(&[1, 2, 3], &mut chunks);
        assert_eq!(chunks, [0, 3, 1, 2, 3, 0, 0]);
    }

    #[test]
    fn addresses() {
        assert_eq!(address("bolt://localhost").unwrap(), "localhost:7687");
        assert_eq!(address("neo4j://db.example.com:7688/").unwrap(), "db.example.com:7688");
        assert!(matches!(address("bolt+s://x"), Err(Error::Tls(_))));
        assert!(matches!(address("http://x"), Err(Error::Address(_))));
    }
}
