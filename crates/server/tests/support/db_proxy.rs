//! A TCP proxy in front of PostgreSQL that a test controls: it forwards, it can be cut
//! (every connection closed, new ones closed at once), and it can become a black hole
//! (connections stay open and bytes are accepted, but nothing is passed on, like a
//! partition or a hung load balancer) until it is restored.
//!
//! Plain threads, so that both the async API tests and the process tests can use it.
#![allow(dead_code)] // each test file uses its own subset

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Forwarding,
    Cut,
    BlackHole,
}

#[derive(Default)]
struct Shared {
    mode: Mutex<Option<Mode>>,
    changed: Condvar,
    /// Both ends of every connection, to close them when cut.
    streams: Mutex<Vec<TcpStream>>,
}

impl Shared {
    fn mode(&self) -> Mode {
        self.mode.lock().unwrap().unwrap_or(Mode::Forwarding)
    }

    /// Waits while the proxy is a black hole; `false` once it is cut.
    fn wait_to_pass(&self) -> bool {
        let mode = self.mode.lock().unwrap();
        let mode = self
            .changed
            .wait_while(mode, |mode| *mode == Some(Mode::BlackHole))
            .unwrap();
        *mode != Some(Mode::Cut)
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = Some(mode);
        self.changed.notify_all();
    }

    fn keep(&self, stream: &TcpStream) {
        if let Ok(clone) = stream.try_clone() {
            self.streams.lock().unwrap().push(clone);
        }
    }
}

pub struct DbProxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl DbProxy {
    /// Listens on a free loopback port and forwards to `target`.
    pub fn start(target: SocketAddr) -> DbProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let accepting = Arc::clone(&shared);
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let shared = Arc::clone(&accepting);
                thread::spawn(move || relay(client, target, &shared));
            }
        });
        DbProxy { addr, shared }
    }

    /// `url` (a PostgreSQL URL on `127.0.0.1:5432`) through this proxy.
    pub fn proxied(&self, url: &str) -> String {
        let proxied = url.replace("127.0.0.1:5432", &self.addr.to_string());
        assert_ne!(proxied, url, "the test database is not on 127.0.0.1:5432");
        proxied
    }

    /// Closes every connection, and new ones at once, until restored.
    pub fn cut(&self) {
        self.shared.set(Mode::Cut);
        for stream in self.shared.streams.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Passes nothing on and closes nothing, until restored. Bytes already read are held
    /// and delivered after, as TCP would retransmit them.
    pub fn black_hole(&self) {
        self.shared.set(Mode::BlackHole);
    }

    pub fn restore(&self) {
        self.shared.set(Mode::Forwarding);
    }
}

fn relay(client: TcpStream, target: SocketAddr, shared: &Arc<Shared>) {
    if shared.mode() == Mode::Cut || !shared.wait_to_pass() {
        return;
    }
    let Ok(server) = TcpStream::connect(target) else {
        return;
    };
    shared.keep(&client);
    shared.keep(&server);
    let (Ok(client_in), Ok(server_in)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let upstream = Arc::clone(shared);
    thread::spawn(move || pump(client_in, server, &upstream));
    pump(server_in, client, shared);
}

/// Copies `from` to `to` chunk by chunk, each chunk waiting while the proxy is a black hole.
fn pump(mut from: TcpStream, mut to: TcpStream, shared: &Shared) {
    let mut buffer = [0; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        if !shared.wait_to_pass() || to.write_all(&buffer[..read]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}
