//! The production argon2 defaults (m=19456 KiB, t=2, p=1) end to end, and the dummy verify
//! that makes a login with an unknown email cost as much as one with a wrong password.
//! SQLite only: what is measured here is hashing, not the database.

use std::time::{Duration, Instant};

use diesel::sql_types::Text;
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};
use roster_app::ports::PasswordHasher as _;
use roster_crypto::{Argon2Hasher, Argon2Settings};
use roster_domain::PlainPassword;
use serde_json::json;

use crate::helpers::{
    AppOptions, Db, PASSWORD, TestApp, assert_problem, spawn_app_with, unique_email,
};

async fn spawn_with_production_hashing() -> TestApp {
    let env = [
        ("ROSTER__ARGON2__MEMORY_KIB", "19456"),
        ("ROSTER__ARGON2__ITERATIONS", "2"),
        // The timing comparison fails many logins on one account; throttling would answer
        // them before any hashing and hide what is measured.
        ("ROSTER__LOGIN_THROTTLE__FREE_FAILURES", "100000"),
    ];
    let options = AppOptions {
        env: env.map(|(k, v)| (k.to_owned(), v.to_owned())).to_vec(),
        ..AppOptions::default()
    };
    spawn_app_with(Db::Sqlite, options)
        .await
        .expect("SQLite is always available")
}

#[derive(QueryableByName)]
struct HashRow {
    #[diesel(sql_type = Text)]
    password_hash: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_defaults_hash_with_m19456_t2_p1_and_still_log_in() {
    let app = spawn_with_production_hashing().await;
    let email = unique_email("prod");
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);

    let path = app.database_url.strip_prefix("sqlite://").unwrap();
    let mut conn = SqliteConnection::establish(path).unwrap();
    let rows: Vec<HashRow> =
        diesel::sql_query("SELECT password_hash FROM accounts WHERE email = ?")
            .bind::<Text, _>(&email)
            .load(&mut conn)
            .unwrap();
    let hash = &rows[0].password_hash;
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );

    app.login_token(&email, PASSWORD).await;
    let wrong = app.login(&email, "not the password at all").await;
    assert_problem(wrong, 401, "invalid_credentials").await;
}

/// Median duration of a failed login, `rounds` times, alternating the two kinds so both see
/// the same machine load.
async fn failed_login_medians(app: &TestApp, email: &str, rounds: usize) -> (Duration, Duration) {
    let mut unknown = Vec::new();
    let mut wrong = Vec::new();
    for _ in 0..rounds {
        for (samples, body) in [
            (
                &mut unknown,
                json!({"email": unique_email("ghost"), "password": PASSWORD}),
            ),
            (
                &mut wrong,
                json!({"email": email, "password": "definitely not the right password"}),
            ),
        ] {
            let started = Instant::now();
            let response = app.post_json("/v1/auth/login", &body, None).await;
            let took = started.elapsed();
            assert_eq!(response.status(), 401);
            samples.push(took);
        }
    }
    unknown.sort();
    wrong.sort();
    (unknown[rounds / 2], wrong[rounds / 2])
}

/// The median time of one argon2 verify at the production parameters, in this process.
async fn one_verify() -> Duration {
    let hasher = Argon2Hasher::start(Argon2Settings {
        workers: 1,
        ..Argon2Settings::default()
    })
    .unwrap();
    let hash = hasher.hash(PlainPassword::new(PASSWORD)).await.unwrap();
    let mut samples = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let verified = hasher
            .verify(PlainPassword::new("not it"), Some(hash.clone()))
            .await
            .unwrap();
        samples.push(started.elapsed());
        assert!(!verified);
    }
    samples.sort();
    samples[2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_email_costs_about_as_much_as_a_wrong_password() {
    let app = spawn_with_production_hashing().await;
    let email = unique_email("timing");
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
    // Warm up connections and the hashing workers.
    failed_login_medians(&app, &email, 1).await;

    let (unknown, wrong) = failed_login_medians(&app, &email, 7).await;
    // Each failure must cost at least about one argon2 verify with these parameters, measured
    // here on the same machine: a fixed floor would let a server that verifies nothing pass
    // on a slow or busy machine.
    let floor = one_verify().await / 2;
    assert!(
        wrong >= floor,
        "a wrong password took only {wrong:?} (one verify: {:?}): is the hash really verified?",
        floor * 2
    );
    assert!(
        unknown >= floor,
        "an unknown email took only {unknown:?} (one verify: {:?}): no dummy hash verified?",
        floor * 2
    );
    let ratio = unknown.as_secs_f64() / wrong.as_secs_f64();
    assert!(
        (1.0 / 3.0..=3.0).contains(&ratio),
        "unknown email {unknown:?} vs wrong password {wrong:?} (ratio {ratio:.2})"
    );
}
