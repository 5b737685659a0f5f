//! No secret reaches the logs or a response body: passwords (right or wrong), session
//! tokens, API keys and emailed password-reset and invitation tokens never appear in anything the process
//! logs at debug level, nor in responses, the audit trail or the metrics.

use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, captured_logs, spawn_app, unique_email};
use crate::on_both_databases;

on_both_databases!(passwords_and_tokens_never_reach_logs_or_bodies);

/// A strong password no other test uses, so finding it in the shared log buffer can only
/// mean this test's requests leaked it. Plain ASCII, so JSON escaping cannot hide it.
fn unique_password(label: &str) -> String {
    format!("{label}-Zq7{}-kestrel", random_hex())
}

/// The random half of a UUIDv7 (the other half is a timestamp shared with `unique_email`, and
/// a password sharing it with the email would rightly be refused as built from the email).
fn random_hex() -> String {
    uuid::Uuid::now_v7().simple().to_string()[16..].to_owned()
}

/// A request id no other test uses: finding it in the logs proves this request was logged.
fn unique_request_id() -> String {
    format!("secrets-{}", uuid::Uuid::now_v7().simple())
}

/// Sends a JSON POST with our own request id; returns (status, body text, request id).
async fn post(
    app: &TestApp,
    path: &str,
    body: &Value,
    token: Option<&str>,
) -> (u16, String, String) {
    let request_id = unique_request_id();
    let mut request = app
        .client
        .post(app.url(path))
        .header("x-request-id", &request_id)
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap(), request_id)
}

