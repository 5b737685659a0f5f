//! Email verification and the enumeration-safe registration, end to end against a real SMTP
//! server (aiosmtpd; skipped with a message when missing, unless `ROSTER_REQUIRE_SMTP=1`):
//! the emailed link is parsed out of the received message and followed.

use serde_json::{Value, json};

use crate::helpers::{
    AppOptions, Db, PASSWORD, TestApp, assert_problem, spawn_app_with, unique_email,
};
use crate::mail::{SmtpSink, free_port, link_token, parse, smtp_options, wait_until_outbox_empty};
use crate::on_both_databases;

on_both_databases!(
    a_verification_link_arrives_by_smtp_and_lets_the_account_log_in_once,
    a_resend_mails_an_unverified_account_only_and_answers_everyone_alike,
    enumeration_safe_registration_answers_new_and_taken_emails_byte_for_byte,
);

/// An app sending through `smtp` with these `registration.*` settings.
async fn spawn(db: Db, smtp: &SmtpSink, registration: &[(&str, &str)]) -> Option<TestApp> {
    let mut options: AppOptions = smtp_options(&smtp.url());
    for (key, value) in registration {
        options.env.push((
            format!("ROSTER__REGISTRATION__{}", key.to_uppercase()),
            (*value).to_owned(),
        ));
    }
    spawn_app_with(db, options).await
}

async fn verify(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/v1/account/verify-email", &json!({ "token": token }), None)
        .await
}

async fn resend(app: &TestApp, email: &str) -> (u16, Vec<u8>) {
    let response = app
        .post_json(
            "/v1/account/verify-email/resend",
            &json!({ "email": email }),
            None,
        )
        .await;
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}

fn verification_token(raw: &[u8]) -> String {
    let received = parse(raw);
    assert_eq!(received.subject, "Confirm your email address for Roster");
    let token = link_token(&received, "verify-email", "rev_");
    assert!(token.len() == 47, "{token}");
    token
}

async fn a_verification_link_arrives_by_smtp_and_lets_the_account_log_in_once(db: Db) {
    let Some(python) = SmtpSink::available() else {
        return;
    };
    let smtp = SmtpSink::start(python, free_port(), None);
    let Some(app) = spawn(db, &smtp, &[("email_verification", "required")]).await else {
        return;
    };
    let email = unique_email("verify");
    let registered = app.register(&email, PASSWORD).await;
    assert_eq!(registered.status(), 201);
    let account: Value = registered.json().await.unwrap();
    assert_eq!(account["email_verified"], false);
    assert_problem(app.login(&email, PASSWORD).await, 403, "email_unverified").await;

    let messages = smtp.wait_for(1).await;
    assert_eq!(parse(&messages[0]).to, email);
    let token = verification_token(&messages[0]);

    // A reset token is not a verification token.
    let foreign = verify(&app, &format!("rpr_{}", &token[4..])).await;
    assert_problem(foreign, 410, "token_invalid").await;

    let verified = verify(&app, &token).await;
    assert_eq!(verified.status(), 200);
    let body: Value = verified.json().await.unwrap();
    assert_eq!(body["id"], account["id"]);
    assert_eq!(body["email_verified"], true);
    app.login_token(&email, PASSWORD).await;

    // Single use; forged and malformed tokens alike.
    assert_problem(verify(&app, &token).await, 410, "token_invalid").await;
    let forged = format!("rev_{}", "A".repeat(43));
    assert_problem(verify(&app, &forged).await, 410, "token_invalid").await;
    assert_problem(verify(&app, "nonsense").await, 410, "token_invalid").await;

    // The audit trail has the event, without the token.
    let admin = app.superadmin_token().await;
    let trail: Value = app
        .get_as(
            "/v1/admin/audit-events?action=account.email_verified",
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    let events = trail["items"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{trail}");
    assert_eq!(
        events[0]["target"],
        format!("account:{}", account["id"].as_str().unwrap())
    );
    assert!(!trail.to_string().contains(&token[4..]));
}

async fn a_resend_mails_an_unverified_account_only_and_answers_everyone_alike(db: Db) {
    let Some(python) = SmtpSink::available() else {
        return;
    };
    let smtp = SmtpSink::start(python, free_port(), None);
    let Some(app) = spawn(db, &smtp, &[("email_verification", "required")]).await else {
        return;
    };
    let email = unique_email("waiting");
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
    let first = verification_token(&smtp.wait_for(1).await[0]);

    let (status, answer) = resend(&app, &email).await;
    assert_eq!(status, 202);
    assert_eq!(
        serde_json::from_slice::<Value>(&answer).unwrap(),
        json!({ "status": "check_your_email" })
    );
    let messages = smtp.wait_for(2).await;
    let second = messages
        .iter()
        .map(|raw| verification_token(raw))
        .find(|token| *token != first)
        .expect("a second, different link");

    // Unknown and verified addresses: the same answer, no mail.
    let admin = app.superadmin_token().await;
    let (verified, _) = created_by_admin(&app, &admin).await;
    for other in [unique_email("nobody"), verified] {
        assert_eq!(resend(&app, &other).await, (202, answer.clone()), "{other}");
    }
    // The newest link works; using it ends the older one.
    assert_eq!(verify(&app, &second).await.status(), 200);
    assert_problem(verify(&app, &first).await, 410, "token_invalid").await;
    // Verified now: a resend sends nothing more.
    assert_eq!(resend(&app, &email).await, (202, answer));
    wait_until_outbox_empty(&app).await;
    assert_eq!(smtp.messages().len(), 2);
}

/// A verified account made by an administrator: its email and id.
async fn created_by_admin(app: &TestApp, admin: &str) -> (String, String) {
    let email = unique_email("verified");
    let response = app
        .post_json(
            "/v1/admin/account/register",
            &json!({ "email": email, "password": PASSWORD }),
            Some(admin),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    (email, body["id"].as_str().unwrap().to_owned())
}

/// The headers a client could tell two answers apart by.
fn telling_headers(response: &reqwest::Response) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "date" | "x-request-id"))
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    headers
}

