//! `roster-loadgen`: the measuring tools behind `just bench` (see `scripts/bench.py`).
//!
//! - `http`: a closed-loop HTTP/1.1 load generator. Each of `--connections` threads keeps one
//!   keep-alive connection and sends the next request as soon as the previous answer is read,
//!   for `--requests` requests in all or for `--duration` seconds. `{n}` in the path or body is
//!   replaced by a counter unique to the request (from `--start`), so one run can register
//!   many accounts or grant many scopes. Prints one JSON object: counts and latency per status.
//! - `argon2`: the argon2id crate on its own (the workspace's version), hashing with the given
//!   parameters once with a reused block buffer and once allocating per hash, as
//!   `argon2::Argon2::hash_password_into` does. Prints CPU milliseconds and minor page faults
//!   per hash; a verify is the same computation plus a constant-time comparison.
//!
//! Deliberately dependency-light (std networking and threads) so that the client costs the
//! shared CPUs as little as possible next to the server it measures.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Block, Params, Version};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

#[derive(Debug, Parser)]
#[command(about = "Load generator and argon2 baseline for `just bench`")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Send requests over keep-alive connections and report counts and latencies.
    Http(HttpArgs),
    /// Time argon2id hashes with the crate alone.
    Argon2(Argon2Args),
}

#[derive(Debug, clap::Args)]
struct HttpArgs {
    /// Server address, e.g. 127.0.0.1:8080.
    #[arg(long)]
    addr: SocketAddr,
    #[arg(long, default_value = "GET")]
    method: String,
    /// Request path; `{n}` is replaced by the request's counter.
    #[arg(long)]
    path: String,
    /// Extra header `Name: value` (repeatable).
    #[arg(long = "header")]
    headers: Vec<String>,
    /// JSON body; `{n}` is replaced by the request's counter.
    #[arg(long)]
    body: Option<String>,
    /// Parallel connections (one thread each).
    #[arg(long, default_value_t = 1)]
    connections: usize,
    /// Total requests to send (across all connections).
    #[arg(
        long,
        conflicts_with = "duration",
        required_unless_present = "duration"
    )]
    requests: Option<u64>,
    /// Seconds to keep sending.
    #[arg(long)]
    duration: Option<f64>,
    /// First value of `{n}`.
    #[arg(long, default_value_t = 1)]
    start: u64,
    /// Resend a request answered 503 with `Retry-After` once that many seconds have passed,
    /// until it gets another answer (the retries are counted, not timed).
    #[arg(long)]
    retry_overloaded: bool,
}

#[derive(Debug, clap::Args)]
struct Argon2Args {
    #[arg(long, default_value_t = 19_456)]
    memory_kib: u32,
    #[arg(long, default_value_t = 2)]
    iterations: u32,
    #[arg(long, default_value_t = 1)]
    parallelism: u32,
    /// Hashes timed per variant (after one warm-up hash).
    #[arg(long, default_value_t = 40)]
    count: u32,
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Http(args) => run_http(&args),
        Command::Argon2(args) => run_argon2(&args),
    };
    match result {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("roster-loadgen: {error}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP

/// What the workers share: the request template and the ticket counter.
#[derive(Debug)]
struct Plan {
    addr: SocketAddr,
    method: String,
    path: String,
    /// Header lines, each ending in CRLF.
    headers: String,
    body: Option<String>,
    next: AtomicU64,
    /// Exclusive end of the counter in `--requests` mode.
    end: Option<u64>,
    deadline: Option<Instant>,
    retry_overloaded: bool,
}

impl Plan {
    /// The next request's counter, or `None` when the run is over.
    fn ticket(&self) -> Option<u64> {
        if self
            .deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            return None;
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        match self.end {
            Some(end) if n >= end => None,
            _ => Some(n),
        }
    }

    fn request(&self, n: u64) -> Vec<u8> {
        let counter = n.to_string();
        let (method, headers) = (&self.method, &self.headers);
        let path = self.path.replace("{n}", &counter);
        let text = match &self.body {
            Some(body) => {
                let body = body.replace("{n}", &counter);
                let length = body.len();
                format!(
                    "{method} {path} HTTP/1.1\r\n{headers}content-type: application/json\r\n\
                     content-length: {length}\r\n\r\n{body}"
                )
            }
            None => format!("{method} {path} HTTP/1.1\r\n{headers}\r\n"),
        };
        text.into_bytes()
    }
}

/// One answer, as far as the measurements need it.
#[derive(Debug)]
struct Reply {
    status: u16,
    /// `Retry-After` in seconds (1 when it is not a number of seconds).
    retry_after: Option<u64>,
    close: bool,
}

/// One keep-alive connection with its read buffer.
#[derive(Debug)]
struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Connection {
    fn open(addr: SocketAddr) -> io::Result<Self> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_mins(1)))?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(16 * 1024),
        })
    }

    fn exchange(&mut self, request: &[u8]) -> io::Result<Reply> {
        self.stream.write_all(request)?;
        self.read_reply()
    }

    fn fill(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let read = self.stream.read(&mut chunk)?;
        if read == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.buf.extend_from_slice(&chunk[..read]);
        Ok(())
    }

    fn read_reply(&mut self) -> io::Result<Reply> {
        let head_end = loop {
            if let Some(at) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            self.fill()?;
        };
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
        let head = std::str::from_utf8(&self.buf[..head_end]).map_err(|_| bad("head"))?;
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| bad("status line"))?;
        let mut reply = Reply {
            status,
            retry_after: None,
            close: false,
        };
        let mut length = 0usize;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().map_err(|_| bad("content-length"))?,
                "connection" => reply.close = value.eq_ignore_ascii_case("close"),
                "retry-after" => reply.retry_after = Some(value.parse().unwrap_or(1)),
                "transfer-encoding" => return Err(bad("chunked bodies are not supported")),
                _ => {}
            }
        }
        while self.buf.len() < head_end + length {
            self.fill()?;
        }
        self.buf.drain(..head_end + length);
        Ok(reply)
    }
}

