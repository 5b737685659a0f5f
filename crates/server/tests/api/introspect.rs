//! `POST /v1/auth/introspect`: a service's API key holding `token-introspect` on `*` asks about
//! the tokens presented to it. A usable token comes back with its principal, grants (with
//! each role's rules), grants version and expiry, enough to decide locally with
//! `roster-domain` exactly as `POST /v1/authz/check` decides; anything else is exactly
//! `{"active": false}`. Asking keeps no session alive, and the answers are counted in metrics.

use std::sync::Arc;
use std::time::Duration;

use roster_domain::{
    AccountId, Action, ActionPattern, ApiKeyId, Grant, GrantId, Permission, Principal, PrincipalId,
    RoleName, ScopePath,
};
use serde_json::{Value, json};

use crate::helpers::{
    AppOptions, Db, PASSWORD, TestApp, assert_problem, captured_logs, eventually, spawn_app,
    spawn_app_with, unique_email,
};
use crate::on_both_databases;

on_both_databases!(
    a_session_is_active_with_its_account_grants_version_and_expiry,
    an_api_key_is_active_with_its_own_grants_and_expiry,
    every_unusable_token_gets_the_same_inactive_answer,
    only_holders_of_token_introspect_on_the_root_may_ask,
    asking_about_a_session_does_not_keep_it_alive,
    introspections_are_counted_in_metrics,
    local_evaluation_of_the_answer_matches_the_check_endpoint,
    a_remembered_service_key_stops_at_once_when_revoked_or_stripped_here,
    another_node_forgets_a_revoked_service_key_within_a_second,
);

/// The exact body of every inactive answer.
const INACTIVE: &str = r#"{"active":false}"#;

/// Creates the role `introspector` (`token-introspect`) and an API key holding it on `*`, as
/// the super admin `root`; returns the key.
async fn service_key(app: &TestApp, root: &str) -> String {
    app.create_role(root, "introspector", &[("token-introspect", "allow")])
        .await;
    let created = create_key(
        app,
        root,
        &json!({"name": "resource-server", "grants": [{"role": "introspector", "scope": "*"}]}),
    )
    .await;
    created["key"].as_str().unwrap().to_owned()
}

async fn create_key(app: &TestApp, root: &str, body: &Value) -> Value {
    let response = app.post_json("/v1/admin/api-keys", body, Some(root)).await;
    assert_eq!(response.status(), 201, "key {body}");
    response.json().await.unwrap()
}

/// `POST /v1/auth/introspect` as `caller` (none: no bearer) about `token`.
async fn ask(app: &TestApp, caller: Option<&str>, token: &str) -> reqwest::Response {
    app.post_json("/v1/auth/introspect", &json!({"token": token}), caller)
        .await
}

/// Introspects `token` as `caller`, expecting 200 with `Cache-Control: no-store`; the body.
async fn introspect(app: &TestApp, caller: &str, token: &str) -> Value {
    let response = ask(app, Some(caller), token).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().await.unwrap()
}

/// Introspects `token` as `caller`, expecting exactly the inactive body.
async fn assert_inactive(app: &TestApp, caller: &str, token: &str, why: &str) {
    let response = ask(app, Some(caller), token).await;
    assert_eq!(response.status(), 200, "{why}");
    assert_eq!(response.headers()["cache-control"], "no-store", "{why}");
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "{why}"
    );
    let body = response.bytes().await.unwrap();
    assert_eq!(
        std::str::from_utf8(&body).expect("UTF-8"),
        INACTIVE,
        "{why}: not the one inactive answer, byte for byte"
    );
}

/// Logs in; the whole login answer (token, session id, expiry, account).
async fn login(app: &TestApp, email: &str) -> Value {
    let response = app.login(email, PASSWORD).await;
    assert_eq!(response.status(), 200, "login of {email}");
    response.json().await.unwrap()
}

/// A grant as the tests compare it: role, scope, and its rules as `(action, effect)`.
type GrantSeen = (String, String, Vec<(String, String)>);

