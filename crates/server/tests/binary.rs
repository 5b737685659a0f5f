//! The real `roster` executable, the way an operator runs it: each test works in its own
//! empty directory (the working directory of the process, so the relative defaults
//! `data/roster.db` and `features/_features.conf` land there), with SQLite and a free port.
//! Servers are killed when their guard drops, whatever the test outcome.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

const ROSTER: &str = env!("CARGO_BIN_EXE_roster");
const FEATURES_TEMPLATE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../features/_features.conf");
const KNOWN_FEATURES: [&str; 5] = [
    "account-registration",
    "feature-flag-information-endpoint",
    "openapi",
    "healthchecks",
    "metrics",
];
const PASSWORD: &str = "correct horse battery staple orbit";
/// Cheap hashing: these tests are about the process, not about argon2's cost.
const CHEAP_ARGON2: [(&str, &str); 2] = [
    ("ROSTER__ARGON2__MEMORY_KIB", "1024"),
    ("ROSTER__ARGON2__ITERATIONS", "1"),
];
/// How long a failing start-up may take to exit.
const EXIT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a server may take to answer `/healthz`.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// A fresh working directory, and next to it (not inside) a folder for captured output.
struct Workdir {
    root: TempDir,
}

impl Workdir {
    /// An empty working directory.
    fn empty() -> Self {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("work")).unwrap();
        std::fs::create_dir(root.path().join("output")).unwrap();
        Self { root }
    }

    /// A working directory holding only `features/_features.conf`, copied from the repository.
    fn with_shipped_features() -> Self {
        let workdir = Self::empty();
        workdir.write_features(&std::fs::read_to_string(FEATURES_TEMPLATE).unwrap());
        workdir
    }

    fn path(&self) -> PathBuf {
        self.root.path().join("work")
    }

    fn features_file(&self) -> PathBuf {
        self.path().join("features/_features.conf")
    }

    fn write_features(&self, content: &str) {
        std::fs::create_dir_all(self.path().join("features")).unwrap();
        std::fs::write(self.features_file(), content).unwrap();
    }

    /// `roster ARGS` in this directory, with none of the test process's `ROSTER*` or
    /// `RUST_LOG` variables and with cheap hashing (unless `cheap` is false).
    fn roster(&self, args: &[&str], cheap: bool) -> Command {
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
    fn output_file(&self, label: &str) -> (PathBuf, File) {
        let path = self
            .root
            .path()
            .join("output")
            .join(format!("{label}-{}", uuid::Uuid::now_v7().simple()));
        let file = File::create(&path).unwrap();
        (path, file)
    }

    /// Runs a command to completion (killing it after `timeout`), feeding `stdin`.
    fn run(&self, mut command: Command, stdin: Option<&str>, timeout: Duration) -> Finished {
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
    fn serve(&self, env: &[(&str, &str)], cheap: bool) -> Server {
        let port = free_port();
        let mut command = self.roster(&[], cheap);
        command
            .env("ROSTER__SERVER__BIND", format!("127.0.0.1:{port}"))
            .envs(env.iter().copied());
        let (_, stdout) = self.output_file("server-stdout");
        let (stderr_path, stderr) = self.output_file("server-stderr");
        command.stdout(stdout).stderr(stderr);
        let mut server = Server {
            child: KillOnDrop(command.spawn().expect("roster starts")),
            port,
            stderr_path,
        };
        let started = Instant::now();
        loop {
            if let Some(status) = server.child.0.try_wait().unwrap() {
                panic!(
                    "the server exited with {status} before answering; stderr:\n{}",
                    server.stderr()
                );
            }
            if server
                .get("/healthz")
                .is_ok_and(|reply| reply.status == 200)
            {
                return server;
            }
            assert!(
                started.elapsed() < READY_TIMEOUT,
                "no 200 from /healthz within {READY_TIMEOUT:?}; stderr:\n{}",
                server.stderr()
            );
            sleep(Duration::from_millis(50));
        }
    }
}

/// Kills (SIGKILL) and reaps the child when dropped.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
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

struct Server {
    child: KillOnDrop,
    port: u16,
    stderr_path: PathBuf,
}

impl Server {
    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    fn get(&self, path: &str) -> std::io::Result<Reply> {
        http(self.port, "GET", path, None, None)
    }

    fn post(&self, path: &str, body: &Value, token: Option<&str>) -> Reply {
        http(self.port, "POST", path, Some(body), token).expect("request answered")
    }

    fn register(&self, email: &str) -> Reply {
        self.post(
            "/v1/account/register",
            &json!({"email": email, "password": PASSWORD}),
            None,
        )
    }

    fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/v1/auth/login",
            &json!({"email": email, "password": password}),
            None,
        )
    }

    /// SIGKILL: no graceful shutdown, no final checkpoint.
    fn kill(mut self) {
        self.child.0.kill().unwrap();
        self.child.0.wait().unwrap();
    }
}

