//! The password strength estimate runs on a bounded pool: a burst of crafted passwords is
//! answered (a result or 503 `overloaded` with `Retry-After`), never queued without bound.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{AppOptions, Db, PASSWORD, spawn_app_with, unique_email};
use crate::on_both_databases;

on_both_databases!(
    a_burst_of_crafted_passwords_overloads_the_strength_pool,
    crafted_password_changes_overload_the_strength_pool_too,
    an_over_long_login_password_is_invalid_credentials,
);

/// A chain of common words in l33t spelling (the red-team finding): its strength estimate
/// used to cost about a second of CPU on an HTTP worker.
pub const CRAFTED: &str = "p@$$w0rd|0v3(00k!3{0ff33[h@r|!3<@|!3n+!99er7!6er5h@d0wdr@90nm0nk3y%b0%\
    2!pp3r8@5k3+4ng3|p@$$w0rd|0v3(00k!3{0ff33[h@r|!3<@|!3n+!99";

/// A l33t-dense password with no strong part: refused as weak, so a burst of password
/// changes to it leaves the current password as it was.
const CRAFTED_WEAK: &str = "4@8({[<3691!|70$5+%2p@$$w0rdp@$$w0rdp@$$w0rdp@$$w0rdp@$$w0rd\
    p@$$w0rdp@$$w0rdp@$$w0rd";

/// One strength worker with a queue of one, so that a burst must overflow it; the argon2
/// queue is large, so that every 503 comes from the strength pool.
async fn spawn_small_pool(db: Db) -> Option<crate::helpers::TestApp> {
    let env = [
        ("ROSTER__PASSWORD__STRENGTH_WORKERS", "1"),
        ("ROSTER__PASSWORD__STRENGTH_QUEUE", "1"),
        ("ROSTER__ARGON2__QUEUE_CAPACITY", "64"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    spawn_app_with(
        db,
        AppOptions {
            env,
            ..AppOptions::default()
        },
    )
    .await
}

/// Counts the statuses; every 503 must be `overloaded` with a `Retry-After`.
async fn tally(responses: Vec<reqwest::Response>, ok: u16) -> (usize, usize) {
    let (mut answered, mut overloaded) = (0, 0);
    for response in responses {
        match response.status().as_u16() {
            503 => {
                assert!(response.headers().contains_key("retry-after"));
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["code"], "overloaded", "{body}");
                overloaded += 1;
            }
            status => {
                assert!(status == ok || status == 422, "unexpected {status}");
                answered += 1;
            }
        }
    }
    (answered, overloaded)
}

async fn a_burst_of_crafted_passwords_overloads_the_strength_pool(db: Db) {
    let Some(app) = spawn_small_pool(db).await else {
        return;
    };
    let emails: Vec<String> = (0..20).map(|_| unique_email("crafted")).collect();
    let burst = emails.iter().map(|email| app.register(email, CRAFTED));
    let (answered, overloaded) = tally(join_all(burst).await, 201).await;
    assert!(answered >= 1, "some estimates must run");
    assert!(overloaded >= 1, "the strength queue must refuse the rest");
}

async fn crafted_password_changes_overload_the_strength_pool_too(db: Db) {
    let Some(app) = spawn_small_pool(db).await else {
        return;
    };
    let member = app.new_account("changer").await;
    let change = json!({"current_password": PASSWORD, "new_password": CRAFTED_WEAK});
    let burst = (0..20).map(|_| app.put_json("/v1/account/me/password", &change, &member.token));
    let (answered, overloaded) = tally(join_all(burst).await, 422).await;
    assert!(answered >= 1, "some estimates must run");
    assert!(overloaded >= 1, "the strength queue must refuse the rest");
}

async fn an_over_long_login_password_is_invalid_credentials(db: Db) {
    let Some(app) = spawn_small_pool(db).await else {
        return;
    };
    let member = app.new_account("long").await;
    // 63 KB of U+FDFA, which NFKC expands eighteen-fold: refused like a wrong password.
    let response = app.login(&member.email, &"\u{FDFA}".repeat(21_000)).await;
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "invalid_credentials");
}
