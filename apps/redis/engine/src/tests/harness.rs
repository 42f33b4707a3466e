//! Test harness: a server with a fake clock and helpers that send
//! commands and return the exact reply bytes.

use alloc::string::String;
use alloc::vec::Vec;

use crate::{ClientId, Config, Server, Time};

pub struct H {
    pub s: Server,
    pub now: Time,
}

/// Encodes a command as a RESP multibulk.
pub fn enc(args: &[&[u8]]) -> Vec<u8> {
    let mut v = alloc::format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(alloc::format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

pub fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl H {
    pub fn new() -> H {
        H::with(Config::default())
    }

    pub fn with(cfg: Config) -> H {
        let now = Time { unix_ms: 1_700_000_000_000, mono_ms: 1_000_000 };
        H { s: Server::new(cfg, 42), now }
    }

    pub fn client(&mut self) -> ClientId {
        self.s.connect("127.0.0.1:50000", self.now).expect("connect")
    }

    pub fn advance(&mut self, ms: u64) {
        self.now = self.now.plus_ms(ms);
    }

    pub fn tick(&mut self) {
        self.s.tick(self.now);
    }

    /// Takes all pending output of a client.
    pub fn take(&mut self, id: ClientId) -> Vec<u8> {
        let out = self.s.output(id).to_vec();
        self.s.consume_output(id, out.len());
        out
    }

    /// Sends raw bytes and returns the reply bytes.
    pub fn raw(&mut self, id: ClientId, bytes: &[u8]) -> Vec<u8> {
        self.s.feed(id, bytes, self.now);
        self.take(id)
    }

    /// Sends a command given as strings and returns the reply as text.
    pub fn cmd(&mut self, id: ClientId, args: &[&str]) -> String {
        let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
        let bytes = enc(&a);
        show(&self.raw(id, &bytes))
    }

    /// Sends an inline command line.
    pub fn line(&mut self, id: ClientId, line: &str) -> String {
        let mut b = line.as_bytes().to_vec();
        b.extend_from_slice(b"\r\n");
        show(&self.raw(id, &b))
    }
}

/// Asserts a sequence of (command, expected reply) on one client.
#[macro_export]
macro_rules! script {
    ($h:expr, $c:expr, $( [$($arg:expr),*] => $exp:expr ),* $(,)?) => {
        $(
            {
                let got = $h.cmd($c, &[$($arg),*]);
                assert_eq!(got, $exp, "command {:?}", [$($arg),*]);
            }
        )*
    };
}
