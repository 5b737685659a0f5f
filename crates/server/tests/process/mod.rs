//! Running the real `roster` executable in a throwaway working directory: start it, wait
//! for `/healthz`, talk HTTP/1.1 to it, kill it. Shared by the process-level test files.
#![allow(dead_code)] // each test file uses its own subset

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

pub const ROSTER: &str = env!("CARGO_BIN_EXE_roster");
pub const FEATURES_TEMPLATE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/_features.conf");
pub const KNOWN_FEATURES: [&str; 6] = [
    "account-registration",
    "feature-flag-information-endpoint",
    "openapi",
    "healthchecks",
    "metrics",
    "web-console",
];
pub const PASSWORD: &str = "correct horse battery staple orbit";
/// Cheap hashing: these tests are about the process, not about argon2's cost.
pub const CHEAP_ARGON2: [(&str, &str); 2] = [
    ("ROSTER__ARGON2__MEMORY_KIB", "1024"),
    ("ROSTER__ARGON2__ITERATIONS", "1"),
];
/// How long a failing start-up may take to exit.
pub const EXIT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a server may take to answer `/healthz`.
pub const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// A fresh working directory, and next to it (not inside) a folder for captured output.
pub struct Workdir {
    pub root: TempDir,
}

impl Workdir {
    /// An empty working directory.
    pub fn empty() -> Self {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("work")).unwrap();
        std::fs::create_dir(root.path().join("output")).unwrap();
        Self { root }
    }

    /// A working directory holding only `features/_features.conf`, copied from the repository.
    pub fn with_shipped_features() -> Self {
        let workdir = Self::empty();
        workdir.write_features(&std::fs::read_to_string(FEATURES_TEMPLATE).unwrap());
        workdir
    }

    pub fn path(&self) -> PathBuf {
        self.root.path().join("work")
    }

    pub fn features_file(&self) -> PathBuf {
        self.path().join("features/_features.conf")
    }

    pub fn write_features(&self, content: &str) {
        std::fs::create_dir_all(self.path().join("features")).unwrap();
        std::fs::write(self.features_file(), content).unwrap();
    }

    /// `roster ARGS` in this directory, with none of the test process's `ROSTER*` or
    /// `RUST_LOG` variables and with cheap hashing (unless `cheap` is false).
    pub fn roster(&self, args: &[&str], cheap: bool) -> Command {
        let mut command = Command::new(ROSTER);
        command
            .args(args)
            .current_dir(self.path())
            .stdin(Stdio::null());
        for (key, _) in std::env::vars_os() {
            let name = key.to_string_lossy();
            if name.starts_with("ROSTER") || name == "RUST_LOG" {
                command.env_remove(&key);
            }
        }
        if cheap {
            command.envs(CHEAP_ARGON2);
        }
        command
    }

    /// A fresh file (outside the working directory) for a process's output.
    pub fn output_file(&self, label: &str) -> (PathBuf, File) {
        let path = self
            .root
            .path()
            .join("output")
            .join(format!("{label}-{}", uuid::Uuid::now_v7().simple()));
        let file = File::create(&path).unwrap();
        (path, file)
    }

    /// Runs a command to completion (killing it after `timeout`), feeding `stdin`.
    pub fn run(&self, mut command: Command, stdin: Option<&str>, timeout: Duration) -> Finished {
        let (stdout_path, stdout) = self.output_file("stdout");
        let (stderr_path, stderr) = self.output_file("stderr");
        command.stdout(stdout).stderr(stderr);
        if stdin.is_some() {
            command.stdin(Stdio::piped());
        }
        let mut child = KillOnDrop(command.spawn().expect("roster starts"));
        if let Some(input) = stdin {
            let mut pipe = child.0.stdin.take().unwrap();
            pipe.write_all(input.as_bytes()).unwrap();
        }
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.0.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < timeout,
                "still running after {timeout:?}; stderr so far:\n{}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
            sleep(Duration::from_millis(20));
        };
        Finished {
            status,
            stdout: std::fs::read_to_string(stdout_path).unwrap(),
            stderr: std::fs::read_to_string(stderr_path).unwrap(),
        }
    }

    /// Starts `roster` (serve) on a free port and waits until `/healthz` answers 200.
    pub fn serve(&self, env: &[(&str, &str)], cheap: bool) -> Server {
        let mut server = self.spawn(env, cheap);
        server.wait_healthy();
        server
    }

    /// Starts `roster` (serve) on `port` and waits until `/healthz` answers 200 (for a
    /// server whose settings name its own port, such as `server.public_url`).
    pub fn serve_on(&self, port: u16, env: &[(&str, &str)], cheap: bool) -> Server {
        let mut server = self.spawn_on(port, env, cheap);
        server.wait_healthy();
        server
    }

    /// Starts `roster` (serve) on a free port without waiting for it.
    pub fn spawn(&self, env: &[(&str, &str)], cheap: bool) -> Server {
        self.spawn_on(free_port(), env, cheap)
    }

    /// Starts `roster` (serve) on `port` without waiting for it.
    pub fn spawn_on(&self, port: u16, env: &[(&str, &str)], cheap: bool) -> Server {
        let mut command = self.roster(&[], cheap);
        command
            .env("ROSTER__SERVER__BIND", format!("127.0.0.1:{port}"))
            .envs(env.iter().copied());
        let (_, stdout) = self.output_file("server-stdout");
        let (stderr_path, stderr) = self.output_file("server-stderr");
        command.stdout(stdout).stderr(stderr);
        Server {
            child: KillOnDrop(command.spawn().expect("roster starts")),
            port,
            stderr_path,
        }
    }
}