/// What one worker saw: latencies (µs) per status, answers with `Retry-After`, errors.
#[derive(Debug, Default)]
struct Tally {
    latencies: BTreeMap<u16, Vec<u64>>,
    retry_after: BTreeMap<u16, u64>,
    retried: u64,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        for (status, mut values) in other.latencies {
            self.latencies
                .entry(status)
                .or_default()
                .append(&mut values);
        }
        for (status, count) in other.retry_after {
            *self.retry_after.entry(status).or_default() += count;
        }
        self.retried += other.retried;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// Sends `request` on the open connection, or on a new one.
fn send(connection: &mut Option<Connection>, plan: &Plan, request: &[u8]) -> io::Result<Reply> {
    let open = match connection {
        Some(open) => open,
        None => connection.insert(Connection::open(plan.addr)?),
    };
    let reply = open.exchange(request);
    if reply.as_ref().map_or(true, |reply| reply.close) {
        *connection = None;
    }
    reply
}

fn worker(plan: &Plan) -> Tally {
    let mut tally = Tally::default();
    let mut connection: Option<Connection> = None;
    while let Some(n) = plan.ticket() {
        let request = plan.request(n);
        let mut started = Instant::now();
        let mut outcome = send(&mut connection, plan, &request);
        while let Ok(Reply {
            status: 503,
            retry_after: Some(seconds),
            ..
        }) = outcome
        {
            if !plan.retry_overloaded {
                break;
            }
            tally.retried += 1;
            thread::sleep(Duration::from_secs(seconds));
            started = Instant::now();
            outcome = send(&mut connection, plan, &request);
        }
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        match outcome {
            Ok(reply) => {
                tally
                    .latencies
                    .entry(reply.status)
                    .or_default()
                    .push(micros);
                if reply.retry_after.is_some() {
                    *tally.retry_after.entry(reply.status).or_default() += 1;
                }
            }
            Err(error) => {
                tally.errors += 1;
                tally.first_error.get_or_insert_with(|| error.to_string());
                thread::sleep(Duration::from_millis(10));
            }
        }
    }
    tally
}

#[allow(clippy::cast_precision_loss)] // microsecond counts far below 2^52
fn millis(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

fn percentiles(values: &mut [u64]) -> Value {
    values.sort_unstable();
    let at = |fraction: f64| {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let index = ((values.len() - 1) as f64 * fraction).round() as usize;
        millis(values[index])
    };
    json!({"p50": at(0.50), "p99": at(0.99), "max": at(1.0)})
}

fn run_http(args: &HttpArgs) -> Result<Value, String> {
    if args.connections == 0 {
        return Err("--connections must be at least 1".into());
    }
    let mut headers = format!("host: {}\r\n", args.addr);
    for header in &args.headers {
        if !header.contains(':') {
            return Err(format!("--header {header:?} is not `Name: value`"));
        }
        headers.push_str(header);
        headers.push_str("\r\n");
    }
    let plan = Arc::new(Plan {
        addr: args.addr,
        method: args.method.clone(),
        path: args.path.clone(),
        headers,
        body: args.body.clone(),
        next: AtomicU64::new(args.start),
        end: args.requests.map(|requests| args.start + requests),
        deadline: args
            .duration
            .map(|seconds| Instant::now() + Duration::from_secs_f64(seconds)),
        retry_overloaded: args.retry_overloaded,
    });
    let started = Instant::now();
    let workers: Vec<_> = (0..args.connections)
        .map(|_| {
            let plan = Arc::clone(&plan);
            thread::spawn(move || worker(&plan))
        })
        .collect();
    let mut tally = Tally::default();
    for handle in workers {
        tally.merge(handle.join().map_err(|_| "a worker panicked")?);
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut statuses = serde_json::Map::new();
    let mut latency = serde_json::Map::new();
    let mut all = Vec::new();
    for (status, values) in &mut tally.latencies {
        statuses.insert(status.to_string(), json!(values.len()));
        latency.insert(status.to_string(), percentiles(values));
        all.extend_from_slice(values);
    }
    let retry_after: serde_json::Map<String, Value> = tally
        .retry_after
        .iter()
        .map(|(status, count)| (status.to_string(), json!(count)))
        .collect();
    Ok(json!({
        "requests": all.len(),
        "retried": tally.retried,
        "errors": tally.errors,
        "first_error": tally.first_error,
        "seconds": seconds,
        "statuses": statuses,
        "retry_after": retry_after,
        "latency_ms": latency,
        "all_latency_ms": if all.is_empty() { Value::Null } else { percentiles(&mut all) },
    }))
}

// ---------------------------------------------------------------------------------------------
// argon2

/// CPU time of the calling thread (`sum_exec_runtime`, nanoseconds).
fn thread_cpu_nanos() -> Result<u64, String> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").map_err(|e| e.to_string())?;
    text.split_whitespace()
        .next()
        .and_then(|field| field.parse().ok())
        .ok_or_else(|| "unexpected /proc/thread-self/schedstat".into())
}

/// Minor page faults of this process so far (field 10 of `/proc/self/stat`).
fn minor_faults() -> Result<u64, String> {
    let text = std::fs::read_to_string("/proc/self/stat").map_err(|e| e.to_string())?;
    // Fields after the parenthesised command name, which may itself contain spaces.
    let rest = text
        .rsplit_once(") ")
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    rest.split_whitespace()
        .nth(7)
        .and_then(|field| field.parse().ok())
        .ok_or_else(|| "unexpected /proc/self/stat".into())
}

/// CPU milliseconds and minor faults per call of `hash`, over `count` calls.
fn time_hashes(count: u32, mut hash: impl FnMut() -> Result<(), String>) -> Result<Value, String> {
    hash()?; // warm-up
    let (cpu, faults) = (thread_cpu_nanos()?, minor_faults()?);
    for _ in 0..count {
        hash()?;
    }
    let cpu = thread_cpu_nanos()? - cpu;
    let faults = minor_faults()? - faults;
    Ok(json!({
        "cpu_ms": f64::from(u32::try_from(cpu / u64::from(count)).unwrap_or(u32::MAX)) / 1e6,
        "minflt": f64::from(u32::try_from(faults).unwrap_or(u32::MAX)) / f64::from(count),
    }))
}

fn run_argon2(args: &Argon2Args) -> Result<Value, String> {
    if args.count == 0 {
        return Err("--count must be at least 1".into());
    }
    let params = Params::new(args.memory_kib, args.iterations, args.parallelism, Some(32))
        .map_err(|e| e.to_string())?;
    let blocks = params.block_count();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let password = b"correct horse battery staple orbit";
    let salt = b"roster-bench-salt";
    let mut out = [0u8; 32];
    let mut memory = vec![Block::default(); blocks];
    let reused = time_hashes(args.count, || {
        argon2
            .hash_password_into_with_memory(password, salt, &mut out, &mut memory)
            .map_err(|e| e.to_string())
    })?;
    drop(memory);
    let allocating = time_hashes(args.count, || {
        argon2
            .hash_password_into(password, salt, &mut out)
            .map_err(|e| e.to_string())
    })?;
    Ok(json!({
        "memory_kib": args.memory_kib,
        "iterations": args.iterations,
        "parallelism": args.parallelism,
        "count": args.count,
        "reused_blocks": reused,
        "allocating": allocating,
    }))
}