async fn passwords_and_tokens_never_reach_logs_or_bodies(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let password = unique_password("alpha");
    let wrong_password = unique_password("bravo");
    let admin_created_password = unique_password("charlie");
    let too_long_password = unique_password("delta") + &"y".repeat(130);

    let mut bodies = Vec::new();
    let mut request_ids = Vec::new();
    let mut record =
        |(status, body, request_id): (u16, String, String), expected: u16, what: &str| {
            assert_eq!(status, expected, "{what}: {body}");
            request_ids.push(request_id);
            bodies.push((what.to_owned(), body.clone()));
            body
        };

    // Public registration.
    let email = unique_email("secrets");
    record(
        post(
            &app,
            "/v1/account/register",
            &json!({"email": email, "password": password}),
            None,
        )
        .await,
        201,
        "register",
    );
    // A rejected registration and a malformed body carrying a password.
    record(
        post(
            &app,
            "/v1/account/register",
            &json!({"email": unique_email("long"), "password": too_long_password}),
            None,
        )
        .await,
        422,
        "register with a too long password",
    );
    record(
        post(
            &app,
            "/v1/account/register",
            &json!({"email": unique_email("typo"), "pasword": password}),
            None,
        )
        .await,
        400,
        "register with a misspelt field",
    );
    // Failed, then successful login.
    record(
        post(
            &app,
            "/v1/auth/login",
            &json!({"email": email, "password": wrong_password}),
            None,
        )
        .await,
        401,
        "login with a wrong password",
    );
    let login = record(
        post(
            &app,
            "/v1/auth/login",
            &json!({"email": email, "password": password}),
            None,
        )
        .await,
        200,
        "login",
    );
    let user_token = serde_json::from_str::<Value>(&login).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The user's token presented where it is not enough: refused, and must not be logged.
    record(
        post(
            &app,
            "/v1/admin/account/register",
            &json!({"email": unique_email("nope"), "password": admin_created_password}),
            Some(&user_token),
        )
        .await,
        403,
        "admin register with an ordinary token",
    );
    // Admin registration with a super-admin token.
    let root_token = app.superadmin_token().await;
    record(
        post(
            &app,
            "/v1/admin/account/register",
            &json!({"email": unique_email("made-by-admin"), "password": admin_created_password}),
            Some(&root_token),
        )
        .await,
        201,
        "admin register",
    );
    // Presented tokens that are invalid (a mangled copy of a real one) must not be logged either.
    let changed = if user_token.ends_with('x') { 'y' } else { 'x' };
    let mangled_token = format!("{}{changed}", &user_token[..user_token.len() - 1]);
    record(
        post(
            &app,
            "/v1/admin/account/register",
            &json!({"email": unique_email("bad"), "password": password}),
            Some(&mangled_token),
        )
        .await,
        401,
        "admin register with an invalid token",
    );

    // Password change, then API keys: created (the only time the key is shown), used, revoked.
    let changed_password = unique_password("echo");
    let change = app
        .client
        .put(app.url("/v1/account/me/password"))
        .bearer_auth(&user_token)
        .json(&json!({"current_password": password, "new_password": changed_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(change.status(), 204);
    let created = record(
        post(
            &app,
            "/v1/admin/api-keys",
            &json!({"name": "secrets scan", "expires_in": "1h"}),
            Some(&root_token),
        )
        .await,
        201,
        "api key creation",
    );
    let created: Value = serde_json::from_str(&created).unwrap();
    let api_key = created["key"].as_str().unwrap().to_owned();
    let key_id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(app.get_as("/v1/account/me", &api_key).await.status(), 200);
    // The last character changed (to one it is not), so the key is well formed but wrong.
    let last = if api_key.ends_with('A') { 'B' } else { 'A' };
    let forged_key = format!("{}{last}", &api_key[..api_key.len() - 1]);
    assert_eq!(
        app.get_as("/v1/account/me", &forged_key).await.status(),
        401
    );
    assert_eq!(
        app.delete_as(&format!("/v1/admin/api-keys/{key_id}"), &root_token)
            .await
            .status(),
        204
    );
    // Password reset by email (the `.eml` default): the token travels in the message only.
    record(
        post(
            &app,
            "/v1/account/password-reset",
            &json!({"email": email}),
            None,
        )
        .await,
        202,
        "password reset request",
    );
    let mail = crate::mail::wait_for_files(&app.outbox_dir(), 1).await;
    let reset_token = crate::mail::reset_token(&crate::mail::parse(&mail[0]));
    let reset_password = unique_password("foxtrot");
    record(
        post(
            &app,
            "/v1/account/password-reset/confirm",
            &json!({"token": reset_token, "new_password": reset_password}),
            None,
        )
        .await,
        204,
        "password reset confirmation",
    );
    record(
        post(
            &app,
            "/v1/account/password-reset/confirm",
            &json!({"token": reset_token, "new_password": reset_password}),
            None,
        )
        .await,
        410,
        "password reset with a used token",
    );
    // An invitation (the `.eml` default): its `rin_` token travels in the message only, and
    // the invitee's password in the acceptance alone.
    let invitee = unique_email("secrets-invitee");
    record(
        post(
            &app,
            "/v1/admin/invitations",
            &json!({"email": invitee}),
            Some(&root_token),
        )
        .await,
        201,
        "invitation",
    );
    let mail = crate::mail::wait_for_files(&app.outbox_dir(), 2).await;
    let invitation_token = mail
        .iter()
        .map(|raw| crate::mail::parse(raw))
        .find(|received| received.to == invitee)
        .map(|received| crate::mail::link_token(&received, "invitation", "rin_"))
        .expect("the invitation email");
    let invitee_password = unique_password("golf");
    record(
        post(
            &app,
            "/v1/account/invitations/accept",
            &json!({"token": invitation_token, "password": invitee_password}),
            None,
        )
        .await,
        201,
        "invitation acceptance",
    );
    let metrics = app.get("/metrics").await;
    if metrics.status() == 200 {
        bodies.push(("metrics".to_owned(), metrics.text().await.unwrap()));
    }
    let audit = app
        .get_as("/v1/admin/audit-events?limit=200", &root_token)
        .await
        .text()
        .await
        .unwrap();
    bodies.push(("audit events".to_owned(), audit));
    let passwords = [
        &password,
        &wrong_password,
        &admin_created_password,
        &too_long_password,
        &changed_password,
        &reset_password,
        &invitee_password,
    ];
    // `rak_<id>_<secret>`: the secret is base64url, which may itself contain `_`, so it is
    // everything after the second `_` (splitting at the last `_` could leave a fragment of a
    // few characters that turns up in a body or the logs by chance).
    let secret_of = |key: &str| key.splitn(3, '_').nth(2).unwrap().to_owned();
    let api_key_secret = secret_of(&api_key);
    assert!(api_key_secret.len() >= 40, "the secret part of the key");

    for (what, body) in &bodies {
        for token in [
            &user_token,
            &root_token,
            &api_key_secret,
            &reset_token,
            &invitation_token,
        ] {
            let random_part = token
                .strip_prefix("rst_")
                .or_else(|| token.strip_prefix("rpr_"))
                .or_else(|| token.strip_prefix("rin_"))
                .unwrap_or(token);
            assert!(
                // Only the login shows its token and the creation its key, once.
                matches!(what.as_str(), "login" | "api key creation")
                    || !body.contains(random_part),
                "{what} contains a token or key: {body}"
            );
        }
        for secret in passwords {
            assert!(
                !body.contains(secret.as_str()),
                "response body of {what} contains a password: {body}"
            );
        }
    }

    let logs = captured_logs();
    for request_id in &request_ids {
        assert!(
            logs.contains(request_id.as_str()),
            "request {request_id} was not logged: the scan would prove nothing"
        );
    }
    for secret in passwords {
        assert!(!logs.contains(secret.as_str()), "a password was logged");
    }
    for token in [&user_token, &root_token, &mangled_token] {
        // Neither the token nor its random part (without the `rst_` prefix).
        let random_part = token.strip_prefix("rst_").unwrap_or(token);
        assert!(!logs.contains(random_part), "a session token was logged");
    }
    let reset_random = reset_token.strip_prefix("rpr_").unwrap();
    assert!(
        !logs.contains(reset_random),
        "a password-reset token was logged"
    );
    let invitation_random = invitation_token.strip_prefix("rin_").unwrap();
    assert!(
        !logs.contains(invitation_random),
        "an invitation token was logged"
    );
    for key in [&api_key, &forged_key] {
        assert!(!logs.contains(&secret_of(key)), "an API key was logged");
    }
    // The log lines are JSON and carry the request id as a field of the request's span.
    let line = logs
        .lines()
        .find(|line| line.contains(request_ids[0].as_str()))
        .expect("a line of the first request");
    let event: Value = serde_json::from_str(line).expect("log lines are JSON");
    assert!(
        event
            .to_string()
            .contains(&format!("\"request_id\":\"{}\"", request_ids[0])),
        "{event}"
    );
}
