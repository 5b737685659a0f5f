//! Per-account login throttling, shared through the database: escalating delays after
//! repeated failures, refused before hashing, reset by a success.

use std::time::Duration;

use crate::helpers::{
    AppOptions, Db, PASSWORD, TestApp, assert_problem, spawn_app_with, unique_email,
};
use crate::on_both_databases;

on_both_databases!(
    failures_throttle_then_recover,
    unknown_emails_are_throttled_alike,
    throttling_is_shared_by_nodes,
    wrong_current_passwords_are_throttled_like_logins,
);

/// Three free failures, then 2 s doubling up to 4 s.
async fn throttled_app(db: Db) -> Option<TestApp> {
    spawn_app_with(
        db,
        AppOptions {
            env: vec![
                ("ROSTER__LOGIN_THROTTLE__FREE_FAILURES".into(), "3".into()),
                ("ROSTER__LOGIN_THROTTLE__BASE_DELAY".into(), "2s".into()),
                ("ROSTER__LOGIN_THROTTLE__MAX_DELAY".into(), "4s".into()),
            ],
            ..AppOptions::default()
        },
    )
    .await
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn failures_throttle_then_recover(db: Db) {
    let Some(app) = throttled_app(db).await else {
        return;
    };
    let email = unique_email("target");
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
    for _ in 0..3 {
        assert_problem(
            app.login(&email, "wrong wrong wrong").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    // Even the right password waits: the throttle answers before any hashing.
    let throttled = app.login(&email, PASSWORD).await;
    let wait = retry_after(&throttled);
    assert!((1..=3).contains(&wait), "Retry-After {wait}");
    assert_problem(throttled, 429, "too_many_attempts").await;

    tokio::time::sleep(Duration::from_secs(wait)).await;
    let token = app.login_token(&email, PASSWORD).await;
    assert!(!token.is_empty());
    // The success reset the count: a new failure is free again.
    assert_problem(
        app.login(&email, "wrong wrong wrong").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(app.login(&email, PASSWORD).await.status(), 200);
}

async fn unknown_emails_are_throttled_alike(db: Db) {
    let Some(app) = throttled_app(db).await else {
        return;
    };
    let known = unique_email("known");
    assert_eq!(app.register(&known, PASSWORD).await.status(), 201);
    let unknown = unique_email("unknown");
    for email in [&known, &unknown] {
        for _ in 0..3 {
            assert_problem(
                app.login(email, "wrong wrong wrong").await,
                401,
                "invalid_credentials",
            )
            .await;
        }
        let throttled = app.login(email, "wrong wrong wrong").await;
        assert!(retry_after(&throttled) >= 1);
        assert_problem(throttled, 429, "too_many_attempts").await;
    }
}

async fn throttling_is_shared_by_nodes(db: Db) {
    let Some(app) = throttled_app(db).await else {
        return;
    };
    let email = unique_email("shared");
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
    let sibling = app
        .start_sibling(&[
            ("ROSTER__LOGIN_THROTTLE__FREE_FAILURES".into(), "3".into()),
            ("ROSTER__LOGIN_THROTTLE__BASE_DELAY".into(), "2s".into()),
            ("ROSTER__LOGIN_THROTTLE__MAX_DELAY".into(), "4s".into()),
        ])
        .await;
    for _ in 0..3 {
        assert_problem(
            app.login(&email, "wrong wrong wrong").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    let on_sibling = app
        .client
        .post(format!("{sibling}/v1/auth/login"))
        .json(&serde_json::json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_problem(on_sibling, 429, "too_many_attempts").await;
}

async fn wrong_current_passwords_are_throttled_like_logins(db: Db) {
    let Some(app) = throttled_app(db).await else {
        return;
    };
    let email = unique_email("stolen-session");
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
    let token = app.login_token(&email, PASSWORD).await;
    let change = |current: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            app.client
                .put(app.url("/v1/account/me/password"))
                .bearer_auth(token)
                .json(&serde_json::json!({
                    "current_password": current,
                    "new_password": "another long and unusual passphrase",
                }))
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..3 {
        assert_problem(change("wrong wrong wrong").await, 422, "validation_failed").await;
    }
    // Guessing stops here, even with the right password, and logins wait too.
    let throttled = change(PASSWORD).await;
    assert!(retry_after(&throttled) >= 1);
    assert_problem(throttled, 429, "too_many_attempts").await;
    assert_problem(app.login(&email, PASSWORD).await, 429, "too_many_attempts").await;
}