/// The grants of an introspection answer, sorted by role.
fn grants_by_role(answer: &Value) -> Vec<GrantSeen> {
    let mut grants: Vec<_> = answer["grants"]
        .as_array()
        .expect("grants")
        .iter()
        .map(|grant| {
            assert!(grant["id"].is_string(), "{grant}");
            let rules = grant["permissions"]
                .as_array()
                .expect("permissions")
                .iter()
                .map(|rule| {
                    (
                        rule["action"].as_str().unwrap().to_owned(),
                        rule["effect"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            (
                grant["role"].as_str().unwrap().to_owned(),
                grant["scope"].as_str().unwrap().to_owned(),
                rules,
            )
        })
        .collect();
    grants.sort();
    grants
}

fn rules(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(action, effect)| ((*action).to_owned(), (*effect).to_owned()))
        .collect()
}

async fn a_session_is_active_with_its_account_grants_version_and_expiry(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let service = service_key(&app, &root).await;
    let email = unique_email("ada");
    let created = app
        .post_json(
            "/v1/admin/account/register",
            &json!({"email": email, "password": PASSWORD, "name": "Ada"}),
            Some(&root),
        )
        .await;
    assert_eq!(created.status(), 201);
    let account_id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.create_role(
        &root,
        "issuer-admin",
        &[("issuer-*", "allow"), ("issuer-key-delete", "deny")],
    )
    .await;
    app.grant_ok(&root, &account_id, "issuer-admin", "acme")
        .await;
    let session = login(&app, &email).await;
    let token = session["token"].as_str().unwrap();

    let answer = introspect(&app, &service, token).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(
        answer["principal"],
        json!({"kind": "account", "id": account_id, "email": email, "name": "Ada",
               "is_superadmin": false})
    );
    assert_eq!(
        grants_by_role(&answer),
        [(
            "issuer-admin".to_owned(),
            "acme".to_owned(),
            rules(&[("issuer-*", "allow"), ("issuer-key-delete", "deny")])
        )]
    );
    assert_eq!(answer["expires_at"], session["expires_at"], "{answer}");
    let first_version = answer["grants_version"].as_i64().expect("a number");
    assert_eq!(
        introspect(&app, &service, token).await["grants_version"],
        first_version,
        "nothing changed, nor did the version"
    );

    // A grant given: the version rises and the grant is there, with its rules.
    app.create_role(&root, "auditor", &[("audit-read", "allow")])
        .await;
    let auditor = app
        .grant_ok(&root, &account_id, "auditor", "acme.berlin")
        .await;
    let answer = introspect(&app, &service, token).await;
    let second_version = answer["grants_version"].as_i64().unwrap();
    assert!(second_version > first_version, "{answer}");
    assert_eq!(
        grants_by_role(&answer),
        [
            (
                "auditor".to_owned(),
                "acme.berlin".to_owned(),
                rules(&[("audit-read", "allow")])
            ),
            (
                "issuer-admin".to_owned(),
                "acme".to_owned(),
                rules(&[("issuer-*", "allow"), ("issuer-key-delete", "deny")])
            ),
        ]
    );
    // A held role's rules replaced: the version rises again, the new rules are there.
    let replaced = app
        .put_json(
            "/v1/admin/roles/auditor",
            &json!({"permissions": [{"action": "audit-*", "effect": "allow"}]}),
            &root,
        )
        .await;
    assert_eq!(replaced.status(), 200);
    let answer = introspect(&app, &service, token).await;
    let third_version = answer["grants_version"].as_i64().unwrap();
    assert!(third_version > second_version, "{answer}");
    assert!(
        grants_by_role(&answer).contains(&(
            "auditor".to_owned(),
            "acme.berlin".to_owned(),
            rules(&[("audit-*", "allow")])
        )),
        "{answer}"
    );
    // A grant taken away: the version rises, the grant is gone.
    let deleted = app
        .delete_as(
            &format!("/v1/admin/accounts/{account_id}/grants/{auditor}"),
            &root,
        )
        .await;
    assert_eq!(deleted.status(), 204);
    let answer = introspect(&app, &service, token).await;
    assert!(answer["grants_version"].as_i64().unwrap() > third_version);
    assert_eq!(grants_by_role(&answer).len(), 1, "{answer}");

    // A super admin's session says so.
    let root_answer = introspect(&app, &service, &root).await;
    assert_eq!(root_answer["principal"]["is_superadmin"], true);
    assert_eq!(root_answer["principal"]["kind"], "account");
}

async fn an_api_key_is_active_with_its_own_grants_and_expiry(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let root_id = app
        .get_as("/v1/account/me", &root)
        .await
        .json::<Value>()
        .await
        .unwrap()["account"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let service = service_key(&app, &root).await;
    app.create_role(&root, "deployer", &[("deploy-*", "allow")])
        .await;
    let issued = create_key(
        &app,
        &root,
        &json!({"name": "ci deploy", "expires_in": "30d",
                "grants": [{"role": "deployer", "scope": "acme.berlin"}]}),
    )
    .await;
    let key = issued["key"].as_str().unwrap();

    let answer = introspect(&app, &service, key).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(
        answer["principal"],
        json!({"kind": "api_key", "id": issued["id"], "name": "ci deploy",
               "created_by": format!("account:{root_id}"), "expires_at": issued["expires_at"]})
    );
    assert!(issued["expires_at"].is_string());
    assert_eq!(answer["expires_at"], issued["expires_at"]);
    assert!(answer["grants_version"].is_i64(), "{answer}");
    assert_eq!(
        grants_by_role(&answer),
        [(
            "deployer".to_owned(),
            "acme.berlin".to_owned(),
            rules(&[("deploy-*", "allow")])
        )]
    );

    // The caller's own key, which never expires, and the root's session as a caller: a super
    // admin may ask too.
    let own = introspect(&app, &service, &service).await;
    assert_eq!(own["active"], true);
    assert_eq!(own["principal"]["name"], "resource-server");
    assert_eq!(own["expires_at"], Value::Null);
    assert_eq!(own["principal"]["expires_at"], Value::Null);
    assert_eq!(
        grants_by_role(&own),
        [(
            "introspector".to_owned(),
            "*".to_owned(),
            rules(&[("token-introspect", "allow")])
        )]
    );
    assert_eq!(introspect(&app, &root, key).await["active"], true);
}

/// Every kind of unusable token, on one app whose sessions live 2 h with a 1 h idle timeout
/// and whose MFA policy covers holders of `mfa-covered`; time passes by moving the stored
/// sessions into the past (`age_sessions`), which the asking API key does not notice.
async fn every_unusable_token_gets_the_same_inactive_answer(db: Db) {
    let options = AppOptions {
        env: [
            ("ROSTER__SESSIONS__TTL", "2h"),
            ("ROSTER__SESSIONS__IDLE_TIMEOUT", "1h"),
            ("ROSTER__MFA__REQUIRED_FOR_ACTIONS", "mfa-covered"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect(),
        ..AppOptions::default()
    };
    let Some(app) = spawn_app_with(db, options).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let service = service_key(&app, &root).await;
    // Each token is asked about right after it became unusable (and, where it was usable
    // before, right before too), so it is inactive for that one reason.
    let active = |token: String| {
        let (app, service) = (&app, &service);
        async move { introspect(app, service, &token).await["active"] == true }
    };

    let member = app.new_account("member").await;
    assert!(active(member.token.clone()).await);
    assert_eq!(
        app.post_as("/v1/auth/logout", &member.token).await.status(),
        204
    );
    assert_inactive(&app, &service, &member.token, "logged out").await;

    let revoked = login(&app, &member.email).await;
    let revoked_token = revoked["token"].as_str().unwrap().to_owned();
    assert!(active(revoked_token.clone()).await);
    let keeper = app.login_token(&member.email, PASSWORD).await;
    let revocation = app
        .delete_as(
            &format!(
                "/v1/account/me/sessions/{}",
                revoked["session_id"].as_str().unwrap()
            ),
            &keeper,
        )
        .await;
    assert_eq!(revocation.status(), 204);
    assert_inactive(&app, &service, &revoked_token, "revoked").await;

    let disabled = app.new_account("disabled").await;
    assert!(active(disabled.token.clone()).await);
    let disabling = app
        .post_as(
            &format!("/v1/admin/accounts/{}/disable", disabled.id),
            &root,
        )
        .await;
    assert_eq!(disabling.status(), 200);
    assert_inactive(&app, &service, &disabled.token, "of a disabled account").await;

    app.create_role(&root, "covered", &[("mfa-covered", "allow")])
        .await;
    let held = app.new_account("held").await;
    assert!(active(held.token.clone()).await);
    app.grant_ok(&root, &held.id, "covered", "acme").await;
    let me: Value = app
        .get_as("/v1/account/me", &held.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["mfa_enrolment_required"], true, "{me}");
    assert_inactive(&app, &service, &held.token, "held back by the MFA policy").await;

    let key = create_key(&app, &root, &json!({"name": "old"})).await;
    let revoked_key = key["key"].as_str().unwrap().to_owned();
    assert!(active(revoked_key.clone()).await);
    let revocation_of_key = app
        .delete_as(
            &format!("/v1/admin/api-keys/{}", key["id"].as_str().unwrap()),
            &root,
        )
        .await;
    assert_eq!(revocation_of_key.status(), 204);
    assert_inactive(&app, &service, &revoked_key, "a revoked key").await;

    let live_key = create_key(&app, &root, &json!({"name": "live"})).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut wrong_secret = live_key.clone();
    wrong_secret.pop();
    wrong_secret.push(if live_key.ends_with('A') { 'B' } else { 'A' });
    assert_inactive(
        &app,
        &service,
        &wrong_secret,
        "a live key's id, a wrong secret",
    )
    .await;
    assert!(active(live_key.clone()).await);

    assert_inactive(
        &app,
        &service,
        &format!("rst_{}", "A".repeat(43)),
        "an unknown session token",
    )
    .await;
    assert_inactive(
        &app,
        &service,
        &format!("rak_{}_{}", uuid::Uuid::now_v7().simple(), "A".repeat(43)),
        "an unknown API key",
    )
    .await;
    let fresh = app.login_token(&member.email, PASSWORD).await;
    for malformed in [
        String::new(),
        " ".to_owned(),
        "not a token".to_owned(),
        "rst_".to_owned(),
        "rst_short".to_owned(),
        "rak_nothex_x".to_owned(),
        "rin_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG".to_owned(),
        "eyJhbGciOiJIUzI1NiJ9.e30.sig".to_owned(),
        format!("Bearer {fresh}"),
        format!("{fresh} "),
    ] {
        assert_inactive(
            &app,
            &service,
            &malformed,
            &format!("malformed {malformed:?}"),
        )
        .await;
    }
    assert!(active(fresh).await);

    // Expired, never idle: used every 50 minutes until 130 minutes after its creation.
    // Idle, not expired: unused for its last 80 minutes, 80 minutes old. (Moving the sessions
    // into the past leaves the asking key alone.)
    let expired = app.login_token(&member.email, PASSWORD).await;
    app.age_sessions(Duration::from_mins(50));
    assert_eq!(app.get_as("/v1/account/me", &expired).await.status(), 200);
    let idle = app.login_token(&member.email, PASSWORD).await;
    app.age_sessions(Duration::from_mins(50));
    assert_eq!(app.get_as("/v1/account/me", &expired).await.status(), 200);
    assert!(active(idle.clone()).await, "50 minutes idle of 60");
    app.age_sessions(Duration::from_mins(30));
    assert_inactive(&app, &service, &expired, "expired").await;
    assert_inactive(&app, &service, &idle, "idle").await;
}

async fn only_holders_of_token_introspect_on_the_root_may_ask(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let service = service_key(&app, &root).await;
    let member = app.new_account("member").await;

    assert_problem(
        ask(&app, Some(&member.token), &service).await,
        403,
        "forbidden",
    )
    .await;
    let below_root = create_key(
        &app,
        &root,
        &json!({"name": "acme only", "grants": [{"role": "introspector", "scope": "acme"}]}),
    )
    .await;
    assert_problem(
        ask(&app, below_root["key"].as_str(), &member.token).await,
        403,
        "forbidden",
    )
    .await;
    app.create_role(
        &root,
        "everything-but",
        &[("all", "allow"), ("token-introspect", "deny")],
    )
    .await;
    let denied = create_key(
        &app,
        &root,
        &json!({"name": "denied", "grants": [{"role": "everything-but", "scope": "*"}]}),
    )
    .await;
    assert_problem(
        ask(&app, denied["key"].as_str(), &member.token).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(ask(&app, None, &member.token).await, 401, "unauthenticated").await;
    assert_problem(
        ask(&app, Some("rst_not-a-token"), &member.token).await,
        401,
        "unauthenticated",
    )
    .await;
    for body in [
        json!({}),
        json!({"token": 7}),
        json!({"token": "x", "hint": "y"}),
    ] {
        assert_problem(
            app.post_json("/v1/auth/introspect", &body, Some(&service))
                .await,
            400,
            "invalid_body",
        )
        .await;
    }

    // A session holding the action may ask as well.
    app.grant_ok(&root, &member.id, "introspector", "*").await;
    assert_eq!(
        introspect(&app, &member.token, &service).await["active"],
        true
    );
}

/// With a 1 h idle timeout, two sessions are moved 40 minutes into the past; one is used,
/// the other is only asked about; both are moved 40 minutes back again. The used one lives
/// (its use was recorded), the one only asked about has sat idle 80 minutes: inactive.
async fn asking_about_a_session_does_not_keep_it_alive(db: Db) {
    let options = AppOptions {
        env: vec![("ROSTER__SESSIONS__IDLE_TIMEOUT".into(), "1h".into())],
        ..AppOptions::default()
    };
    let Some(app) = spawn_app_with(db, options).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let service = service_key(&app, &root).await;
    let email = unique_email("sess");
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
    let asked_about = app.login_token(&email, PASSWORD).await;
    let used = app.login_token(&email, PASSWORD).await;

    app.age_sessions(Duration::from_mins(40));
    assert_eq!(app.get_as("/v1/account/me", &used).await.status(), 200);
    for _ in 0..3 {
        assert_eq!(
            introspect(&app, &service, &asked_about).await["active"],
            true,
            "idle 40 minutes of 60"
        );
    }
    app.age_sessions(Duration::from_mins(40));
    assert_eq!(
        app.get_as("/v1/account/me", &used).await.status(),
        200,
        "the session used 40 minutes ago expired: its use was not recorded"
    );
    assert_inactive(
        &app,
        &service,
        &asked_about,
        "introspection kept an idle session alive",
    )
    .await;
}

async fn introspections_are_counted_in_metrics(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let service = service_key(&app, &root).await;
    let member = app.new_account("member").await;
    for token in [&member.token, &root] {
        assert_eq!(introspect(&app, &service, token).await["active"], true);
    }
    for token in ["", "rst_unknown", &format!("rst_{}", "A".repeat(43))] {
        assert_inactive(&app, &service, token, "counted").await;
    }
    // Refused questions are answered by the problem counters, not as introspections.
    assert_eq!(ask(&app, Some(&member.token), &root).await.status(), 403);

    let text = app.get("/metrics").await.text().await.unwrap();
    for line in [
        r#"roster_introspections_total{result="active"} 2"#,
        r#"roster_introspections_total{result="inactive"} 3"#,
        r#"roster_http_requests_total{method="POST",route="/v1/auth/introspect",status="200"} 5"#,
        r#"roster_http_requests_total{method="POST",route="/v1/auth/introspect",status="403"} 1"#,
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    assert!(!text.contains(&member.token) && !text.contains(&service));
}

/// The level of the `request completed` line logged for the request with id `request_id`.
fn request_line_level(request_id: &str) -> Option<String> {
    captured_logs().lines().find_map(|line| {
        let line: Value = serde_json::from_str(line).ok()?;
        (line["span"]["request_id"] == request_id
            && line["fields"]["message"] == "request completed")
            .then(|| line["level"].as_str().unwrap_or_default().to_owned())
    })
}

/// Services introspect on every request they serve: an answered question (active or not) is
/// counted in metrics and logged at debug only, while a refused one is logged at info like
/// any request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answered_introspections_are_logged_at_debug_and_refusals_at_info() {
    if std::env::var_os("RUST_LOG").is_some() {
        // The captured log's level (debug) would be the variable's instead.
        eprintln!(
            "SKIPPED answered_introspections_are_logged_at_debug_and_refusals_at_info: \
             RUST_LOG is set"
        );
        return;
    }
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let service = service_key(&app, &root).await;
    let member = app.new_account("member").await;
    let marker = uuid::Uuid::now_v7().simple().to_string();
    let cases = [
        (&service, member.token.as_str(), 200, "active", "DEBUG"),
        (&service, "rst_unknown", 200, "inactive", "DEBUG"),
        (&member.token, root.as_str(), 403, "refused", "INFO"),
    ];
    for (caller, token, status, what, _) in cases {
        let response = app
            .client
            .post(app.url("/v1/auth/introspect"))
            .bearer_auth(caller)
            .header("x-request-id", format!("{marker}-{what}"))
            .json(&json!({ "token": token }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{what}");
    }
    let not_json = app
        .client
        .post(app.url("/v1/auth/introspect"))
        .bearer_auth(&service)
        .header("x-request-id", format!("{marker}-not-json"))
        .header("content-type", "text/plain")
        .body(format!(r#"{{"token": "{}"}}"#, member.token))
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 415);
    assert_eq!(
        request_line_level(&format!("{marker}-not-json")).as_deref(),
        Some("INFO"),
        "the line of a question that is not JSON"
    );
    for (_, _, _, what, level) in cases {
        assert_eq!(
            request_line_level(&format!("{marker}-{what}")).as_deref(),
            Some(level),
            "the line of the {what} question"
        );
    }
}

/// The principal a service rebuilds from an active answer, as `roster-domain` evaluates it.
fn principal_from(answer: &Value) -> Principal {
    let principal = &answer["principal"];
    let uuid = principal["id"].as_str().unwrap().parse().unwrap();
    let id = match principal["kind"].as_str().unwrap() {
        "account" => PrincipalId::Account(AccountId::new(uuid)),
        "api_key" => PrincipalId::ApiKey(ApiKeyId::new(uuid)),
        other => panic!("unknown kind {other}"),
    };
    let grants: Vec<Grant> = answer["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|grant| Grant {
            id: GrantId::new(grant["id"].as_str().unwrap().parse().unwrap()),
            role: RoleName::parse(grant["role"].as_str().unwrap()).unwrap(),
            scope: ScopePath::parse(grant["scope"].as_str().unwrap()).unwrap(),
            permissions: grant["permissions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|rule| {
                    let pattern = ActionPattern::parse(rule["action"].as_str().unwrap()).unwrap();
                    match rule["effect"].as_str().unwrap() {
                        "allow" => Permission::allow(pattern),
                        "deny" => Permission::deny(pattern),
                        other => panic!("unknown effect {other}"),
                    }
                })
                .collect(),
        })
        .collect();
    Principal {
        id,
        is_superadmin: principal["is_superadmin"].as_bool().unwrap_or(false),
        grants: Arc::from(grants),
    }
}

/// A service that introspects a token and evaluates locally decides exactly what
/// `POST /v1/authz/check` decides, for an account, an API key and a super admin, over every
/// pair of a few actions and scopes chosen to hit prefixes, denies, wildcard segments,
/// parents and siblings.
async fn local_evaluation_of_the_answer_matches_the_check_endpoint(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let service = service_key(&app, &root).await;
    app.create_role(
        &root,
        "issuer-admin",
        &[("issuer-*", "allow"), ("issuer-key-delete", "deny")],
    )
    .await;
    app.create_role(&root, "tenant-all", &[("all", "allow")])
        .await;
    app.create_role(&root, "no-signing", &[("issuer-sign", "deny")])
        .await;
    app.create_role(&root, "auditor", &[("audit-read", "allow")])
        .await;
    let member = app.new_account("ada").await;
    for (role, scope) in [
        ("issuer-admin", "acme"),
        ("tenant-all", "acme.berlin"),
        ("no-signing", "acme.*.dev"),
        ("auditor", "globex"),
    ] {
        app.grant_ok(&root, &member.id, role, scope).await;
    }
    let key = create_key(
        &app,
        &root,
        &json!({"name": "issuer", "grants": [
            {"role": "issuer-admin", "scope": "acme.paris"},
            {"role": "no-signing", "scope": "acme.paris.dev"},
        ]}),
    )
    .await;
    let key_token = key["key"].as_str().unwrap();

    let actions = [
        "issuer-sign",
        "issuer-key-delete",
        "issuer-",
        "issuer",
        "audit-read",
        "account-read",
        "token-introspect",
    ];
    let scopes = [
        "*",
        "acme",
        "acme.berlin",
        "acme.berlin.dev",
        "acme.paris",
        "acme.paris.dev",
        "acme.paris.dev.x",
        "globex",
        "globex.x",
        "other",
    ];
    let subjects = [
        (member.token.as_str(), json!({"account_id": member.id})),
        (key_token, json!({"api_key_id": key["id"]})),
        (root.as_str(), json!({})),
    ];
    let mut allowed_somewhere = 0;
    for (token, subject) in &subjects {
        let answer = introspect(&app, &service, token).await;
        let principal = principal_from(&answer);
        for action in actions {
            for scope in scopes {
                let local = principal.allows(
                    &Action::parse(action).unwrap(),
                    &ScopePath::parse(scope).unwrap(),
                );
                let mut body = subject.clone();
                body["action"] = json!(action);
                body["scope"] = json!(scope);
                let remote = app.check(&root, &body).await["allowed"].as_bool().unwrap();
                assert_eq!(local, remote, "{body}");
                allowed_somewhere += usize::from(local);
            }
        }
    }
    let pairs = actions.len() * scopes.len();
    assert!(
        allowed_somewhere > pairs && allowed_somewhere < 3 * pairs,
        "the grid decides both ways beyond the super admin: {allowed_somewhere} of {}",
        3 * pairs
    );
}

/// A service key allowed to introspect, created by `root`: its id, its secret and the id of
/// its one grant (`introspector` on `*`; the role must exist).
async fn introspecting_key(app: &TestApp, root: &str, name: &str) -> (String, String, String) {
    let created = create_key(
        app,
        root,
        &json!({"name": name, "grants": [{"role": "introspector", "scope": "*"}]}),
    )
    .await;
    (
        created["id"].as_str().unwrap().to_owned(),
        created["key"].as_str().unwrap().to_owned(),
        created["grants"][0]["id"].as_str().unwrap().to_owned(),
    )
}

/// A node remembers a service key's right to introspect for a second, but a revocation or a
/// withdrawn grant made on the same node ends it before the next question.
async fn a_remembered_service_key_stops_at_once_when_revoked_or_stripped_here(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let _ = service_key(&app, &root).await;
    let member = app.new_account("member").await;
    let (revoked_id, revoked, _) = introspecting_key(&app, &root, "to revoke").await;
    let (stripped_id, stripped, grant) = introspecting_key(&app, &root, "to strip").await;
    for key in [&revoked, &stripped] {
        assert_eq!(introspect(&app, key, &member.token).await["active"], true);
    }

    let response = app
        .delete_as(&format!("/v1/admin/api-keys/{revoked_id}"), &root)
        .await;
    assert_eq!(response.status(), 204);
    assert_problem(
        ask(&app, Some(&revoked), &member.token).await,
        401,
        "unauthenticated",
    )
    .await;

    let response = app
        .delete_as(
            &format!("/v1/admin/api-keys/{stripped_id}/grants/{grant}"),
            &root,
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_problem(
        ask(&app, Some(&stripped), &member.token).await,
        403,
        "forbidden",
    )
    .await;
}

/// On another node, the remembered right ends within its second.
async fn another_node_forgets_a_revoked_service_key_within_a_second(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let _ = service_key(&app, &root).await;
    let member = app.new_account("member").await;
    let (id, key, _) = introspecting_key(&app, &root, "on two nodes").await;
    let sibling = app.start_sibling(&[]).await;
    let ask_sibling = || async {
        reqwest::Client::new()
            .post(format!("{sibling}/v1/auth/introspect"))
            .bearer_auth(&key)
            .json(&json!({"token": member.token}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(ask_sibling().await, 200);
    let response = app
        .delete_as(&format!("/v1/admin/api-keys/{id}"), &root)
        .await;
    assert_eq!(response.status(), 204);
    let refused = eventually(Duration::from_secs(30), || async {
        ask_sibling().await == 401
    })
    .await;
    assert!(
        refused.is_some(),
        "the sibling still lets the revoked key introspect"
    );
}
