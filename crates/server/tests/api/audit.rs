//! The audit trail: every security-relevant change is recorded (who, what, target, when,
//! from where), listed newest first to holders of `audit-read`, and never carries a secret.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{
    AppOptions, Db, PASSWORD, TestApp, assert_problem, eventually, spawn_app, spawn_app_with,
};
use crate::on_both_databases;

on_both_databases!(
    a_scenario_is_recorded_newest_first_without_secrets,
    audit_events_filter_by_actor_and_action,
    audit_events_are_paginated,
    audit_events_need_audit_read,
    a_features_file_edit_is_recorded,
    forwarding_headers_do_not_forge_the_source_ip,
    admin_account_creation_and_session_revocation_are_recorded,
    a_rejected_features_edit_is_recorded,
    an_export_streams_every_event_of_its_range_oldest_first_as_ndjson,
    an_export_refuses_bad_times_and_callers_without_audit_read,
);

const NEW_PASSWORD: &str = "another quite unusual passphrase";
const WRONG_PASSWORD: &str = "definitely not the password";
const RESET_PASSWORD: &str = "an administrator chose this one";

/// What the scenario used that must never show in the audit trail.
struct Scenario {
    root: String,
    user_id: String,
    user_email: String,
    secrets: Vec<String>,
}

/// The actions [`run_scenario`] causes, oldest first (the super admin's creation and login
/// come first, from `superadmin_token`).
const SCENARIO: [&str; 17] = [
    "account.superadmin_created",
    "login.succeeded",
    "account.registered",
    "login.succeeded",
    "login.failed",
    "password.changed",
    "session.logout",
    "role.created",
    "role.updated",
    "grant.created",
    "grant.deleted",
    "role.deleted",
    "api_key.created",
    "api_key.revoked",
    "account.disabled",
    "account.enabled",
    "password.reset",
];

