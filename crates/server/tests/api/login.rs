use serde_json::Value;

use crate::helpers::{Db, PASSWORD, assert_problem, spawn_app, unique_email};
use crate::on_both_databases;

on_both_databases!(login_returns_a_bearer_session_and_fails_uniformly);

async fn login_returns_a_bearer_session_and_fails_uniformly(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let email = unique_email("Login");
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);

    let response = app.login(&email.to_lowercase(), PASSWORD).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert!(body["token"].as_str().unwrap().starts_with("rst_"));
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["session_id"].is_string() && body["expires_at"].is_string());
    assert_eq!(body["account"]["email"], email);
    let second = app.login_token(&email, PASSWORD).await;
    assert_ne!(
        second,
        body["token"].as_str().unwrap(),
        "a new token on every login"
    );

    let wrong = assert_problem(
        app.login(&email, "wrong password entirely").await,
        401,
        "invalid_credentials",
    )
    .await;
    let unknown = assert_problem(
        app.login(&unique_email("ghost"), PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(
        wrong, unknown,
        "same body for unknown email and wrong password"
    );
}
