use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{
    AppOptions, Db, PASSWORD, TestApp, assert_problem, spawn_app, spawn_app_with, unique_email,
};
use crate::on_both_databases;

on_both_databases!(
    logout_revokes_only_that_session,
    sessions_are_listed_and_revocable,
    sessions_show_the_device_and_address_they_were_opened_from,
    password_change_revokes_other_sessions_and_the_old_password,
    idle_sessions_expire_but_active_ones_live,
    sessions_expire_at_their_absolute_lifetime,
    the_cleanup_job_deletes_dead_sessions_and_keeps_live_ones,
);

async fn registered(app: &TestApp) -> String {
    let email = unique_email("sess");
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
    email
}

async fn logout_revokes_only_that_session(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let email = registered(&app).await;
    let first = app.login_token(&email, PASSWORD).await;
    let second = app.login_token(&email, PASSWORD).await;

    let me = app.get_as("/v1/account/me", &first).await;
    assert_eq!(me.status(), 200);
    assert_eq!(me.headers()["cache-control"], "no-store");
    let body: Value = me.json().await.unwrap();
    assert_eq!(body["account"]["email"], email);
    assert_eq!(body["grants"], json!([]));

    let logout = app.post_as("/v1/auth/logout", &first).await;
    assert_eq!(logout.status(), 204);
    assert_problem(
        app.get_as("/v1/account/me", &first).await,
        401,
        "unauthenticated",
    )
    .await;
    assert_eq!(app.get_as("/v1/account/me", &second).await.status(), 200);
    assert_problem(
        app.client
            .post(app.url("/v1/auth/logout"))
            .send()
            .await
            .unwrap(),
        401,
        "unauthenticated",
    )
    .await;
}

async fn sessions_are_listed_and_revocable(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let email = registered(&app).await;
    let first = app.login_token(&email, PASSWORD).await;
    let second = app.login_token(&email, PASSWORD).await;

    let list: Value = app
        .get_as("/v1/account/me/sessions", &first)
        .await
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);
    for field in ["id", "created_at", "last_seen_at", "expires_at"] {
        assert!(items[0][field].is_string(), "{field}");
    }
    let other = items.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let revoke = app
        .delete_as(&format!("/v1/account/me/sessions/{other}"), &first)
        .await;
    assert_eq!(revoke.status(), 204);
    assert_problem(
        app.get_as("/v1/account/me", &second).await,
        401,
        "unauthenticated",
    )
    .await;
    let again = app
        .delete_as(&format!("/v1/account/me/sessions/{other}"), &first)
        .await;
    assert_problem(again, 404, "not_found").await;

    // Another account's session is not yours to revoke.
    let stranger = registered(&app).await;
    let stranger_token = app.login_token(&stranger, PASSWORD).await;
    let theirs: Value = app
        .get_as("/v1/account/me/sessions", &stranger_token)
        .await
        .json()
        .await
        .unwrap();
    let their_id = theirs["items"][0]["id"].as_str().unwrap().to_owned();
    let attempt = app
        .delete_as(&format!("/v1/account/me/sessions/{their_id}"), &first)
        .await;
    assert_problem(attempt, 404, "not_found").await;
    assert_eq!(
        app.get_as("/v1/account/me", &stranger_token).await.status(),
        200
    );
}

/// A login records the client's `User-Agent` (cleaned: no control or invisible characters, at
/// most 200 characters) and address, and the owner's list of sessions shows them; a client
/// that sends no `User-Agent` shows null.
async fn sessions_show_the_device_and_address_they_were_opened_from(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let email = registered(&app).await;
    let browser = login_with_user_agent(
        &app,
        &email,
        Some(b"Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"),
    )
    .await;
    // A tab and an obs-text byte (not UTF-8) are header bytes a client may send.
    let long = [b"Tool\t/1.0 \xff".as_slice(), &[b'x'; 300]].concat();
    let script = login_with_user_agent(&app, &email, Some(&long)).await;
    let bare = login_with_user_agent(&app, &email, None).await;

    let list: Value = app
        .get_as("/v1/account/me/sessions", &browser)
        .await
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{list}");
    // Newest first: bare, script, browser (the current one).
    assert_eq!(items[2]["current"], true, "{list}");
    assert_eq!(
        items[2]["user_agent"],
        "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"
    );
    let cleaned = items[1]["user_agent"].as_str().unwrap();
    assert!(cleaned.starts_with("Tool/1.0 \u{fffd}xxx"), "{cleaned:?}");
    assert_eq!(cleaned.chars().count(), 200);
    assert_eq!(items[0]["user_agent"], Value::Null, "{list}");
    for item in items {
        assert_eq!(item["source_ip"], "127.0.0.1", "{list}");
    }
    for token in [&script, &bare] {
        assert_eq!(app.get_as("/v1/account/me", token).await.status(), 200);
    }
}

