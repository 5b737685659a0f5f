//! A deadline on every PostgreSQL call, enforced by shutting the connection's socket down.
//!
//! libpq waits in `poll()` until the server answers. When the network drops packets (a
//! partition), libpq's `tcp_user_timeout` ends that wait (see [`super::url`]). But a middlebox
//! that keeps accepting bytes without passing them on (a hung load balancer or pooler)
//! acknowledges everything, so no TCP timer ever fires, and the call would hold its worker
//! thread and its pool slot until the process ends. Shutting the socket down wakes libpq at
//! once with an error; the connection is then dropped from the pool.
//!
//! diesel does not expose libpq's socket, so it is found once per connection, when the
//! connection is opened: a pool opens its connections one at a time, and the socket that
//! appeared in the process meanwhile is libpq's. It is duplicated (`pidfd_getfd`) so that the handle
//! stays valid exactly as long as the connection. When another socket appeared at the same
//! moment (an HTTP client connecting), the two cannot be told apart and the caller opens the
//! connection again. Linux only; elsewhere (and for the rare connection whose socket was not
//! found) calls are bounded by libpq's TCP timeouts and by the backstop in `Store::run`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A connection's socket, kept open for as long as the connection.
#[derive(Debug)]
pub(crate) struct Socket(#[cfg_attr(not(target_os = "linux"), allow(dead_code))] Descriptor);

#[cfg(target_os = "linux")]
type Descriptor = std::os::fd::OwnedFd;
#[cfg(not(target_os = "linux"))]
type Descriptor = ();

impl Socket {
    /// Ends the connection's traffic both ways: a call blocked on it returns with an error.
    fn interrupt(&self) {
        #[cfg(target_os = "linux")]
        if let Err(error) = rustix::net::shutdown(&self.0, rustix::net::Shutdown::Both) {
            tracing::warn!(%error, "could not interrupt a database connection");
        }
    }
}

/// How many times a connection is opened while its socket cannot be told apart.
const OPEN_ATTEMPTS: u32 = 3;

/// How a pool opens its connections: one at a time, so that its own openings never mix,
/// and, while the database cannot be reached, without looking for sockets at all.
#[derive(Debug, Default)]
pub(crate) struct Opener {
    one_at_a_time: Mutex<()>,
    /// The last opening failed: the next one does not list the process's sockets (a pool
    /// that cannot reach its database keeps retrying, and listing costs a system call per
    /// open descriptor); the connection it makes, if any, goes without its socket.
    failing: AtomicBool,
}

impl Opener {
    /// Runs `open` (which opens one connection) and returns the connection with its socket.
    /// When another socket appeared meanwhile (an HTTP client connecting, another pool of the
    /// process opening), the connection is dropped and opened again, up to
    /// [`OPEN_ATTEMPTS`] times; the last one is returned without its socket. A lock per
    /// pool, not per process, so that a pool that cannot reach its database never holds up
    /// the others.
    pub(crate) fn open<C, E>(
        &self,
        mut open: impl FnMut() -> Result<C, E>,
    ) -> Result<(C, Option<Socket>), E> {
        let _one_at_a_time = self
            .one_at_a_time
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.failing.load(Ordering::Relaxed) {
            let connection = open()?;
            self.failing.store(false, Ordering::Relaxed);
            return Ok((connection, None));
        }
        let mut attempt = 1;
        loop {
            let before = sockets::open_sockets();
            let connection = open().inspect_err(|_| self.failing.store(true, Ordering::Relaxed))?;
            match sockets::the_new_socket(before.as_ref()) {
                Found::Socket(socket) => return Ok((connection, Some(Socket(socket)))),
                Found::Several if attempt < OPEN_ATTEMPTS => attempt += 1,
                Found::Several => {
                    tracing::warn!(
                        "a database connection's socket could not be told apart from others \
                         opened at the same moment; its calls are bounded by TCP timeouts only"
                    );
                    return Ok((connection, None));
                }
                Found::NotSupported => {
                    static SAID: std::sync::Once = std::sync::Once::new();
                    SAID.call_once(|| {
                        tracing::warn!(
                            "database call deadlines fall back to TCP timeouts: this system does \
                             not let the process copy its own sockets (pidfd_getfd: Linux 5.6 or \
                             later, allowed by the seccomp profile)"
                        );
                    });
                    return Ok((connection, None));
                }
            }
        }
    }
}

/// What [`sockets::the_new_socket`] found.
enum Found {
    Socket(Descriptor),
    /// Not exactly one new socket: this one cannot be told apart.
    Several,
    /// Sockets cannot be found on this system.
    NotSupported,
}

/// Watches `socket` until [`Armed::disarm`]; interrupts it if `deadline` passes first.
pub(crate) fn arm(socket: &Arc<Socket>, deadline: Duration) -> Armed {
    WATCHDOG.arm(Arc::clone(socket), Instant::now() + deadline)
}

/// A watched call. Disarm it when the call returns; dropped without that (the call
/// panicked), it stops watching all the same.
#[must_use = "a call left armed is interrupted at its deadline"]
pub(crate) struct Armed {
    key: (Instant, u64),
}

impl Armed {
    /// Stops watching. `true` when the deadline had passed and the socket was interrupted:
    /// the call's result is then an artefact of the interruption, and the connection is dead.
    pub(crate) fn disarm(self) -> bool {
        let interrupted = WATCHDOG.disarm(self.key);
        std::mem::forget(self);
        interrupted
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        WATCHDOG.disarm(self.key);
    }
}

static WATCHDOG: LazyLock<Watchdog> = LazyLock::new(Watchdog::start);

/// One thread for the whole process, sleeping until the earliest armed deadline.
struct Watchdog {
    state: Arc<(Mutex<Watched>, Condvar)>,
}

#[derive(Default)]
struct Watched {
    next_id: u64,
    /// By deadline; the id makes keys of calls armed at the same instant distinct.
    calls: BTreeMap<(Instant, u64), Arc<Socket>>,
}

impl Watchdog {
    fn start() -> Watchdog {
        let state: Arc<(Mutex<Watched>, Condvar)> = Arc::default();
        let watched = Arc::clone(&state);
        std::thread::Builder::new()
            .name("roster-db-deadline".into())
            .spawn(move || Self::watch(&watched))
            .expect("the database deadline thread starts");
        Watchdog { state }
    }

    fn arm(&self, socket: Arc<Socket>, due: Instant) -> Armed {
        let (lock, wake) = &*self.state;
        let mut watched = lock.lock().unwrap_or_else(PoisonError::into_inner);
        watched.next_id += 1;
        let key = (due, watched.next_id);
        watched.calls.insert(key, socket);
        if watched
            .calls
            .first_key_value()
            .is_some_and(|(first, _)| *first == key)
        {
            wake.notify_one();
        }
        Armed { key }
    }

    fn disarm(&self, key: (Instant, u64)) -> bool {
        let (lock, _) = &*self.state;
        let mut watched = lock.lock().unwrap_or_else(PoisonError::into_inner);
        watched.calls.remove(&key).is_none()
    }

    /// Interrupts each call whose deadline has passed, under the lock: a call disarmed
    /// before is never interrupted, and one interrupted is told so by `disarm`. The log line
    /// is written after the lock is released, so a slow log never holds up other calls.
    fn watch(state: &(Mutex<Watched>, Condvar)) {
        let (lock, wake) = state;
        let mut watched = lock.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let now = Instant::now();
            watched = match watched.calls.first_key_value().map(|((due, _), _)| *due) {
                None => wake.wait(watched).unwrap_or_else(PoisonError::into_inner),
                Some(due) if due <= now => {
                    let passed = watched.calls.pop_first();
                    if let Some((_, socket)) = &passed {
                        socket.interrupt();
                    }
                    drop(watched);
                    if passed.is_some() {
                        tracing::warn!(
                            "a database call passed its deadline; its connection is closed"
                        );
                    }
                    lock.lock().unwrap_or_else(PoisonError::into_inner)
                }
                Some(due) => {
                    wake.wait_timeout(watched, due - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }
}

/// Finding libpq's socket among the process's descriptors.
#[cfg(target_os = "linux")]
mod sockets {
    use std::collections::HashSet;
    use std::os::fd::OwnedFd;
    use std::sync::LazyLock;

    use rustix::process::{PidfdFlags, PidfdGetfdFlags, getpid, pidfd_getfd, pidfd_open};

    use super::Found;

    /// This process, as a descriptor that `pidfd_getfd` can copy descriptors from.
    static SELF: LazyLock<Option<OwnedFd>> =
        LazyLock::new(|| pidfd_open(getpid(), PidfdFlags::empty()).ok());

    /// The inode numbers of the sockets open in this process; `None` when the process's
    /// descriptors cannot be listed (no /proc).
    pub(super) fn open_sockets() -> Option<HashSet<u64>> {
        std::fs::read_dir("/proc/self/fd").ok()?;
        Some(descriptors().map(|(_, inode)| inode).collect())
    }

    /// A copy of the one socket opened since `before`.
    pub(super) fn the_new_socket(before: Option<&HashSet<u64>>) -> Found {
        let (Some(this_process), Some(before)) = (SELF.as_ref(), before) else {
            return Found::NotSupported;
        };
        let new: Vec<_> = descriptors()
            .filter(|(_, inode)| !before.contains(inode))
            .collect();
        let [(fd, inode)] = new[..] else {
            return Found::Several;
        };
        match pidfd_getfd(this_process, fd, PidfdGetfdFlags::empty()) {
            // The descriptor number may have been closed and reused since it was listed.
            Ok(copy) if rustix::fs::fstat(&copy).is_ok_and(|stat| stat.st_ino == inode) => {
                Found::Socket(copy)
            }
            Ok(_) => Found::Several,
            Err(_) => Found::NotSupported,
        }
    }

    /// Whether this process may copy its own descriptors (`pidfd_getfd`): Linux 5.6 or later,
    /// and a seccomp profile that allows it.
    #[cfg(test)]
    pub(super) fn copies_descriptors() -> bool {
        use std::os::fd::AsRawFd;
        let Ok(socket) = std::net::UdpSocket::bind("127.0.0.1:0") else {
            return false;
        };
        SELF.as_ref().is_some_and(|this_process| {
            pidfd_getfd(this_process, socket.as_raw_fd(), PidfdGetfdFlags::empty()).is_ok()
        })
    }

    /// (descriptor, socket inode) of each socket open in this process.
    fn descriptors() -> impl Iterator<Item = (i32, u64)> {
        std::fs::read_dir("/proc/self/fd")
            .into_iter()
            .flatten()
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let fd = entry.file_name().to_str()?.parse().ok()?;
                let target = std::fs::read_link(entry.path()).ok()?;
                let inode = target
                    .to_str()?
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .parse()
                    .ok()?;
                Some((fd, inode))
            })
    }
}

#[cfg(not(target_os = "linux"))]
mod sockets {
    use std::collections::HashSet;

    pub(super) fn open_sockets() -> Option<HashSet<u64>> {
        None
    }

    pub(super) fn the_new_socket(_: Option<&HashSet<u64>>) -> super::Found {
        super::Found::NotSupported
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::io::Read;
    use std::net::{TcpListener, TcpStream};

    use super::*;

    /// The tests open sockets of their own: one at a time, or one's new socket would be
    /// another's second.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

    /// `false`, after saying so on stderr, where this system refuses `pidfd_getfd` (a
    /// container's default seccomp profile): the watchdog cannot work there, by design.
    fn supported() -> bool {
        let supported = sockets::copies_descriptors();
        if !supported {
            eprintln!("SKIPPED: this system refuses pidfd_getfd; the call deadline falls back");
        }
        supported
    }

    /// A peer that accepts and then never writes: a read from it blocks until interrupted.
    fn silent_peer() -> (TcpListener, std::net::SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        (listener, addr)
    }

    #[test]
    fn a_call_past_its_deadline_is_interrupted_and_told_so() {
        let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
        if !supported() {
            return;
        }
        let (_listener, addr) = silent_peer();
        let (mut stream, socket) = Opener::default().open(|| TcpStream::connect(addr)).unwrap();
        let socket = Arc::new(socket.expect("the one new socket is found"));
        let started = Instant::now();
        let armed = arm(&socket, Duration::from_millis(200));
        let read = stream.read(&mut [0; 8]);
        let waited = started.elapsed();
        assert!(armed.disarm(), "the deadline passed");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
        assert!(waited >= Duration::from_millis(200), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
    }

    #[test]
    fn a_call_disarmed_in_time_is_left_alone() {
        let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
        if !supported() {
            return;
        }
        let (listener, addr) = silent_peer();
        let (mut stream, socket) = Opener::default().open(|| TcpStream::connect(addr)).unwrap();
        let socket = Arc::new(socket.expect("the one new socket is found"));
        let armed = arm(&socket, Duration::from_millis(100));
        assert!(!armed.disarm(), "disarmed before the deadline");
        std::thread::sleep(Duration::from_millis(300));
        let (mut accepted, _) = listener.accept().unwrap();
        std::io::Write::write_all(&mut accepted, b"hello").unwrap();
        let mut buffer = [0; 5];
        stream.read_exact(&mut buffer).unwrap();
        assert_eq!(&buffer, b"hello", "the connection still works");
    }

    #[test]
    fn a_socket_is_not_guessed_when_two_appear() {
        let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
        if !supported() {
            return;
        }
        let (_listener, addr) = silent_peer();
        let mut attempts = 0;
        let (streams, socket) = Opener::default()
            .open(|| {
                attempts += 1;
                Ok::<_, std::io::Error>((TcpStream::connect(addr)?, TcpStream::connect(addr)?))
            })
            .unwrap();
        assert!(socket.is_none(), "two new sockets: neither is chosen");
        assert_eq!(attempts, OPEN_ATTEMPTS, "opened again each time");
        drop(streams);
    }
}