async fn enumeration_safe_registration_answers_new_and_taken_emails_byte_for_byte(db: Db) {
    let Some(python) = SmtpSink::available() else {
        return;
    };
    let smtp = SmtpSink::start(python, free_port(), None);
    let Some(app) = spawn(db, &smtp, &[("enumeration_safe", "true")]).await else {
        return;
    };
    let admin = app.superadmin_token().await;
    let (owner, owner_id) = created_by_admin(&app, &admin).await;
    let owner_path = format!("/v1/admin/accounts/{owner_id}");
    let owner_token = app.login_token(&owner, PASSWORD).await;
    let before: Value = app.get_as(&owner_path, &admin).await.json().await.unwrap();

    let newcomer = unique_email("newcomer");
    let attacker_password = "another long enough passphrase entirely";
    let fresh = app.register(&newcomer, PASSWORD).await;
    let taken = app.register(&owner, attacker_password).await;
    assert_eq!(fresh.status(), 202);
    assert_eq!(taken.status(), 202);
    assert_eq!(telling_headers(&fresh), telling_headers(&taken));
    let fresh = fresh.bytes().await.unwrap();
    assert_eq!(fresh, taken.bytes().await.unwrap());
    assert_eq!(
        serde_json::from_slice::<Value>(&fresh).unwrap(),
        json!({ "status": "check_your_email" })
    );

    // The newcomer got a verification link; the owner an email saying so, with the reset page.
    let messages: Vec<_> = smtp
        .wait_for(2)
        .await
        .iter()
        .map(|raw| parse(raw))
        .collect();
    let to_owner = messages
        .iter()
        .find(|m| m.to == owner)
        .expect("the owner's email");
    assert_eq!(to_owner.subject, "You already have a Roster account");
    assert!(
        to_owner.text.contains("/console/password-reset"),
        "{to_owner:?}"
    );
    assert!(!to_owner.text.contains("#r"), "no token: {to_owner:?}");
    let to_newcomer = messages
        .iter()
        .find(|m| m.to == newcomer)
        .expect("the newcomer's");
    let link = link_token(to_newcomer, "verify-email", "rev_");

    // Nothing changed on the existing account: same record, same password, same session.
    let after: Value = app.get_as(&owner_path, &admin).await.json().await.unwrap();
    assert_eq!(before, after);
    assert_eq!(
        app.get_as("/v1/account/me", &owner_token).await.status(),
        200
    );
    assert_problem(
        app.login(&owner, attacker_password).await,
        401,
        "invalid_credentials",
    )
    .await;
    app.login_token(&owner, PASSWORD).await;

    // The newcomer logs in once verified.
    assert_problem(
        app.login(&newcomer, PASSWORD).await,
        403,
        "email_unverified",
    )
    .await;
    assert_eq!(verify(&app, &link).await.status(), 200);
    app.login_token(&newcomer, PASSWORD).await;

    wait_until_outbox_empty(&app).await;
    assert_eq!(smtp.messages().len(), 2);
}
