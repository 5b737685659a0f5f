//! The per-client-IP token bucket on login, public registration and the authenticated
//! password routes.

use crate::helpers::{
    AppOptions, Db, PASSWORD, TestApp, assert_problem, spawn_app_with, unique_email,
};
use crate::on_both_databases;
use serde_json::json;

on_both_databases!(
    login_is_limited_per_client_after_the_burst,
    registration_shares_the_bucket_with_login,
    switched_off_nothing_is_rate_limited,
    password_change_shares_the_bucket,
    password_reset_shares_the_bucket,
    forwarding_headers_do_not_open_a_new_bucket,
);

/// An app whose limiter allows `burst` requests at once and then one a minute.
async fn spawn_limited(db: Db, enabled: bool, burst: u32) -> Option<TestApp> {
    let env = [
        ("ROSTER__RATE_LIMIT__ENABLED", enabled.to_string()),
        ("ROSTER__RATE_LIMIT__PER_MINUTE", "1".to_owned()),
        ("ROSTER__RATE_LIMIT__BURST", burst.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
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

/// Asserts 429 `rate_limited` with a `Retry-After` of at least one whole second.
async fn assert_rate_limited(response: reqwest::Response) {
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in whole seconds");
    assert!(retry_after >= 1, "Retry-After: {retry_after}");
    assert_problem(response, 429, "rate_limited").await;
}

async fn login_is_limited_per_client_after_the_burst(db: Db) {
    let Some(app) = spawn_limited(db, true, 3).await else {
        return;
    };
    let email = unique_email("limited");
    for attempt in 1..=3 {
        let response = app.login(&email, "wrong password entirely").await;
        assert_eq!(response.status(), 401, "attempt {attempt}");
    }
    assert_rate_limited(app.login(&email, "wrong password entirely").await).await;
    // The bucket is the client's, not the account's.
    assert_rate_limited(app.login(&unique_email("other"), PASSWORD).await).await;
}

async fn registration_shares_the_bucket_with_login(db: Db) {
    let Some(app) = spawn_limited(db, true, 3).await else {
        return;
    };
    let email = unique_email("shared");
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
    assert_eq!(
        app.register(&unique_email("shared"), PASSWORD)
            .await
            .status(),
        201
    );
    assert_eq!(
        app.login(&email, "wrong password entirely").await.status(),
        401
    );
    assert_rate_limited(app.register(&unique_email("late"), PASSWORD).await).await;
    assert_rate_limited(app.login(&email, PASSWORD).await).await;
}

async fn switched_off_nothing_is_rate_limited(db: Db) {
    let Some(app) = spawn_limited(db, false, 1).await else {
        return;
    };
    for _ in 0..20 {
        // A fresh email each time, so no per-account throttle is involved either.
        let response = app
            .login(&unique_email("free"), "wrong password entirely")
            .await;
        assert_problem(response, 401, "invalid_credentials").await;
    }
}

async fn password_change_shares_the_bucket(db: Db) {
    let Some(app) = spawn_limited(db, true, 4).await else {
        return;
    };
    // Registration and login take two tokens; two changes take the rest.
    let member = app.new_account("changer").await;
    let change = json!({"current_password": "not the current one", "new_password": PASSWORD});
    for attempt in 1..=2 {
        let response = app
            .put_json("/v1/account/me/password", &change, &member.token)
            .await;
        assert_eq!(response.status(), 422, "attempt {attempt}");
    }
    assert_rate_limited(
        app.put_json("/v1/account/me/password", &change, &member.token)
            .await,
    )
    .await;
    // Even a caller with no valid token is counted (the bucket is checked first).
    assert_rate_limited(
        app.put_json("/v1/account/me/password", &change, "rst_not-a-token")
            .await,
    )
    .await;
}

async fn password_reset_shares_the_bucket(db: Db) {
    let Some(app) = spawn_limited(db, true, 3).await else {
        return;
    };
    // The super admin's login takes one token; two resets take the rest.
    let admin = app.superadmin_token().await;
    let path = "/v1/admin/accounts/0190a6a0-0000-7000-8000-000000000000/password";
    let reset = json!({"new_password": PASSWORD});
    for attempt in 1..=2 {
        let response = app.put_json(path, &reset, &admin).await;
        assert_eq!(response.status(), 404, "attempt {attempt}");
    }
    assert_rate_limited(app.put_json(path, &reset, &admin).await).await;
}

/// The limiter keys on the TCP peer: a client that claims another address in
/// `X-Forwarded-For`, `Forwarded` or `X-Real-IP` on every request still spends its own bucket.
async fn forwarding_headers_do_not_open_a_new_bucket(db: Db) {
    let Some(app) = spawn_limited(db, true, 3).await else {
        return;
    };
    let email = unique_email("forwarded");
    let login_claiming = |n: u8| {
        app.client
            .post(app.url("/v1/auth/login"))
            .header("x-forwarded-for", format!("203.0.113.{n}"))
            .header("forwarded", format!("for=198.51.100.{n}"))
            .header("x-real-ip", format!("192.0.2.{n}"))
            .json(&json!({"email": email, "password": "wrong password entirely"}))
            .send()
    };
    for n in 1..=3 {
        let response = login_claiming(n).await.unwrap();
        assert_eq!(response.status(), 401, "attempt {n}");
    }
    assert_rate_limited(login_claiming(4).await.unwrap()).await;
}