/// Register, log in, fail a login, change the password, log out; then, as root, a role's
/// life, a grant's life, an API key's life, disable, enable and reset the account.
async fn run_scenario(app: &TestApp) -> Scenario {
    let root = app.superadmin_token().await;
    let user = app.new_account("audited").await;
    assert_problem(
        app.login(&user.email, WRONG_PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    let changed = app
        .put_json(
            "/v1/account/me/password",
            &json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
            &user.token,
        )
        .await;
    assert_eq!(changed.status(), 204);
    assert_eq!(
        app.post_as("/v1/auth/logout", &user.token).await.status(),
        204
    );

    app.create_role(&root, "issuer-reader", &[("issuer-read", "allow")])
        .await;
    let updated = app
        .put_json(
            "/v1/admin/roles/issuer-reader",
            &json!({"permissions": [{"action": "issuer-*"}]}),
            &root,
        )
        .await;
    assert_eq!(updated.status(), 200);
    let grant = app.grant_ok(&root, &user.id, "issuer-reader", "acme").await;
    let path = format!("/v1/admin/accounts/{}/grants/{grant}", user.id);
    assert_eq!(app.delete_as(&path, &root).await.status(), 204);
    let deleted = app.delete_as("/v1/admin/roles/issuer-reader", &root).await;
    assert_eq!(deleted.status(), 204);

    let key = app
        .post_json("/v1/admin/api-keys", &json!({"name": "bot"}), Some(&root))
        .await;
    assert_eq!(key.status(), 201);
    let key: Value = key.json().await.unwrap();
    let key_path = format!("/v1/admin/api-keys/{}", key["id"].as_str().unwrap());
    assert_eq!(app.delete_as(&key_path, &root).await.status(), 204);

    for step in ["disable", "enable"] {
        let path = format!("/v1/admin/accounts/{}/{step}", user.id);
        assert_eq!(app.post_as(&path, &root).await.status(), 200);
    }
    let reset = app
        .put_json(
            &format!("/v1/admin/accounts/{}/password", user.id),
            &json!({"new_password": RESET_PASSWORD}),
            &root,
        )
        .await;
    assert_eq!(reset.status(), 204);

    Scenario {
        secrets: vec![
            PASSWORD.to_owned(),
            NEW_PASSWORD.to_owned(),
            WRONG_PASSWORD.to_owned(),
            RESET_PASSWORD.to_owned(),
            root.clone(),
            user.token.clone(),
            key["key"].as_str().unwrap().to_owned(),
        ],
        root,
        user_id: user.id,
        user_email: user.email,
    }
}

/// One page of `GET /v1/admin/audit-events{query}` as `token`.
async fn audit_page(app: &TestApp, token: &str, query: &str) -> Value {
    let response = app
        .get_as(&format!("/v1/admin/audit-events{query}"), token)
        .await;
    assert_eq!(response.status(), 200, "audit events {query}");
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().await.unwrap()
}

fn actions(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

async fn a_scenario_is_recorded_newest_first_without_secrets(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let scenario = run_scenario(&app).await;
    let response = app
        .get_as("/v1/admin/audit-events?limit=200", &scenario.root)
        .await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    for secret in &scenario.secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret is in the audit trail: {text}"
        );
    }
    let page: Value = serde_json::from_str(&text).unwrap();
    let mut expected = SCENARIO.to_vec();
    expected.reverse();
    assert_eq!(actions(&page), expected, "{page}");
    assert_eq!(page["next_cursor"], Value::Null);

    // Who, what, target, when, from where.
    let newest = &page["items"][0];
    let root_actor = page["items"][16]["target"].as_str().unwrap();
    assert_eq!(newest["action"], "password.reset");
    assert_eq!(newest["actor"], root_actor, "{page}");
    assert_eq!(newest["target"], format!("account:{}", scenario.user_id));
    assert_eq!(newest["source_ip"], "127.0.0.1");
    assert!(newest["id"].is_string());
    assert!(
        chrono::DateTime::parse_from_rfc3339(newest["at"].as_str().unwrap()).is_ok(),
        "{newest}"
    );
    let registered = &page["items"][14];
    assert_eq!(registered["action"], "account.registered");
    assert_eq!(registered["actor"], format!("account:{}", scenario.user_id));
    let failed = &page["items"][12];
    assert_eq!(failed["action"], "login.failed");
    assert_eq!(failed["actor"], Value::Null);
    assert_eq!(
        failed["target"],
        format!("email:{}", scenario.user_email.to_lowercase())
    );
    let role_created = &page["items"][9];
    assert_eq!(role_created["target"], "role:issuer-reader");
    assert!(
        role_created["detail"]
            .as_str()
            .unwrap()
            .contains("issuer-read"),
        "{role_created}"
    );
}

async fn audit_events_filter_by_actor_and_action(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let scenario = run_scenario(&app).await;
    let actor = format!("account:{}", scenario.user_id);
    let page = audit_page(&app, &scenario.root, &format!("?actor={actor}")).await;
    assert_eq!(
        actions(&page),
        [
            "session.logout",
            "password.changed",
            "login.succeeded",
            "account.registered",
        ],
        "{page}"
    );
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] == actor.as_str())
    );

    let page = audit_page(&app, &scenario.root, "?action=login.succeeded").await;
    assert_eq!(actions(&page), ["login.succeeded", "login.succeeded"]);
    let page = audit_page(
        &app,
        &scenario.root,
        &format!("?action=login.succeeded&actor={actor}"),
    )
    .await;
    assert_eq!(actions(&page), ["login.succeeded"]);
    let page = audit_page(&app, &scenario.root, "?actor=account:nobody").await;
    assert_eq!(page["items"], json!([]));

    let problem = assert_problem(
        app.get_as("/v1/admin/audit-events?action=login.maybe", &scenario.root)
            .await,
        400,
        "invalid_query",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("action"),
        "{problem}"
    );
}

