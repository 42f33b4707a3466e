//! Clients that connect while the dataset is loading from the data disk:
//! as in Redis, each command they send is answered with `-LOADING`, and
//! once the data is in, they become ordinary clients (with whatever part
//! of a command they had sent since).

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use kernel::net::{Interest, NetError, Poller, TcpListener, TcpStream};
use kernel::time::{Duration, Instant};
use redis_engine::resp::{ParseLimits, RequestParser, Step};

/// Redis's reply to a command that arrives while the dataset loads.
const LOADING: &[u8] = b"-LOADING Redis is loading the dataset in memory\r\n";
/// How often the loading pauses to look at the network.
const INTERVAL: Duration = Duration::from_millis(10);
/// A waiting client may not send more than this before loading ends.
const MAX_PENDING: usize = 64 * 1024;

/// A client accepted during loading.
pub struct Waiting {
    pub stream: TcpStream,
    pub peer: String,
    parser: RequestParser,
    /// The bytes of the command not complete yet (for the engine later).
    pub pending: Vec<u8>,
    /// The client closed its side.
    pub eof: bool,
}

/// The clients waiting for the dataset.
pub struct LoadingClients<'a> {
    listener: &'a TcpListener,
    /// Processes the network's input (nothing else does while loading).
    poller: Poller,
    events: Vec<kernel::net::Event>,
    pub waiting: Vec<Waiting>,
    last: Instant,
    buf: Vec<u8>,
}

impl<'a> LoadingClients<'a> {
    pub fn new(listener: &'a TcpListener) -> LoadingClients<'a> {
        let mut poller = Poller::new();
        poller.register(listener, 0, Interest::READABLE);
        LoadingClients {
            listener,
            poller,
            events: Vec::new(),
            waiting: Vec::new(),
            last: Instant::now(),
            buf: vec![0; 16 * 1024],
        }
    }

    /// Called often while loading: at most every [`INTERVAL`], accepts new
    /// clients and answers what they sent.
    pub fn serve(&mut self) {
        if self.last.elapsed() < INTERVAL {
            return;
        }
        self.last = Instant::now();
        // Takes in what the network brought (without waiting).
        if self.poller.wait(&mut self.events, Some(Duration::ZERO)).is_err() {
            return;
        }
        while let Ok((mut stream, peer)) = self.listener.accept() {
            stream.set_nonblocking(true);
            self.waiting.push(Waiting {
                stream,
                peer: format!("{peer}"),
                parser: RequestParser::new(),
                pending: Vec::new(),
                eof: false,
            });
        }
        let buf = &mut self.buf;
        self.waiting.retain_mut(|w| answer(w, buf));
    }
}

/// Reads what `w` sent and answers each complete command; false when the
/// connection is done (closed, failed, or over its limit).
fn answer(w: &mut Waiting, buf: &mut [u8]) -> bool {
    let limits = ParseLimits {
        max_bulk_len: MAX_PENDING,
        authenticated: false,
        max_query: MAX_PENDING,
        input_buffered: false,
        mem_budget: MAX_PENDING,
    };
    while !w.eof {
        let n = match w.stream.read(buf) {
            Ok(0) => {
                w.eof = true;
                break;
            }
            Ok(n) => n,
            Err(NetError::WouldBlock) => break,
            Err(_) => return false,
        };
        let input = &buf[..n];
        let mut pos = 0;
        while pos < input.len() {
            let (used, step) = w.parser.parse(&input[pos..], &limits);
            w.pending.extend_from_slice(&input[pos..pos + used]);
            pos += used;
            match step {
                Step::Command(_) => {
                    w.pending.clear();
                    if w.stream.write_all(LOADING).is_err() {
                        return false;
                    }
                }
                Step::NeedMore => break,
                Step::Error(_) | Step::Overflow => return false,
            }
        }
        if w.pending.len() > MAX_PENDING {
            return false;
        }
    }
    !(w.eof && w.pending.is_empty())
}
