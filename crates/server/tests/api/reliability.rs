//! Faults and races: the database cut off and back (PostgreSQL, through a TCP proxy the test
//! controls), and requests racing for the same write.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use roster_store::testing::fresh_postgres_database;
use serde_json::{Value, json};

use crate::helpers::{
    AppOptions, Db, PASSWORD, assert_problem, eventually, spawn_app, spawn_app_with, unique_email,
};
use crate::on_both_databases;

#[path = "../support/db_proxy.rs"]
mod db_proxy;
use db_proxy::DbProxy;

on_both_databases!(
    racing_grants_create_one,
    racing_disables_leave_a_super_admin,
    racing_failed_logins_are_all_counted,
    unicode_case_and_idn_forms_are_one_account,
    a_full_hashing_queue_is_503_overloaded_with_retry_after,
    a_write_held_past_the_database_timeout_is_503_unavailable,
);

/// Asserts a 503 problem with `code`, a `Retry-After` of at least one second and the
/// problem conventions (type URN, `no-store`).
async fn assert_503(response: reqwest::Response, code: &str) {
    assert_eq!(response.status(), 503);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in whole seconds");
    assert!(retry_after >= 1, "Retry-After: {retry_after}");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = assert_problem(response, 503, code).await;
    assert_eq!(body["type"], format!("urn:roster:problem:{code}"), "{body}");
}

/// Sends a request and returns its status and how long the answer took.
async fn timed(request: reqwest::RequestBuilder) -> (u16, Value, Duration) {
    let started = Instant::now();
    let response = request.send().await.expect("answered");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_503_and_heals_by_itself() {
    let Some(database) = fresh_postgres_database() else {
        return;
    };
    let proxy = DbProxy::start("127.0.0.1:5432".parse().unwrap());
    let proxied = proxy.proxied(database.url());
    let options = AppOptions {
        env: vec![
            ("ROSTER__DATABASE__URL".into(), proxied),
            ("ROSTER__DATABASE__CONNECT_TIMEOUT".into(), "1s".into()),
        ],
        ..AppOptions::default()
    };
    let app = spawn_app_with(Db::Sqlite, options).await.unwrap();
    let email = unique_email("before");
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
    let token = app.login_token(&email, PASSWORD).await;

    proxy.cut();
    let limit = Duration::from_secs(5);
    let (status, _, took) = timed(app.client.get(app.url("/healthz"))).await;
    assert_eq!(status, 200, "liveness does not need the database");
    assert!(took < limit);
    let (status, _, took) = timed(app.client.get(app.url("/readyz"))).await;
    assert_eq!(status, 503);
    assert!(took < limit, "readyz took {took:?}");
    let requests = [
        app.client
            .get(app.url("/v1/account/me"))
            .bearer_auth(&token),
        app.client
            .post(app.url("/v1/auth/login"))
            .json(&json!({"email": email, "password": PASSWORD})),
        app.client
            .post(app.url("/v1/account/register"))
            .json(&json!({"email": unique_email("during"), "password": PASSWORD})),
    ];
    for request in requests {
        let (status, body, took) = timed(request).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["code"], "unavailable", "{body}");
        assert!(took < limit, "answered after {took:?}");
    }

    proxy.restore();
    let healed = eventually(Duration::from_secs(15), || async {
        app.get("/readyz").await.status() == 200
    })
    .await;
    assert!(
        healed.is_some(),
        "not ready again after the database came back"
    );
    assert_eq!(app.get_as("/v1/account/me", &token).await.status(), 200);
    let after = unique_email("after");
    assert_eq!(app.register(&after, PASSWORD).await.status(), 201);
    app.login_token(&email, PASSWORD).await;
}

