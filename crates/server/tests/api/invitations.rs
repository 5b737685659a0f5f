//! Invitations end to end: invite (the email through a real SMTP server, or the `.eml`
//! default), follow the link's token, accept, log in with exactly the invited grants; every
//! error code; revoke, expiry (by moving the row's time, never by sleeping) and re-send; a
//! delegate's limits; no token outside the email.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{
    Db, PASSWORD, TestApp, assert_problem, captured_logs, spawn_app, spawn_app_with, unique_email,
};
use crate::mail::{SmtpSink, free_port, parse, smtp_options, wait_for_files};
use crate::on_both_databases;

const INVITEE_PASSWORD: &str = "marble giraffe lighthouse umbrella";

/// The `rin_` token of the link in an invitation message's text.
fn invitation_token(raw: &[u8]) -> String {
    let received = parse(raw);
    let marker = "/console/invitation#";
    let start = received
        .text
        .find(marker)
        .unwrap_or_else(|| panic!("no invitation link in {}", received.text))
        + marker.len();
    let token: String = received.text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert!(token.starts_with("rin_"), "{token}");
    token
}

/// The token of the newest `.eml` message to `email` (the default when no SMTP server is
/// set), once `count` messages are in the outbox folder. Files are named `<message id>.eml`,
/// and message ids are UUID v7: the newest sorts last.
async fn emailed_token(app: &TestApp, email: &str, count: usize) -> String {
    wait_for_files(&app.outbox_dir(), count).await;
    let mut paths: Vec<_> = std::fs::read_dir(app.outbox_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .rev()
        .find_map(|path| {
            let raw = std::fs::read(&path).unwrap();
            parse(&raw)
                .to
                .eq_ignore_ascii_case(email)
                .then(|| invitation_token(&raw))
        })
        .unwrap_or_else(|| panic!("no message to {email}"))
}

async fn invite(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.post_json("/v1/admin/invitations", body, Some(token))
        .await
}

async fn accept(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/v1/account/invitations/accept",
        &json!({"token": token, "password": password, "name": "Grace Hopper"}),
        None,
    )
    .await
}

/// Moves every invitation's times `days` into the past, on a connection of our own: to the
/// service it is as if that much time had passed.
fn age_invitations(app: &TestApp, days: u64) {
    let columns = ["created_at", "expires_at", "accepted_at", "revoked_at"];
    app.age_rows(
        "invitations",
        &columns,
        Duration::from_secs(days * 24 * 3600),
    );
}

async fn listed(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let response = app
        .get_as(&format!("/v1/admin/invitations{query}"), token)
        .await;
    assert_eq!(response.status(), 200, "list {query}");
    let body: Value = response.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

async fn an_invitation_arrives_by_smtp_and_makes_an_account_with_exactly_its_grants(db: Db) {
    let Some(python) = SmtpSink::available() else {
        return;
    };
    let smtp = SmtpSink::start(python, free_port(), None);
    let mut options = smtp_options(&smtp.url());
    // Neither public registration nor the invitee's domain would let them sign up.
    options.features = Some("disabledFeatures = [ account-registration ]\n".into());
    options.env.push((
        "ROSTER__REGISTRATION__ALLOWED_DOMAINS".into(),
        "corp.test".into(),
    ));
    let Some(app) = spawn_app_with(db, options).await else {
        return;
    };
    let root = app.superadmin_token().await;
    app.create_role(&root, "doc-reader", &[("doc-read", "allow")])
        .await;
    let email = unique_email("grace");
    let response = invite(
        &app,
        &root,
        &json!({"email": email, "name": "Grace", "grants": [{"role": "doc-reader", "scope": "acme"}]}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    assert_eq!(
        location,
        format!("/v1/admin/invitations/{}", created["id"].as_str().unwrap())
    );
    assert_eq!(created["status"], "pending");
    assert_eq!(created["email"], email.as_str());
    assert_eq!(created["name"], "Grace");
    assert_eq!(
        created["grants"],
        json!([{"role": "doc-reader", "scope": "acme"}])
    );
    assert!(
        created["created_by"]
            .as_str()
            .unwrap()
            .starts_with("account:")
    );
    let keys: Vec<&String> = created.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "created_at",
            "created_by",
            "email",
            "expires_at",
            "grants",
            "id",
            "name",
            "status"
        ]
    );

    let raw = smtp.wait_for(1).await;
    let received = parse(&raw[0]);
    assert_eq!(received.to, email);
    assert!(
        received.subject.contains("invited you"),
        "{}",
        received.subject
    );
    let token = invitation_token(&raw[0]);
    assert!(
        received
            .text
            .contains(&format!("/console/invitation#{token}")),
        "{}",
        received.text
    );
    assert_eq!(token.len(), "rin_".len() + 43, "256 random bits, base64url");

    let response = accept(&app, &token, INVITEE_PASSWORD).await;
    assert_eq!(response.status(), 201);
    let account: Value = response.json().await.unwrap();
    assert_eq!(account["email_verified"], true);
    assert_eq!(account["name"], "Grace Hopper");
    let grants = account["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(
        (grants[0]["role"].as_str(), grants[0]["scope"].as_str()),
        (Some("doc-reader"), Some("acme"))
    );

    // The link works once.
    assert_problem(
        accept(&app, &token, INVITEE_PASSWORD).await,
        410,
        "token_invalid",
    )
    .await;

    // Login works, with the invited grants and only those.
    let session = app.login_token(&email, INVITEE_PASSWORD).await;
    assert!(app.allowed(&session, "doc-read", "acme.berlin").await);
    assert!(!app.allowed(&session, "doc-read", "globex").await);
    assert!(!app.allowed(&session, "account-read", "*").await);
    let me: Value = app
        .get_as("/v1/account/me", &session)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["grants"].as_array().unwrap().len(), 1, "{me}");

    let accepted = listed(&app, &root, "?status=accepted").await;
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0]["id"], created["id"]);
    assert!(listed(&app, &root, "?status=pending").await.is_empty());

    // The token went only into the email: not the audit trail, not a response, not the logs.
    let audit = app
        .get_as("/v1/admin/audit-events?limit=200", &root)
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains("invitation.created") && audit.contains("invitation.accepted"));
    let secret = token.strip_prefix("rin_").unwrap();
    assert!(!audit.contains(secret), "audit trail holds the token");
    assert!(!created.to_string().contains(secret));
    assert!(!account.to_string().contains(secret));
    assert!(!captured_logs().contains(secret), "the logs hold the token");
}

