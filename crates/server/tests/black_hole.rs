//! The real `roster` binary on PostgreSQL behind a proxy that stops passing bytes on without
//! closing anything, as a network partition or a hung load balancer does. With the default
//! timeouts, requests that need the database answer 503 `unavailable` within 15 s, `/healthz`
//! stays 200, `/readyz` turns 503, no call keeps its pool connection, and the service heals
//! by itself once bytes flow again. PostgreSQL only: SQLite has no network.

#[path = "support/db_proxy.rs"]
mod db_proxy;
mod process;

use std::thread;
use std::time::{Duration, Instant};

use db_proxy::DbProxy;
use process::{PASSWORD, Reply, Server, Workdir, read_reply, send_request, unique_email};
use roster_store::testing::fresh_postgres_database;
use serde_json::{Value, json};

/// `database.connect_timeout` + `database.statement_timeout` with the defaults (5 s each),
/// plus the margin the issue allows.
const BOUND: Duration = Duration::from_secs(15);

/// The call deadline (`statement_timeout` + 1 s) with some slack, and below the backstop
/// (12 s): an answer this late would mean the deadline did not work.
const DEADLINE_SLACK: Duration = Duration::from_secs(9);

/// A request on its own connection, answered or not within a minute, and how long it took.
fn timed(
    server: &Server,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> (Reply, Duration) {
    let started = Instant::now();
    let stream = send_request(server.port, method, path, body, token).expect("connected");
    stream
        .set_read_timeout(Some(Duration::from_mins(1)))
        .unwrap();
    let reply = read_reply(stream).expect("answered within a minute");
    (reply, started.elapsed())
}

/// A gauge of `/metrics`, such as `roster_db_pool_connections{state="idle"}`.
fn gauge(server: &Server, series: &str) -> i64 {
    let metrics = server.get("/metrics").expect("metrics answered").body;
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {series} in:\n{metrics}"))
}

/// Pool connections held by a call (open and not idle).
fn connections_in_use(server: &Server) -> i64 {
    gauge(server, "roster_db_pool_connections{state=\"open\"}")
        - gauge(server, "roster_db_pool_connections{state=\"idle\"}")
}

/// Polls `ready` every 100 ms until it holds; how long that took, or `None` after `limit`.
fn eventually(limit: Duration, mut ready: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if ready() {
            return Some(started.elapsed());
        }
        thread::sleep(Duration::from_millis(100));
    }
    None
}

#[test]
fn a_black_holed_database_is_503_within_the_bounds_and_heals_by_itself() {
    let Some(database) = fresh_postgres_database() else {
        return;
    };
    let proxy = DbProxy::start("127.0.0.1:5432".parse().unwrap());
    let workdir = Workdir::with_shipped_features();
    let url = proxy.proxied(database.url());
    let server = workdir.serve(
        &[
            ("ROSTER__DATABASE__URL", url.as_str()),
            ("ROSTER__RATE_LIMIT__ENABLED", "false"),
        ],
        true,
    );
    let email = unique_email("partitioned");
    assert_eq!(server.register(&email).status, 201);
    let token = server.login(&email, PASSWORD).json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Several pooled connections, so that the partition catches more than one of them.
    thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| timed(&server, "GET", "/v1/account/me", None, Some(&token)));
        }
    });

    proxy.black_hole();
    let login = json!({"email": email, "password": PASSWORD});
    let registration = json!({"email": unique_email("during"), "password": PASSWORD});
    let answers: Vec<(&str, Reply, Duration)> = thread::scope(|s| {
        let mut calls = Vec::new();
        for _ in 0..12 {
            calls.push(s.spawn(|| {
                (
                    "me",
                    timed(&server, "GET", "/v1/account/me", None, Some(&token)),
                )
            }));
        }
        calls.push(s.spawn(|| {
            (
                "login",
                timed(&server, "POST", "/v1/auth/login", Some(&login), None),
            )
        }));
        calls.push(s.spawn(|| {
            let answer = timed(
                &server,
                "POST",
                "/v1/account/register",
                Some(&registration),
                None,
            );
            ("register", answer)
        }));
        calls.push(s.spawn(|| ("readyz", timed(&server, "GET", "/readyz", None, None))));
        // Liveness does not need the database, partition or not.
        let (healthz, took) = timed(&server, "GET", "/healthz", None, None);
        assert_eq!(healthz.status, 200, "{healthz:?}");
        assert!(took < Duration::from_secs(1), "/healthz took {took:?}");
        calls
            .into_iter()
            .map(|call| {
                let (what, (reply, took)) = call.join().unwrap();
                (what, reply, took)
            })
            .collect()
    });
    let stderr = server.stderr();
    if stderr.contains("fall back to TCP timeouts") {
        eprintln!("SKIPPED: this system refuses pidfd_getfd, so the call deadline falls back");
        return;
    }
    let slowest = answers.iter().map(|(_, _, took)| *took).max().unwrap();
    for (what, reply, took) in &answers {
        assert_eq!(reply.status, 503, "{what}: {reply:?}");
        // `/readyz` answers a status body, the others a problem.
        let field = if *what == "readyz" { "status" } else { "code" };
        assert_eq!(reply.json()[field], "unavailable", "{what}: {reply:?}");
        assert!(*took < BOUND, "{what} answered after {took:?}");
    }
    assert!(
        slowest < DEADLINE_SLACK,
        "the slowest answer came after {slowest:?}: the backstop, not the deadline"
    );
    eprintln!(
        "black hole: {} requests answered 503, the slowest after {slowest:?}",
        answers.len()
    );
    // No call still holds a connection, though the database is still unreachable.
    assert_eq!(
        connections_in_use(&server),
        0,
        "a call is stuck on its connection"
    );
    let stderr = server.stderr();
    assert!(
        stderr.contains("a database call passed its deadline"),
        "the deadline, not TCP, ended the calls:\n{stderr}"
    );

    proxy.restore();
    let healed = eventually(Duration::from_secs(10), || {
        server.get("/readyz").is_ok_and(|reply| reply.status == 200)
    })
    .expect("ready again within 10 s of the network coming back");
    eprintln!("black hole: ready again {healed:?} after the network came back");
    let (me, _) = timed(&server, "GET", "/v1/account/me", None, Some(&token));
    assert_eq!(me.status, 200, "{me:?}");
    assert_eq!(server.register(&unique_email("after")).status, 201);
    assert_eq!(server.login(&email, PASSWORD).status, 200);
}