async fn audit_events_are_paginated(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let scenario = run_scenario(&app).await;
    let all = audit_page(&app, &scenario.root, "?limit=200").await;
    let mut seen: Vec<Value> = Vec::new();
    let mut query = "?limit=5".to_owned();
    loop {
        let page = audit_page(&app, &scenario.root, &query).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 5, "{page}");
        seen.extend(items.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=5&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(Value::Array(seen), all["items"]);

    // Filters and the cursor combine.
    let first = audit_page(&app, &scenario.root, "?action=login.succeeded&limit=1").await;
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = audit_page(
        &app,
        &scenario.root,
        &format!("?action=login.succeeded&limit=1&cursor={cursor}"),
    )
    .await;
    assert_eq!(actions(&second), ["login.succeeded"]);
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    assert_eq!(second["next_cursor"], Value::Null);

    for bad in ["limit=0", "limit=201", "cursor=zzz"] {
        assert_problem(
            app.get_as(&format!("/v1/admin/audit-events?{bad}"), &scenario.root)
                .await,
            400,
            "invalid_query",
        )
        .await;
    }
}

async fn audit_events_need_audit_read(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let nobody = app.new_account("nobody").await;
    assert_problem(
        app.get_as("/v1/admin/audit-events", &nobody.token).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get("/v1/admin/audit-events").await,
        401,
        "unauthenticated",
    )
    .await;

    app.create_role(&root, "auditor", &[("audit-read", "allow")])
        .await;
    let scoped = app.new_account("scoped").await;
    app.grant_ok(&root, &scoped.id, "auditor", "acme").await;
    assert_problem(
        app.get_as("/v1/admin/audit-events", &scoped.token).await,
        403,
        "forbidden",
    )
    .await;
    let auditor = app.new_account("auditor").await;
    app.grant_ok(&root, &auditor.id, "auditor", "*").await;
    let page = audit_page(&app, &auditor.token, "").await;
    assert_eq!(actions(&page)[0], "grant.created");
}

async fn a_features_file_edit_is_recorded(db: Db) {
    let on = "enabledFeatures = [\n]\ndisabledFeatures = [\n]\n";
    let off = "enabledFeatures = [\n]\ndisabledFeatures = [\n    account-registration\n]\n";
    let Some(app) = spawn_app_with(
        db,
        AppOptions {
            features: Some(on.into()),
            ..AppOptions::default()
        },
    )
    .await
    else {
        return;
    };
    let root = app.superadmin_token().await;
    app.write_features(off);
    let reloads = || async {
        audit_page(&app, &root, "?action=features.reloaded").await["items"]
            .as_array()
            .unwrap()
            .clone()
    };
    let recorded = eventually(Duration::from_secs(3), || async {
        !reloads().await.is_empty()
    })
    .await;
    assert!(recorded.is_some(), "no features.reloaded event");
    let event = &reloads().await[0];
    assert_eq!(event["actor"], Value::Null);
    assert!(
        event["detail"]
            .as_str()
            .unwrap()
            .contains("account-registration=off"),
        "{event}"
    );
    assert!(
        event["target"].as_str().unwrap().starts_with("file:"),
        "{event}"
    );
}

/// The audit trail records the TCP peer: a client claiming another address in
/// `X-Forwarded-For`, `Forwarded` or `X-Real-IP` is recorded from where it really is, for an
/// anonymous event (a failed login) and an authenticated one (a role's creation).
async fn forwarding_headers_do_not_forge_the_source_ip(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let claimed = ["203.0.113.9", "198.51.100.9", "192.0.2.9"];
    let forged = |request: reqwest::RequestBuilder| {
        request
            .header("x-forwarded-for", claimed[0])
            .header("forwarded", format!("for={}", claimed[1]))
            .header("x-real-ip", claimed[2])
    };
    let login = forged(app.client.post(app.url("/v1/auth/login")))
        .json(&json!({"email": "nobody@example.com", "password": WRONG_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_problem(login, 401, "invalid_credentials").await;
    let role = forged(app.client.post(app.url("/v1/admin/roles")))
        .bearer_auth(&root)
        .json(&json!({"name": "forwarded", "permissions": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(role.status(), 201);

    for action in ["login.failed", "role.created"] {
        let page = audit_page(&app, &root, &format!("?action={action}")).await;
        let event = &page["items"][0];
        assert_eq!(event["action"], action, "{page}");
        assert_eq!(event["source_ip"], "127.0.0.1", "{event}");
        for address in claimed {
            assert!(!event.to_string().contains(address), "{event}");
        }
    }
}

/// Two actions the scenario does not cause: an administrator creating an account
/// (`account.created`, with the grants given) and a session revoked from the caller's
/// session list (`session.revoked`), each with its actor and target.
async fn admin_account_creation_and_session_revocation_are_recorded(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    app.create_role(&root, "viewer", &[("doc-read", "allow")])
        .await;
    let created = app
        .post_json(
            "/v1/admin/account/register",
            &json!({"email": crate::helpers::unique_email("made"), "password": PASSWORD,
                    "grants": [{"role": "viewer", "scope": "acme"}]}),
            Some(&root),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let me: Value = app
        .get_as("/v1/account/me", &root)
        .await
        .json()
        .await
        .unwrap();
    let root_actor = format!("account:{}", me["account"]["id"].as_str().unwrap());
    let page = audit_page(&app, &root, "?action=account.created").await;
    let event = &page["items"][0];
    assert_eq!(event["actor"], root_actor.as_str(), "{page}");
    assert_eq!(
        event["target"],
        format!("account:{}", created["id"].as_str().unwrap()),
        "{event}"
    );
    assert!(
        event["detail"].as_str().unwrap().contains("viewer"),
        "{event}"
    );

    let user = app.new_account("revoker").await;
    let other = app.login_token(&user.email, PASSWORD).await;
    let sessions: Value = app
        .get_as("/v1/account/me/sessions", &user.token)
        .await
        .json()
        .await
        .unwrap();
    let other_id = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = app
        .delete_as(&format!("/v1/account/me/sessions/{other_id}"), &user.token)
        .await;
    assert_eq!(revoked.status(), 204);
    let page = audit_page(&app, &root, "?action=session.revoked").await;
    let event = &page["items"][0];
    assert_eq!(event["actor"], format!("account:{}", user.id), "{page}");
    assert_eq!(event["target"], format!("session:{other_id}"), "{event}");
    assert!(!event.to_string().contains(&other), "{event}");
}

/// A broken edit of the features file is recorded as `features.rejected` by no actor, with
/// the file as target and the reason (naming the line) as detail.
async fn a_rejected_features_edit_is_recorded(db: Db) {
    let Some(app) = spawn_app_with(
        db,
        AppOptions {
            features: Some("enabledFeatures = [\n]\n".into()),
            ..AppOptions::default()
        },
    )
    .await
    else {
        return;
    };
    let root = app.superadmin_token().await;
    app.write_features("enabledFeatures = [\n    no-such-feature\n]\n");
    let rejections = || async {
        audit_page(&app, &root, "?action=features.rejected").await["items"]
            .as_array()
            .unwrap()
            .clone()
    };
    let recorded = eventually(Duration::from_secs(3), || async {
        !rejections().await.is_empty()
    })
    .await;
    assert!(recorded.is_some(), "no features.rejected event");
    let event = &rejections().await[0];
    assert_eq!(event["actor"], Value::Null, "{event}");
    assert!(
        event["target"].as_str().unwrap().starts_with("file:"),
        "{event}"
    );
    let detail = event["detail"].as_str().unwrap();
    assert!(
        detail.contains("no-such-feature") && detail.contains("line 2"),
        "{event}"
    );
}

/// Writes `count` `login.failed` events recorded `age` ago, a millisecond apart, with details
/// `bulk 0`, `bulk 1`, ... straight into the database (an export of many pages without
/// registering a thousand accounts).
fn insert_old_events(app: &TestApp, count: usize, age: chrono::Duration) {
    use diesel::sql_types::{Text, Timestamp};
    use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
    let start = (chrono::Utc::now() - age).naive_utc();
    let rows = (0..count).map(|n| {
        (
            uuid::Uuid::now_v7().to_string(),
            start + chrono::Duration::milliseconds(i64::try_from(n).unwrap()),
            format!("bulk {n}"),
        )
    });
    // The same inserts on either backend; only the placeholders differ.
    macro_rules! insert_all {
        ($conn:expr, $sql:expr) => {
            $conn
                .transaction(|conn| {
                    for (id, at, detail) in rows {
                        diesel::sql_query($sql)
                            .bind::<Text, _>(id)
                            .bind::<Timestamp, _>(at)
                            .bind::<Text, _>(detail)
                            .execute(conn)?;
                    }
                    diesel::QueryResult::Ok(())
                })
                .unwrap()
        };
    }
    if let Some(path) = app.database_url.strip_prefix("sqlite://") {
        let mut conn = SqliteConnection::establish(path).unwrap();
        diesel::sql_query("PRAGMA busy_timeout = 5000")
            .execute(&mut conn)
            .unwrap();
        insert_all!(
            conn,
            "INSERT INTO audit_events (id, at, action, detail) VALUES (?, ?, 'login.failed', ?)"
        );
    } else {
        let mut conn = PgConnection::establish(&app.database_url).unwrap();
        insert_all!(
            conn,
            "INSERT INTO audit_events (id, at, action, detail) VALUES ($1, $2, 'login.failed', $3)"
        );
    }
}

/// `GET /v1/admin/audit-events/export{query}` as `token`: the response, checked to be NDJSON
/// that is not stored, and its lines.
async fn export(app: &TestApp, query: &str, token: &str) -> Vec<Value> {
    let response = app
        .get_as(&format!("/v1/admin/audit-events/export{query}"), token)
        .await;
    assert_eq!(response.status(), 200, "{query}");
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = response.text().await.unwrap();
    assert!(
        body.is_empty() || body.ends_with('\n'),
        "every line ends: {body:?}"
    );
    body.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

fn bulk_details(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|line| line["detail"].as_str())
        .filter(|detail| detail.starts_with("bulk "))
        .map(str::to_owned)
        .collect()
}

/// More events than three pages of the stream, oldest first, each line a list item's shape;
/// `since` and `until` cut the range.
async fn an_export_streams_every_event_of_its_range_oldest_first_as_ndjson(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    insert_old_events(&app, 1234, chrono::Duration::days(2));
    let _ = app.new_account("recent").await;

    let everything = export(&app, "", &root).await;
    let ids: Vec<&str> = everything
        .iter()
        .map(|line| line["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|pair| pair[0] < pair[1]),
        "oldest first, each once"
    );
    let expected: Vec<String> = (0..1234).map(|n| format!("bulk {n}")).collect();
    assert_eq!(bulk_details(&everything), expected, "every event, in order");
    assert!(
        everything
            .iter()
            .any(|line| line["action"] == "account.registered"),
        "the recent events too"
    );
    let listed = app.get_as("/v1/admin/audit-events?limit=1", &root).await;
    let newest: Value = listed.json().await.unwrap();
    assert_eq!(
        everything.last().unwrap(),
        &newest["items"][0],
        "the list's item shape"
    );

    let day_ago = (chrono::Utc::now() - chrono::Duration::days(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let older = export(&app, &format!("?until={day_ago}"), &root).await;
    assert_eq!(bulk_details(&older), expected);
    assert_eq!(older.len(), 1234, "nothing recent before `until`");
    let newer = export(&app, &format!("?since={day_ago}"), &root).await;
    assert!(bulk_details(&newer).is_empty());
    assert_eq!(newer.len(), everything.len() - 1234);
    let future = export(&app, "?since=2999-01-01T00:00:00Z", &root).await;
    assert!(future.is_empty());
}

async fn an_export_refuses_bad_times_and_callers_without_audit_read(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let member = app.new_account("member").await;
    let refused = app
        .get_as("/v1/admin/audit-events/export", &member.token)
        .await;
    assert_problem(refused, 403, "forbidden").await;
    let bad = app
        .get_as("/v1/admin/audit-events/export?since=yesterday", &root)
        .await;
    let problem = assert_problem(bad, 400, "invalid_query").await;
    assert_eq!(problem["errors"][0]["field"], "since", "{problem}");
}