async fn each_refusal_has_its_code(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    app.create_role(&root, "viewer", &[("doc-read", "allow")])
        .await;
    let member = app.new_account("member").await;
    let email = unique_email("invitee");

    // Authentication and permission.
    let body = json!({"email": email});
    assert_problem(
        app.post_json("/v1/admin/invitations", &body, None).await,
        401,
        "unauthenticated",
    )
    .await;
    assert_problem(invite(&app, &member.token, &body).await, 403, "forbidden").await;
    assert_problem(
        app.get_as("/v1/admin/invitations", &member.token).await,
        403,
        "forbidden",
    )
    .await;

    // Validation names the field.
    for (body, field) in [
        (json!({"email": "not an email"}), "email"),
        (json!({"email": email, "expires_in": "31d"}), "expires_in"),
        (json!({"email": email, "expires_in": "721h"}), "expires_in"),
        (json!({"email": email, "expires_in": "soon"}), "expires_in"),
        (
            json!({"email": email, "grants": [{"role": "viewer", "scope": "Acme!"}]}),
            "grants[0].scope",
        ),
    ] {
        let problem =
            assert_problem(invite(&app, &root, &body).await, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    assert_problem(
        invite(
            &app,
            &root,
            &json!({"email": email, "grants": [{"role": "nope", "scope": "acme"}]}),
        )
        .await,
        404,
        "role_not_found",
    )
    .await;
    assert_problem(
        invite(&app, &root, &json!({"email": member.email})).await,
        409,
        "email_taken",
    )
    .await;

    // One pending invitation per address (compared normalized).
    assert_eq!(
        invite(&app, &root, &json!({"email": email, "expires_in": "30d"}))
            .await
            .status(),
        201
    );
    assert_problem(
        invite(&app, &root, &json!({"email": email.to_uppercase()})).await,
        409,
        "invitation_pending",
    )
    .await;
    let problem = assert_problem(
        app.get_as("/v1/admin/invitations?status=open", &root).await,
        400,
        "invalid_query",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "status");

    // Accepting: a weak password names `password`; unknown tokens are 410.
    let token = emailed_token(&app, &email, 1).await;
    let problem = assert_problem(
        accept(&app, &token, "short").await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "password");
    let forged = format!("rin_{}", "A".repeat(43));
    assert_problem(
        accept(&app, &forged, INVITEE_PASSWORD).await,
        410,
        "token_invalid",
    )
    .await;
    assert_problem(
        accept(&app, "rpr_nothing", INVITEE_PASSWORD).await,
        410,
        "token_invalid",
    )
    .await;

    // Revoking kills the link; revoking again changes nothing; unknown ids are 404.
    let id = listed(&app, &root, "?status=pending").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/admin/invitations/{id}");
    assert_problem(app.delete_as(&path, &member.token).await, 403, "forbidden").await;
    assert_eq!(app.delete_as(&path, &root).await.status(), 204);
    assert_eq!(app.delete_as(&path, &root).await.status(), 204);
    assert_problem(
        accept(&app, &token, INVITEE_PASSWORD).await,
        410,
        "token_invalid",
    )
    .await;
    assert_eq!(listed(&app, &root, "?status=revoked").await.len(), 1);
    assert_problem(
        app.post_json(&format!("{path}/resend"), &json!({}), Some(&root))
            .await,
        409,
        "invitation_revoked",
    )
    .await;
    let unknown = format!("/v1/admin/invitations/{}", uuid::Uuid::now_v7());
    assert_problem(app.delete_as(&unknown, &root).await, 404, "not_found").await;

    // Only a pending invitation blocks: inviting the address again works, and is accepted.
    assert_eq!(
        invite(&app, &root, &json!({"email": email})).await.status(),
        201
    );
    let token = emailed_token(&app, &email, 2).await;
    assert_eq!(accept(&app, &token, INVITEE_PASSWORD).await.status(), 201);
    let accepted = listed(&app, &root, "?status=accepted").await;
    let accepted_path = format!(
        "/v1/admin/invitations/{}",
        accepted[0]["id"].as_str().unwrap()
    );
    assert_problem(
        app.delete_as(&accepted_path, &root).await,
        409,
        "invitation_accepted",
    )
    .await;
    assert_problem(
        invite(&app, &root, &json!({"email": email})).await,
        409,
        "email_taken",
    )
    .await;
}

async fn an_account_made_meanwhile_takes_the_email(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let email = unique_email("race");
    assert_eq!(
        invite(&app, &root, &json!({"email": email})).await.status(),
        201
    );
    let token = emailed_token(&app, &email, 1).await;
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
    assert_problem(
        accept(&app, &token, INVITEE_PASSWORD).await,
        409,
        "email_taken",
    )
    .await;
    // The invitation stays pending, for an administrator to revoke.
    assert_eq!(listed(&app, &root, "?status=pending").await.len(), 1);
}

async fn an_expired_link_is_dead_until_the_invitation_is_sent_again(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let email = unique_email("late");
    assert_eq!(
        invite(&app, &root, &json!({"email": email})).await.status(),
        201
    );
    let old_token = emailed_token(&app, &email, 1).await;
    age_invitations(&app, 8);

    let expired = listed(&app, &root, "?status=expired").await;
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["status"], "expired");
    assert!(listed(&app, &root, "?status=pending").await.is_empty());
    assert_problem(
        accept(&app, &old_token, INVITEE_PASSWORD).await,
        410,
        "token_invalid",
    )
    .await;

    // An expired invitation no longer blocks the address ...
    let again = invite(&app, &root, &json!({"email": email})).await;
    assert_eq!(again.status(), 201);
    let again: Value = again.json().await.unwrap();
    // ... and the old one cannot be re-sent while the new one is pending.
    let old_id = expired[0]["id"].as_str().unwrap();
    assert_problem(
        app.post_json(
            &format!("/v1/admin/invitations/{old_id}/resend"),
            &json!({}),
            Some(&root),
        )
        .await,
        409,
        "invitation_pending",
    )
    .await;
    let new_id = again["id"].as_str().unwrap();
    assert_eq!(
        app.delete_as(&format!("/v1/admin/invitations/{new_id}"), &root)
            .await
            .status(),
        204
    );

    // Re-sending the expired one: a new link; the old link stays dead.
    let response = app
        .post_json(
            &format!("/v1/admin/invitations/{old_id}/resend"),
            &json!({"expires_in": "2d"}),
            Some(&root),
        )
        .await;
    assert_eq!(response.status(), 200);
    let resent: Value = response.json().await.unwrap();
    assert_eq!(resent["status"], "pending");
    let new_token = emailed_token(&app, &email, 3).await;
    assert_ne!(new_token, old_token);
    assert_problem(
        accept(&app, &old_token, INVITEE_PASSWORD).await,
        410,
        "token_invalid",
    )
    .await;
    assert_eq!(
        accept(&app, &new_token, INVITEE_PASSWORD).await.status(),
        201
    );
    let audit = app
        .get_as("/v1/admin/audit-events?action=invitation.resent", &root)
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains("invitation.resent"), "{audit}");
}