async fn racing_grants_create_one(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let member = app.new_account("raced").await;
    app.create_role(&root, "raced-role", &[("x-read", "allow")])
        .await;
    let attempts = (0..12).map(|_| app.grant(&root, &member.id, "raced-role", "acme"));
    let statuses: Vec<u16> = join_all(attempts)
        .await
        .into_iter()
        .map(|response| response.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    let grants: Value = app
        .get_as(&format!("/v1/admin/accounts/{}/grants", member.id), &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(grants["items"].as_array().unwrap().len(), 1);
}

async fn racing_disables_leave_a_super_admin(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let first = app.superadmin_token().await;
    let second = app.superadmin_token().await;
    let id_of = |token: String| {
        let app = &app;
        async move {
            app.get_as("/v1/account/me", &token)
                .await
                .json::<Value>()
                .await
                .unwrap()["account"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (first_id, second_id) = (id_of(first.clone()).await, id_of(second.clone()).await);
    let (disable_second, disable_first) = (
        format!("/v1/admin/accounts/{second_id}/disable"),
        format!("/v1/admin/accounts/{first_id}/disable"),
    );
    let (a, b) = tokio::join!(
        app.post_as(&disable_second, &first),
        app.post_as(&disable_first, &second),
    );
    let statuses = [a.status().as_u16(), b.status().as_u16()];
    assert!(statuses.iter().all(|s| *s < 500), "{statuses:?}");
    let root = app.superadmin_token().await;
    let accounts: Value = app
        .get_as("/v1/admin/accounts?limit=200", &root)
        .await
        .json()
        .await
        .unwrap();
    let survivors = accounts["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            (a["id"] == first_id.as_str() || a["id"] == second_id.as_str())
                && a["status"] == "active"
        })
        .count();
    assert!(survivors >= 1, "both super admins disabled: {statuses:?}");
}

async fn racing_failed_logins_are_all_counted(db: Db) {
    let options = AppOptions {
        env: vec![
            ("ROSTER__LOGIN_THROTTLE__FREE_FAILURES".into(), "5".into()),
            ("ROSTER__LOGIN_THROTTLE__BASE_DELAY".into(), "1m".into()),
        ],
        ..AppOptions::default()
    };
    let Some(app) = spawn_app_with(db, options).await else {
        return;
    };
    let member = app.new_account("hammered").await;
    let attempts = (0..20).map(|_| app.login(&member.email, "wrong wrong wrong wrong"));
    let statuses: Vec<u16> = join_all(attempts)
        .await
        .into_iter()
        .map(|response| response.status().as_u16())
        .collect();
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    let failures = statuses.iter().filter(|s| **s == 401).count();
    assert!(failures >= 5, "{statuses:?}");
    // However the burst interleaved, the account is locked now, even for the right password.
    assert_problem(
        app.login(&member.email, PASSWORD).await,
        429,
        "too_many_attempts",
    )
    .await;
    // Every failure that got as far as the password check was counted and recorded.
    let root = app.superadmin_token().await;
    let events: Value = app
        .get_as(
            "/v1/admin/audit-events?action=login.failed&limit=200",
            &root,
        )
        .await
        .json()
        .await
        .unwrap();
    let target = format!("email:{}", member.email);
    let recorded = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == target.as_str())
        .count();
    assert_eq!(recorded, failures, "{statuses:?}");
}

async fn unicode_case_and_idn_forms_are_one_account(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let local = format!("JÜRGEN.{}", uuid::Uuid::now_v7().simple());
    let given = format!("{local}@Bücher.de");
    let created = app.register(&given, PASSWORD).await;
    assert_eq!(created.status(), 201);
    assert_eq!(
        created.json::<Value>().await.unwrap()["email"],
        given,
        "stored as given"
    );
    for variant in [
        format!("{}@bücher.de", local.to_lowercase()),
        format!("{}@xn--bcher-kva.de", local.to_lowercase()),
        format!("{local}@BÜCHER.DE"),
    ] {
        assert_problem(app.register(&variant, PASSWORD).await, 409, "email_taken").await;
        let login = app.login(&variant, PASSWORD).await;
        assert_eq!(login.status(), 200, "{variant}");
        assert_eq!(
            login.json::<Value>().await.unwrap()["account"]["email"],
            given
        );
    }
}

/// More logins at once than one hashing worker with a queue of one can take: the overflow
/// is answered 503 `overloaded` with `Retry-After` (not queued), some log in, and once the
/// burst is over a login succeeds again.
async fn a_full_hashing_queue_is_503_overloaded_with_retry_after(db: Db) {
    let options = AppOptions {
        env: vec![
            ("ROSTER__ARGON2__WORKERS".into(), "1".into()),
            ("ROSTER__ARGON2__QUEUE_CAPACITY".into(), "1".into()),
            // About 100 ms a hash: the burst arrives while the first ones are hashed.
            ("ROSTER__ARGON2__ITERATIONS".into(), "100".into()),
        ],
        ..AppOptions::default()
    };
    let Some(app) = spawn_app_with(db, options).await else {
        return;
    };
    let member = app.new_account("overloaded").await;
    let burst = (0..16).map(|_| app.login(&member.email, PASSWORD));
    let (mut logged_in, mut overloaded) = (0, 0);
    for response in join_all(burst).await {
        if response.status() == 200 {
            logged_in += 1;
        } else {
            assert_503(response, "overloaded").await;
            overloaded += 1;
        }
    }
    assert!(logged_in >= 1, "no login of the burst was hashed");
    assert!(overloaded >= 1, "the hashing queue never overflowed");
    app.login_token(&member.email, PASSWORD).await;
}

/// Holds the write lock of the test's database on a connection of its own until released:
/// PostgreSQL locks the `accounts` table, SQLite takes the file's write lock.
enum WriteLock {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

impl WriteLock {
    fn take(db: Db, database_url: &str) -> WriteLock {
        use diesel::connection::SimpleConnection;
        use diesel::{Connection, PgConnection, SqliteConnection};
        match db {
            Db::Postgres => {
                let mut conn = PgConnection::establish(database_url).unwrap();
                conn.batch_execute("BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;")
                    .unwrap();
                WriteLock::Postgres(conn)
            }
            Db::Sqlite => {
                let path = database_url.strip_prefix("sqlite://").unwrap();
                let mut conn = SqliteConnection::establish(path).unwrap();
                conn.batch_execute("BEGIN EXCLUSIVE;").unwrap();
                WriteLock::Sqlite(conn)
            }
        }
    }

    fn release(self) {
        use diesel::connection::SimpleConnection;
        match self {
            WriteLock::Postgres(mut conn) => conn.batch_execute("ROLLBACK;").unwrap(),
            WriteLock::Sqlite(mut conn) => conn.batch_execute("ROLLBACK;").unwrap(),
        }
    }
}

/// A registration held up by a lock past the database's own timeout (PostgreSQL's
/// `statement_timeout`, SQLite's `busy_timeout`) is 503 `unavailable` with `Retry-After`,
/// answered soon after that timeout, never a 500 or a hang; once the lock is gone the same
/// registration succeeds.
async fn a_write_held_past_the_database_timeout_is_503_unavailable(db: Db) {
    let options = AppOptions {
        env: vec![
            ("ROSTER__DATABASE__STATEMENT_TIMEOUT".into(), "500ms".into()),
            ("ROSTER__DATABASE__BUSY_TIMEOUT".into(), "500ms".into()),
        ],
        ..AppOptions::default()
    };
    let Some(app) = spawn_app_with(db, options).await else {
        return;
    };
    let email = unique_email("locked-out");
    let lock = WriteLock::take(db, &app.database_url);
    let started = Instant::now();
    let response = app.register(&email, PASSWORD).await;
    let took = started.elapsed();
    assert_503(response, "unavailable").await;
    assert!(
        took >= Duration::from_millis(500),
        "answered before the timeout: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
    lock.release();
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
}
