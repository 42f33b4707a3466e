//! A small RESP client for the tests: enough to tell Redis's replies apart
//! and to read INFO fields.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Socket I/O timeout of the clients.
pub const IO_TIMEOUT: Duration = Duration::from_secs(60);

/// One RESP reply, as far as these tests need to tell replies apart.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend(format!("${}\r\n", a.len()).bytes());
        out.extend(*a);
        out.extend(b"\r\n");
    }
    out
}

pub fn read_line(r: &mut impl Read) -> std::io::Result<String> {
    let mut line = Vec::new();
    let mut byte = [0u8];
    while !line.ends_with(b"\r\n") {
        r.read_exact(&mut byte)?;
        line.push(byte[0]);
    }
    line.truncate(line.len() - 2);
    Ok(String::from_utf8_lossy(&line).into_owned())
}

pub fn read_reply(r: &mut impl Read) -> std::io::Result<Reply> {
    let line = read_line(r)?;
    let bad = || std::io::Error::new(ErrorKind::InvalidData, format!("not RESP: {line:?}"));
    let (kind, rest) = line.split_at_checked(1).ok_or_else(bad)?;
    let number = || rest.parse::<i64>().map_err(|_| bad());
    Ok(match kind {
        "+" => Reply::Status(rest.to_string()),
        "-" => Reply::Error(rest.to_string()),
        ":" => Reply::Int(number()?),
        "$" if number()? < 0 => Reply::Bulk(None),
        "$" => {
            let mut data = vec![0; number()? as usize + 2];
            r.read_exact(&mut data)?;
            data.truncate(data.len() - 2);
            Reply::Bulk(Some(data))
        }
        "*" if number()? < 0 => Reply::Array(None),
        "*" => Reply::Array(Some((0..number()?).map(|_| read_reply(r)).collect::<Result<_, _>>()?)),
        _ => return Err(bad()),
    })
}

pub struct Client {
    pub stream: TcpStream,
}

impl Client {
    pub fn connect(port: u16) -> std::io::Result<Client> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(Client { stream })
    }

    pub fn call(&mut self, args: &[&str]) -> std::io::Result<Reply> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.call_bytes(&args)
    }

    pub fn call_bytes(&mut self, args: &[&[u8]]) -> std::io::Result<Reply> {
        self.stream.write_all(&encode(args))?;
        read_reply(&mut self.stream)
    }

    /// Whether the server closed the connection (after whatever it sent).
    pub fn closed_by_server(&mut self, within: Duration) -> bool {
        let _ = self.stream.set_read_timeout(Some(within));
        let mut buf = vec![0u8; 1 << 16];
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            match self.stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
        false
    }
}

pub fn status(s: &str) -> Reply {
    Reply::Status(s.to_string())
}

pub fn info_field(client: &mut Client, section: &str, field: &str) -> Result<u64, String> {
    let Reply::Bulk(Some(text)) = client.call(&["INFO", section]).map_err(|e| e.to_string())? else {
        return Err(format!("INFO {section}: not a bulk reply"));
    };
    let text = String::from_utf8_lossy(&text).into_owned();
    let prefix = format!("{field}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("INFO {section} has no {field}:\n{text}"))
}