async fn a_delegate_invites_only_with_grants_it_could_give(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    app.create_role(&root, "inviter", &[("account-create", "allow")])
        .await;
    app.create_role(&root, "admin", &[("all", "allow")]).await;
    app.create_role(&root, "viewer", &[("doc-read", "allow")])
        .await;
    let delegate = app.new_account("delegate").await;
    app.grant_ok(&root, &delegate.id, "inviter", "*").await;
    app.grant_ok(&root, &delegate.id, "admin", "acme.berlin")
        .await;

    let outside =
        json!({"email": unique_email("x"), "grants": [{"role": "viewer", "scope": "acme"}]});
    assert_problem(
        invite(&app, &delegate.token, &outside).await,
        403,
        "forbidden",
    )
    .await;
    let inside = json!({"email": unique_email("y"), "grants": [{"role": "viewer", "scope": "acme.berlin.dev"}]});
    assert_eq!(invite(&app, &delegate.token, &inside).await.status(), 201);
    // A role held by an open invitation is in use.
    assert_problem(
        app.delete_as("/v1/admin/roles/viewer", &root).await,
        409,
        "role_in_use",
    )
    .await;
}

/// The longest lifetimes the OpenAPI document's `expires_in` pattern allows are within the
/// 30 days an invitation may last, so data generated from the document is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_longest_lifetimes_the_document_allows_are_accepted() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let root = app.superadmin_token().await;
    for expires_in in ["720h", "30d", "4w", "999m"] {
        let body = json!({"email": unique_email("ceiling"), "expires_in": expires_in});
        assert_eq!(
            invite(&app, &root, &body).await.status(),
            201,
            "{expires_in}"
        );
    }
}

