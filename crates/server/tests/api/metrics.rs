//! `GET /metrics` after a scenario: requests by route and status, login and registration
//! outcomes, throttling, and the scrape-time gauges; 404 while the `metrics` flag is off.

use crate::helpers::{AppOptions, Db, PASSWORD, spawn_app, spawn_app_with, unique_email};
use crate::on_both_databases;

on_both_databases!(metrics_count_a_scenario, metrics_follow_their_flag);

async fn metrics_count_a_scenario(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let email = unique_email("counted");
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
    assert_eq!(app.register(&email, PASSWORD).await.status(), 409);
    let token = app.login_token(&email, PASSWORD).await;
    assert_eq!(
        app.login(&email, "not the password at all").await.status(),
        401
    );
    assert_eq!(app.get_as("/v1/account/me", &token).await.status(), 200);
    assert_eq!(app.get("/v1/admin/accounts/nope").await.status(), 401);

    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    for line in [
        r#"roster_registrations_total{kind="self",outcome="created"} 1"#,
        r#"roster_registrations_total{kind="self",outcome="email_taken"} 1"#,
        r#"roster_logins_total{outcome="succeeded"} 1"#,
        r#"roster_logins_total{outcome="invalid_credentials"} 1"#,
        r#"roster_http_requests_total{method="GET",route="/v1/account/me",status="200"} 1"#,
        r#"roster_http_requests_total{method="GET",route="/v1/admin/accounts/{id}",status="401"} 1"#,
        "roster_active_sessions 1",
        "roster_password_hash_queue_depth 0",
        r#"roster_db_pool_connections{state="max"} 8"#,
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    assert!(text.contains(
        r#"roster_http_request_duration_seconds_bucket{method="POST",route="/v1/auth/login""#
    ));
    assert!(!text.contains(PASSWORD) && !text.contains(&token));
}

async fn metrics_follow_their_flag(db: Db) {
    let options = AppOptions {
        features: Some("disabledFeatures = [\n    metrics\n]\n".into()),
        ..AppOptions::default()
    };
    let Some(app) = spawn_app_with(db, options).await else {
        return;
    };
    assert_eq!(app.get("/metrics").await.status(), 404);
}
