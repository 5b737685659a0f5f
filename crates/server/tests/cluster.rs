//! Several real `roster` processes: stopped with SIGTERM while requests are in flight
//! (they finish), killed in the middle of a burst of writes (nothing acknowledged is lost,
//! nothing is half-written), and three nodes on one PostgreSQL database behaving as one
//! service. Each scenario runs on SQLite and, when
//! `ROSTER_TEST_POSTGRES_URL` is set, on PostgreSQL.

mod process;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use process::{PASSWORD, Server, Workdir, unique_email};
use roster_store::testing::{TestDatabase, fresh_postgres_database};
use serde_json::{Value, json};

const ROOT_EMAIL: &str = "root@example.com";

/// The settings every node gets: bootstrap of the same super admin, and a database.
fn node_env(database_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("ROSTER__DATABASE__URL", database_url.to_owned()),
        ("ROSTER__BOOTSTRAP__SUPERADMIN_EMAIL", ROOT_EMAIL.to_owned()),
        (
            "ROSTER__BOOTSTRAP__SUPERADMIN_PASSWORD",
            PASSWORD.to_owned(),
        ),
        ("ROSTER__RATE_LIMIT__ENABLED", "false".to_owned()),
        ("ROSTER__LOGIN_THROTTLE__FREE_FAILURES", "3".to_owned()),
        ("ROSTER__LOGIN_THROTTLE__BASE_DELAY", "30s".to_owned()),
    ]
}

fn borrowed<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn token(server: &Server, email: &str) -> String {
    let reply = server.login(email, PASSWORD);
    assert_eq!(reply.status, 200, "login of {email}: {}", reply.body);
    reply.json()["token"].as_str().unwrap().to_owned()
}

fn get(server: &Server, path: &str, token: &str) -> process::Reply {
    server
        .request("GET", path, None, Some(token))
        .expect("request answered")
}