/// Kills (SIGKILL) and reaps the child when dropped.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Finished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

pub struct Server {
    pub child: KillOnDrop,
    pub port: u16,
    pub stderr_path: PathBuf,
}

impl Server {
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Waits until `/healthz` answers 200; panics if the process exits or takes too long.
    pub fn wait_healthy(&mut self) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.0.try_wait().unwrap() {
                panic!(
                    "the server exited with {status} before answering; stderr:\n{}",
                    self.stderr()
                );
            }
            if self.get("/healthz").is_ok_and(|reply| reply.status == 200) {
                return;
            }
            assert!(
                started.elapsed() < READY_TIMEOUT,
                "no 200 from /healthz within {READY_TIMEOUT:?}; stderr:\n{}",
                self.stderr()
            );
            sleep(Duration::from_millis(50));
        }
    }

    /// Any request; `Err` when the server cannot be reached.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> std::io::Result<Reply> {
        http(self.port, method, path, body, token)
    }

    pub fn get(&self, path: &str) -> std::io::Result<Reply> {
        http(self.port, "GET", path, None, None)
    }

    pub fn post(&self, path: &str, body: &Value, token: Option<&str>) -> Reply {
        http(self.port, "POST", path, Some(body), token).expect("request answered")
    }

    pub fn register(&self, email: &str) -> Reply {
        self.post(
            "/v1/account/register",
            &json!({"email": email, "password": PASSWORD}),
            None,
        )
    }

    pub fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/v1/auth/login",
            &json!({"email": email, "password": password}),
            None,
        )
    }

    /// SIGTERM, then waits (up to `timeout`) for the process to exit.
    pub fn terminate(mut self, timeout: Duration) -> ExitStatus {
        let pid = self.child.0.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success(), "kill -TERM {pid} failed");
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.0.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < timeout,
                "still running {timeout:?} after SIGTERM; stderr:\n{}",
                self.stderr()
            );
            sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no graceful shutdown, no final checkpoint.
    pub fn kill(mut self) {
        self.child.0.kill().unwrap();
        self.child.0.wait().unwrap();
    }
}

/// A port that was free a moment ago (bind port 0, read it, let it go).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`, so the body ends at EOF).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> std::io::Result<Reply> {
    read_reply(send_request(port, method, path, body, token)?)
}

/// Connects and writes one request; the reply is read with [`read_reply`].
pub fn send_request(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut head = vec![
        format!("{method} {path} HTTP/1.1"),
        format!("Host: 127.0.0.1:{port}"),
        "Connection: close".to_owned(),
    ];
    if method == "POST" {
        head.push("Content-Type: application/json".to_owned());
        head.push(format!("Content-Length: {}", body.len()));
    }
    if let Some(token) = token {
        head.push(format!("Authorization: Bearer {token}"));
    }
    let request = format!("{}\r\n\r\n{body}", head.join("\r\n"));
    stream.write_all(request.as_bytes())?;
    Ok(stream)
}

/// Reads a whole reply (the request asked for `Connection: close`).
pub fn read_reply(mut stream: TcpStream) -> std::io::Result<Reply> {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no header end: {raw}")))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line: {head}")))?;
    let chunked = head.lines().any(|line| {
        let line = line.to_ascii_lowercase();
        line.starts_with("transfer-encoding:") && line.contains("chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok(Reply { status, body })
}

pub fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

pub fn unique_email(prefix: &str) -> String {
    format!("{prefix}-{}@example.com", uuid::Uuid::now_v7().simple())
}