on_both_databases!(
    an_invitation_arrives_by_smtp_and_makes_an_account_with_exactly_its_grants,
    each_refusal_has_its_code,
    an_account_made_meanwhile_takes_the_email,
    an_expired_link_is_dead_until_the_invitation_is_sent_again,
    a_delegate_invites_only_with_grants_it_could_give,
    closed_invitations_are_deleted_thirty_days_after_closing,
);

/// The housekeeping (`Roster::forget_closed_invitations`, which the server runs periodically)
/// deletes an invitation, with its grants, once it has been accepted, revoked or expired for
/// 30 days; an invitation closed more recently stays, and so does the account an accepted one
/// made. Time passes by moving the rows into the past.
async fn closed_invitations_are_deleted_thirty_days_after_closing(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    app.create_role(&root, "reader", &[("doc-read", "allow")])
        .await;
    let grants = json!([{"role": "reader", "scope": "acme"}]);
    let mut ids = Vec::new();
    for (name, expires_in) in [
        ("accepted", "7d"),
        ("revoked", "7d"),
        ("expiring", "1d"),
        ("pending", "30d"),
    ] {
        let email = format!("{name}-{}", unique_email("invitee"));
        let body = json!({"email": email, "grants": grants, "expires_in": expires_in});
        let response = invite(&app, &root, &body).await;
        assert_eq!(response.status(), 201, "{name}");
        let invitation: Value = response.json().await.unwrap();
        ids.push((name, invitation["id"].as_str().unwrap().to_owned(), email));
    }
    let (_, _, accepted_email) = &ids[0];
    let token = emailed_token(&app, accepted_email, 4).await;
    assert_eq!(accept(&app, &token, INVITEE_PASSWORD).await.status(), 201);
    let revoked = &ids[1].1;
    let response = app
        .delete_as(&format!("/v1/admin/invitations/{revoked}"), &root)
        .await;
    assert_eq!(response.status(), 204);
    let housekeeping = app.components(&[]).roster;

    age_invitations(&app, 29);
    assert_eq!(housekeeping.forget_closed_invitations().await.unwrap(), 0);
    assert_eq!(app.count_rows("invitations"), 4);

    age_invitations(&app, 3);
    assert_eq!(
        housekeeping.forget_closed_invitations().await.unwrap(),
        3,
        "accepted, revoked and expired 30 days ago or more"
    );
    assert_eq!(housekeeping.forget_closed_invitations().await.unwrap(), 0);
    for (name, id, _) in &ids {
        let status = app
            .get_as(&format!("/v1/admin/invitations/{id}"), &root)
            .await
            .status();
        let expected = if *name == "pending" { 200 } else { 404 };
        assert_eq!(status, expected, "{name}");
    }
    assert_eq!(
        app.count_rows("invitation_grants"),
        1,
        "the grants went with their invitations"
    );
    app.login_token(accepted_email, INVITEE_PASSWORD).await;
}