/// Every item of a paginated admin list.
fn all_items(server: &Server, path: &str, token: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let separator = if path.contains('?') { '&' } else { '?' };
        // The first page with no parameters: a list that is not paginated (yet) takes
        // none, and unknown query parameters are refused.
        let page_path = match &cursor {
            Some(cursor) => format!("{path}{separator}cursor={cursor}"),
            None => path.to_owned(),
        };
        let reply = get(server, &page_path, token);
        assert_eq!(reply.status, 200, "{page_path}: {}", reply.body);
        let page = reply.json();
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

/// The database to use: a SQLite file in the work directory, or a fresh PostgreSQL one.
enum Database {
    Sqlite,
    Postgres(TestDatabase),
}

impl Database {
    fn url(&self) -> String {
        match self {
            Database::Sqlite => "sqlite://data/roster.db".to_owned(),
            Database::Postgres(database) => database.url().to_owned(),
        }
    }
}

/// What the burst got acknowledged before the kill, and any answer that was not an
/// acknowledgement (a write the service answered but refused is a failure of its own, not
/// something to retry past).
#[derive(Default)]
struct Acknowledged {
    accounts: Vec<(String, String)>,
    grants: Vec<(String, String)>,
    refused: Vec<String>,
}

/// Writes acknowledged (each kind) before the kill: enough that a store losing some of them
/// is noticed, few enough for a slow machine.
const ACKNOWLEDGED_BEFORE_KILL: usize = 50;
/// How long the burst may take to reach [`ACKNOWLEDGED_BEFORE_KILL`].
const BURST_TIMEOUT: Duration = Duration::from_mins(1);

/// One writer: registers an account and grants it a role, again and again, until the server
/// cannot be reached (the kill). Every answered write is either acknowledged or recorded as
/// refused; a write whose connection died unanswered is neither.
fn write_until_killed(port: u16, root: &str, acknowledged: &Mutex<Acknowledged>) {
    loop {
        let email = unique_email("burst");
        let body = json!({"email": email, "password": PASSWORD});
        let Ok(reply) = process::http(port, "POST", "/v1/account/register", Some(&body), None)
        else {
            return;
        };
        if reply.status != 201 {
            let refused = format!("registration: {} {}", reply.status, reply.body);
            acknowledged.lock().unwrap().refused.push(refused);
            continue;
        }
        let id = reply.json()["id"].as_str().unwrap().to_owned();
        acknowledged
            .lock()
            .unwrap()
            .accounts
            .push((email, id.clone()));
        let grant = json!({"role": "burst", "scope": "acme.berlin"});
        let path = format!("/v1/admin/accounts/{id}/grants");
        let Ok(reply) = process::http(port, "POST", &path, Some(&grant), Some(root)) else {
            return;
        };
        let mut acknowledged = acknowledged.lock().unwrap();
        if reply.status == 201 {
            let grant_id = reply.json()["id"].as_str().unwrap().to_owned();
            acknowledged.grants.push((id, grant_id));
        } else {
            let refused = format!("grant: {} {}", reply.status, reply.body);
            acknowledged.refused.push(refused);
        }
    }
}

fn sigkill_in_the_middle_of_a_burst(database: &Database) {
    let workdir = Workdir::with_shipped_features();
    let env = node_env(&database.url());
    let server = workdir.serve(&borrowed(&env), true);
    let root = token(&server, ROOT_EMAIL);
    let role = server.post(
        "/v1/admin/roles",
        &json!({"name": "burst", "permissions": [{"action": "burst-read"}]}),
        Some(&root),
    );
    assert_eq!(role.status, 201, "{}", role.body);

    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    let port = server.port;
    let writers: Vec<_> = (0..6)
        .map(|_| {
            let acknowledged = Arc::clone(&acknowledged);
            let root = root.clone();
            thread::spawn(move || write_until_killed(port, &root, &acknowledged))
        })
        .collect();
    // Kill once enough writes of each kind were acknowledged, while the writers go on.
    let started = std::time::Instant::now();
    loop {
        // Read under the lock, assert after it: a panic holding it would poison the writers.
        let (refused, enough) = {
            let acknowledged = acknowledged.lock().unwrap();
            let enough = acknowledged.accounts.len() >= ACKNOWLEDGED_BEFORE_KILL
                && acknowledged.grants.len() >= ACKNOWLEDGED_BEFORE_KILL;
            (acknowledged.refused.clone(), enough)
        };
        assert!(
            refused.is_empty(),
            "writes refused during the burst: {refused:?}"
        );
        if enough {
            break;
        }
        assert!(
            started.elapsed() < BURST_TIMEOUT,
            "fewer than {ACKNOWLEDGED_BEFORE_KILL} acknowledged writes of each kind in {BURST_TIMEOUT:?}"
        );
        thread::sleep(Duration::from_millis(10));
    }
    server.kill();
    for writer in writers {
        writer.join().unwrap();
    }
    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
    assert!(
        acknowledged.refused.is_empty(),
        "writes refused during the burst: {:?}",
        acknowledged.refused
    );
    assert!(acknowledged.accounts.len() >= ACKNOWLEDGED_BEFORE_KILL);
    assert!(acknowledged.grants.len() >= ACKNOWLEDGED_BEFORE_KILL);
    eprintln!(
        "killed after {} acknowledged registrations and {} acknowledged grants",
        acknowledged.accounts.len(),
        acknowledged.grants.len()
    );

    let server = workdir.serve(&borrowed(&env), true);
    let root = token(&server, ROOT_EMAIL);
    let accounts = all_items(&server, "/v1/admin/accounts", &root);
    let stored: HashSet<&str> = accounts.iter().map(|a| a["id"].as_str().unwrap()).collect();
    for (email, id) in &acknowledged.accounts {
        assert!(
            stored.contains(id.as_str()),
            "acknowledged account {email} lost"
        );
    }
    // Every stored account can log in: its password hash was written with it.
    for (email, _) in acknowledged.accounts.iter().step_by(7) {
        token(&server, email);
    }
    let registered: HashSet<String> = all_items(
        &server,
        "/v1/admin/audit-events?action=account.registered",
        &root,
    )
    .iter()
    .map(|event| event["target"].as_str().unwrap().to_owned())
    .collect();
    let granted: HashSet<String> = all_items(
        &server,
        "/v1/admin/audit-events?action=grant.created",
        &root,
    )
    .iter()
    .map(|event| event["target"].as_str().unwrap().to_owned())
    .collect();
    let mut stored_grants = 0;
    for account in accounts.iter().filter(|a| a["is_superadmin"] == false) {
        let id = account["id"].as_str().unwrap();
        assert!(
            registered.contains(&format!("account:{id}")),
            "account {id} without its audit event"
        );
        for grant in all_items(&server, &format!("/v1/admin/accounts/{id}/grants"), &root) {
            let grant_id = grant["id"].as_str().unwrap();
            assert!(
                granted.contains(&format!("grant:{grant_id}")),
                "grant {grant_id} without its audit event"
            );
            stored_grants += 1;
        }
    }
    for (account, grant) in &acknowledged.grants {
        let grants = all_items(
            &server,
            &format!("/v1/admin/accounts/{account}/grants"),
            &root,
        );
        assert!(
            grants.iter().any(|g| g["id"] == grant.as_str()),
            "acknowledged grant {grant} lost"
        );
    }
    assert!(stored_grants >= acknowledged.grants.len());
}

#[test]
fn sigkill_mid_burst_loses_nothing_acknowledged_on_sqlite() {
    sigkill_in_the_middle_of_a_burst(&Database::Sqlite);
}

#[test]
fn sigkill_mid_burst_loses_nothing_acknowledged_on_postgres() {
    let Some(database) = fresh_postgres_database() else {
        return;
    };
    sigkill_in_the_middle_of_a_burst(&Database::Postgres(database));
}

#[test]
fn three_nodes_on_one_postgres_database_behave_as_one() {
    let Some(database) = fresh_postgres_database() else {
        return;
    };
    let env = node_env(database.url());
    let workdirs: Vec<Workdir> = (0..3).map(|_| Workdir::with_shipped_features()).collect();
    // Started together: migrations and the bootstrap race on an empty database.
    let mut nodes: Vec<Server> = workdirs
        .iter()
        .map(|workdir| workdir.spawn(&borrowed(&env), true))
        .collect();
    for node in &mut nodes {
        node.wait_healthy();
    }
    let [a, b, c] = [&nodes[0], &nodes[1], &nodes[2]];

    let root = token(a, ROOT_EMAIL);
    let superadmins = all_items(b, "/v1/admin/accounts", &root)
        .into_iter()
        .filter(|account| account["is_superadmin"] == true)
        .count();
    assert_eq!(
        superadmins, 1,
        "bootstrap on three nodes made {superadmins}"
    );

    // A session from one node works on the others; logout on one ends it everywhere.
    let email = unique_email("roaming");
    assert_eq!(b.register(&email).status, 201);
    let session = token(c, &email);
    assert_eq!(get(a, "/v1/account/me", &session).status, 200);
    let logout = b
        .request("POST", "/v1/auth/logout", None, Some(&session))
        .unwrap();
    assert_eq!(logout.status, 204, "{}", logout.body);
    assert_eq!(get(c, "/v1/account/me", &session).status, 401);

    // Disabling on one node ends the account's sessions on the others at once.
    let session = token(a, &email);
    let id = get(a, "/v1/account/me", &session).json()["account"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let disabled = c
        .request(
            "POST",
            &format!("/v1/admin/accounts/{id}/disable"),
            None,
            Some(&root),
        )
        .unwrap();
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_eq!(get(b, "/v1/account/me", &session).status, 401);

    // Failed logins count across nodes: three free failures spread over a and b, then c
    // throttles.
    let target = unique_email("throttled");
    assert_eq!(a.register(&target).status, 201);
    for node in [a, b, a] {
        assert_eq!(node.login(&target, "wrong wrong wrong").status, 401);
    }
    let throttled = c.login(&target, PASSWORD);
    assert_eq!(throttled.status, 429, "{}", throttled.body);
    assert_eq!(throttled.json()["code"], "too_many_attempts");
}

#[test]
fn sigterm_lets_requests_in_flight_finish() {
    let workdir = Workdir::with_shipped_features();
    // Slow hashing on one worker: the registrations wait for it one after the other, so all
    // of them are inside the service when the signal arrives.
    let server = workdir.serve(
        &[
            ("ROSTER__ARGON2__WORKERS", "1"),
            ("ROSTER__ARGON2__ITERATIONS", "8"),
            // The queued ones wait several slow hashes: longer than the default maximum wait.
            ("ROSTER__ARGON2__MAX_QUEUE_WAIT", "30s"),
            ("ROSTER__SERVER__SHUTDOWN_TIMEOUT", "20s"),
        ],
        false,
    );
    let port = server.port;
    let requests: Vec<_> = (0..6)
        .map(|_| {
            thread::spawn(move || {
                let body = json!({"email": unique_email("in-flight"), "password": PASSWORD});
                process::http(port, "POST", "/v1/account/register", Some(&body), None)
            })
        })
        .collect();
    // In flight = inside a handler: one hashing, the others queued for the hashing worker.
    let started = std::time::Instant::now();
    loop {
        let metrics = server.get("/metrics").expect("metrics answered").body;
        if metrics.contains("roster_password_hash_queue_depth 5") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the six registrations never queued together:\n{metrics}"
        );
        thread::sleep(Duration::from_millis(5));
    }
    let stderr_path = server.stderr_path.clone();
    let status = server.terminate(Duration::from_secs(20));
    for request in requests {
        let reply = request.join().unwrap().unwrap_or_else(|e| {
            panic!(
                "a request in flight was not answered ({e}); server log:\n{}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            )
        });
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(
        process::http(port, "GET", "/healthz", None, None).is_err(),
        "still listening after shutdown"
    );
}