/// Logs in sending `user_agent` as the `User-Agent` header (none for `None`); the token.
async fn login_with_user_agent(app: &TestApp, email: &str, user_agent: Option<&[u8]>) -> String {
    let mut request = app
        .client
        .post(app.url("/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}));
    if let Some(user_agent) = user_agent {
        let value = reqwest::header::HeaderValue::from_bytes(user_agent).unwrap();
        request = request.header(reqwest::header::USER_AGENT, value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

async fn password_change_revokes_other_sessions_and_the_old_password(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let email = registered(&app).await;
    let current = app.login_token(&email, PASSWORD).await;
    let other = app.login_token(&email, PASSWORD).await;
    let new_password = "an entirely different passphrase";
    let change = |current_password: &str, new_password: &str| {
        app.client
            .put(app.url("/v1/account/me/password"))
            .bearer_auth(&current)
            .json(&json!({"current_password": current_password, "new_password": new_password}))
            .send()
    };

    let wrong = assert_problem(
        change("not my password at all", new_password)
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(wrong["errors"][0]["field"], "current_password");
    let weak = assert_problem(
        change(PASSWORD, "short").await.unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(weak["errors"][0]["field"], "new_password");

    assert_eq!(change(PASSWORD, new_password).await.unwrap().status(), 204);
    assert_eq!(
        app.get_as("/v1/account/me", &current).await.status(),
        200,
        "the calling session stays"
    );
    assert_problem(
        app.get_as("/v1/account/me", &other).await,
        401,
        "unauthenticated",
    )
    .await;
    let old = app.login(&email, PASSWORD).await;
    assert_problem(old, 401, "invalid_credentials").await;
    app.login_token(&email, new_password).await;
}

/// Idle expiry without racing the clock: with a 1 h idle timeout, both sessions are moved
/// 40 minutes into the past, one is used, and both are moved 40 minutes back again. The one
/// used in between was touched by that use (40 minutes idle) and lives; the other has sat
/// idle 80 minutes and is refused. Every step has 20 minutes of margin.
async fn idle_sessions_expire_but_active_ones_live(db: Db) {
    let options = AppOptions {
        env: vec![
            ("ROSTER__SESSIONS__IDLE_TIMEOUT".into(), "1h".into()),
            ("ROSTER__SESSIONS__TTL".into(), "12h".into()),
        ],
        ..AppOptions::default()
    };
    let Some(app) = spawn_app_with(db, options).await else {
        return;
    };
    let forty_minutes = Duration::from_mins(40);
    let email = registered(&app).await;
    let idle = app.login_token(&email, PASSWORD).await;
    let active = app.login_token(&email, PASSWORD).await;
    assert_eq!(app.get_as("/v1/account/me", &idle).await.status(), 200);

    app.age_sessions(forty_minutes);
    assert_eq!(
        app.get_as("/v1/account/me", &active).await.status(),
        200,
        "a session idle for 40 minutes of 60 expired"
    );
    app.age_sessions(forty_minutes);
    assert_eq!(
        app.get_as("/v1/account/me", &active).await.status(),
        200,
        "the session used 40 minutes ago expired: its use was not recorded"
    );
    assert_problem(
        app.get_as("/v1/account/me", &idle).await,
        401,
        "unauthenticated",
    )
    .await;
}

async fn sessions_expire_at_their_absolute_lifetime(db: Db) {
    let options = AppOptions {
        env: vec![("ROSTER__SESSIONS__TTL".into(), "2s".into())],
        ..AppOptions::default()
    };
    let Some(app) = spawn_app_with(db, options).await else {
        return;
    };
    let email = registered(&app).await;
    let token = app.login_token(&email, PASSWORD).await;
    assert_eq!(app.get_as("/v1/account/me", &token).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_problem(
        app.get_as("/v1/account/me", &token).await,
        401,
        "unauthenticated",
    )
    .await;
}

/// The clean-up job (`Roster::clean_up_sessions`, which the server runs periodically) deletes
/// a revoked, an expired and an idle session, each dead for that one reason, and keeps the
/// live one. Time passes by moving the stored sessions into the past (see `age_sessions`).
async fn the_cleanup_job_deletes_dead_sessions_and_keeps_live_ones(db: Db) {
    const LIFETIMES: [(&str, &str); 2] = [
        ("ROSTER__SESSIONS__TTL", "2h"),
        ("ROSTER__SESSIONS__IDLE_TIMEOUT", "1h"),
    ];
    let options = AppOptions {
        env: LIFETIMES
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..AppOptions::default()
    };
    let Some(app) = spawn_app_with(db, options).await else {
        return;
    };
    let email = registered(&app).await;
    let me = |token: String| {
        let app = &app;
        async move { app.get_as("/v1/account/me", &token).await.status() }
    };
    // Expired, never idle: used every 50 minutes until 130 minutes after its creation.
    let expired = app.login_token(&email, PASSWORD).await;
    app.age_sessions(Duration::from_mins(50));
    assert_eq!(me(expired.clone()).await, 200);
    // Idle, not expired: unused for its last 80 minutes, 80 minutes old.
    let idle = app.login_token(&email, PASSWORD).await;
    app.age_sessions(Duration::from_mins(50));
    assert_eq!(me(expired.clone()).await, 200);
    app.age_sessions(Duration::from_mins(30));
    // Revoked, brand new.
    let revoked = app.login_token(&email, PASSWORD).await;
    assert_eq!(app.post_as("/v1/auth/logout", &revoked).await.status(), 204);
    let live = app.login_token(&email, PASSWORD).await;
    for dead in [&expired, &idle, &revoked] {
        assert_eq!(me(dead.clone()).await, 401);
    }
    assert_eq!(me(live.clone()).await, 200);
    assert_eq!(app.session_rows(), 4);

    let job = app.components(&LIFETIMES).roster;
    assert_eq!(
        job.clean_up_sessions().await.unwrap(),
        3,
        "dead sessions deleted"
    );
    assert_eq!(app.session_rows(), 1);
    assert_eq!(me(live).await, 200, "the live session was kept");
    assert_eq!(job.clean_up_sessions().await.unwrap(), 0);
}