/// A port that was free a moment ago (bind port 0, read it, let it go).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[derive(Debug)]
struct Reply {
    status: u16,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`, so the body ends at EOF).
fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> std::io::Result<Reply> {
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

fn dechunk(mut rest: &str) -> String {
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

fn unique_email(prefix: &str) -> String {
    format!("{prefix}-{}@example.com", uuid::Uuid::now_v7().simple())
}

fn assert_names_known_features(text: &str) {
    for name in KNOWN_FEATURES {
        assert!(
            text.contains(name),
            "known feature {name} not listed in:\n{text}"
        );
    }
}

fn migrations_applied(stdout: &str) -> usize {
    let line = stdout
        .lines()
        .find(|line| line.contains("migration"))
        .unwrap_or_else(|| panic!("no migration line in {stdout:?}"));
    assert!(line.contains("applied"), "{line}");
    line.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {line:?}"))
}

#[test]
fn defaults_create_the_sqlite_database_and_answer_health_probes() {
    let workdir = Workdir::with_shipped_features();
    // Nothing but the port: production hashing, default database and features paths.
    let server = workdir.serve(&[], false);
    assert!(
        workdir.path().join("data/roster.db").is_file(),
        "data/roster.db not created"
    );
    assert_eq!(server.get("/healthz").unwrap().status, 200);
    let ready = server.get("/readyz").unwrap();
    assert_eq!(ready.status, 200, "{}", ready.body);
}

#[test]
fn accounts_survive_a_sigkill_and_restart() {
    let workdir = Workdir::with_shipped_features();
    let email = unique_email("durable");
    let server = workdir.serve(&[], true);
    let registered = server.register(&email);
    assert_eq!(registered.status, 201, "{}", registered.body);
    server.kill();

    let server = workdir.serve(&[], true);
    let login = server.login(&email, PASSWORD);
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(login.json()["account"]["email"], email);
    let again = server.register(&email);
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(again.json()["code"], "email_taken");
}

#[test]
fn an_unknown_feature_name_stops_start_up_naming_it_its_line_and_the_known_features() {
    let workdir = Workdir::empty();
    workdir
        .write_features("# flags\nenabledFeatures = [\n    metrics\n    acount-registration\n]\n");
    let mut command = workdir.roster(&[], true);
    command.env("ROSTER__SERVER__BIND", format!("127.0.0.1:{}", free_port()));
    let finished = workdir.run(command, None, EXIT_TIMEOUT);
    assert!(!finished.status.success(), "{finished}");
    assert!(
        finished.stderr.contains("acount-registration"),
        "{finished}"
    );
    assert!(finished.stderr.contains("line 4"), "{finished}");
    assert_names_known_features(&finished.stderr);
}

#[test]
fn a_syntax_error_in_the_features_file_stops_start_up_naming_the_line() {
    let workdir = Workdir::empty();
    workdir.write_features("# flags\nenabledFeatures = [\n]\n\ndisabledFeatures: [metrics]\n");
    let mut command = workdir.roster(&[], true);
    command.env("ROSTER__SERVER__BIND", format!("127.0.0.1:{}", free_port()));
    let finished = workdir.run(command, None, EXIT_TIMEOUT);
    assert!(!finished.status.success(), "{finished}");
    assert!(finished.stderr.contains("line 5"), "{finished}");
}

#[test]
fn a_setting_that_does_not_parse_stops_start_up_naming_its_key() {
    let workdir = Workdir::with_shipped_features();
    let mut command = workdir.roster(&[], true);
    command
        .env("ROSTER__SERVER__BIND", format!("127.0.0.1:{}", free_port()))
        .env("ROSTER__SESSIONS__TTL", "soon");
    let finished = workdir.run(command, None, EXIT_TIMEOUT);
    assert!(!finished.status.success(), "{finished}");
    assert!(finished.stderr.contains("sessions.ttl"), "{finished}");
}

#[test]
fn superadmin_create_reads_the_password_from_stdin_or_the_environment_and_refuses_weak_ones() {
    let workdir = Workdir::with_shipped_features();
    let from_stdin = unique_email("root-stdin");
    let from_env = unique_email("root-env");
    let create = |email: &str| workdir.roster(&["superadmin", "create", "--email", email], true);

    let finished = workdir.run(
        create(&from_stdin),
        Some(&format!("{PASSWORD}\n")),
        EXIT_TIMEOUT,
    );
    assert!(finished.status.success(), "{finished}");
    assert!(finished.stdout.contains(&from_stdin), "{finished}");

    let mut command = create(&from_env);
    command.env("ROSTER_SUPERADMIN_PASSWORD", PASSWORD);
    let finished = workdir.run(command, None, EXIT_TIMEOUT);
    assert!(finished.status.success(), "{finished}");

    let weak = unique_email("root-weak");
    let mut command = create(&weak);
    command.env("ROSTER_SUPERADMIN_PASSWORD", "passwordpassword");
    let finished = workdir.run(command, None, EXIT_TIMEOUT);
    assert!(!finished.status.success(), "{finished}");
    assert!(
        finished.stderr.contains("password") && finished.stderr.contains("weak"),
        "{finished}"
    );

    let finished = workdir.run(create(&weak), Some("short\n"), EXIT_TIMEOUT);
    assert!(!finished.status.success(), "{finished}");
    assert!(finished.stderr.contains("short"), "{finished}");

    let server = workdir.serve(&[], true);
    let login = server.login(&from_stdin, PASSWORD);
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(login.json()["account"]["is_superadmin"], true);
    let token = login.json()["token"].as_str().unwrap().to_owned();
    let created = server.post(
        "/v1/admin/account/register",
        &json!({"email": unique_email("made"), "password": PASSWORD}),
        Some(&token),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(server.login(&from_env, PASSWORD).status, 200);
    assert_eq!(
        server.login(&weak, "passwordpassword").status,
        401,
        "the refused super admin does not exist"
    );
}

#[test]
fn migrate_applies_the_migrations_once() {
    let workdir = Workdir::empty();
    let first = workdir.run(workdir.roster(&["migrate"], true), None, EXIT_TIMEOUT);
    assert!(first.status.success(), "{first}");
    assert!(migrations_applied(&first.stdout) >= 1, "{first}");
    assert!(workdir.path().join("data/roster.db").is_file());
    let second = workdir.run(workdir.roster(&["migrate"], true), None, EXIT_TIMEOUT);
    assert!(second.status.success(), "{second}");
    assert_eq!(migrations_applied(&second.stdout), 0, "{second}");
}

#[test]
fn features_commands_edit_the_file_keeping_comments_and_refuse_unknown_names() {
    let workdir = Workdir::with_shipped_features();
    let original = std::fs::read_to_string(workdir.features_file()).unwrap();

    let disabled = workdir.run(
        workdir.roster(&["features", "disable", "account-registration"], true),
        None,
        EXIT_TIMEOUT,
    );
    assert!(disabled.status.success(), "{disabled}");
    let edited = std::fs::read_to_string(workdir.features_file()).unwrap();
    // The header is kept byte for byte, and every other comment line too, in order (except
    // the commented-out entry the edit may have turned into a real one).
    let header_end = original.find("enabledFeatures").unwrap();
    assert!(
        edited.starts_with(&original[..header_end]),
        "header comments lost:\n{edited}"
    );
    let comments = |text: &str| {
        text.lines()
            .filter(|l| {
                l.trim_start().starts_with('#')
                    && !l.trim_start().starts_with("# account-registration")
            })
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        comments(&edited),
        comments(&original),
        "comments changed:\n{edited}"
    );

    let listed = workdir.run(
        workdir.roster(&["features", "list"], true),
        None,
        EXIT_TIMEOUT,
    );
    assert!(listed.status.success(), "{listed}");
    let row = listed
        .stdout
        .lines()
        .find(|line| line.split_whitespace().next() == Some("account-registration"))
        .unwrap_or_else(|| panic!("no account-registration row: {listed}"));
    let columns: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        columns[1..],
        ["false", "true", "disabledFeatures"],
        "{listed}"
    );
    assert_names_known_features(&listed.stdout);

    let refused = workdir.run(
        workdir.roster(&["features", "enable", "nope"], true),
        None,
        EXIT_TIMEOUT,
    );
    assert!(!refused.status.success(), "{refused}");
    assert!(refused.stderr.contains("nope"), "{refused}");
    assert_names_known_features(&refused.stderr);
    assert_eq!(
        std::fs::read_to_string(workdir.features_file()).unwrap(),
        edited,
        "a refused command changed the file"
    );
}
