//! Passkeys end to end through the real app on both databases, with a software
//! authenticator answering the options as a browser would: registration, the login's second
//! step, passwordless sign-in, step-up, removal, and the refusals (another origin, a replayed
//! answer, a disabled account).

use roster_testkit_webauthn::SoftAuthenticator;
use serde_json::{Value, json};

use crate::helpers::{AppOptions, Db, PASSWORD, TestApp, assert_problem, spawn_app_with};
use crate::mfa::first_step;
use crate::on_both_databases;

on_both_databases!(
    a_registered_passkey_finishes_the_login,
    a_discoverable_passkey_signs_in_alone,
    a_passkey_refreshes_the_step_up,
    answers_from_another_origin_or_replayed_are_refused,
    removing_the_last_passkey_makes_login_one_step_again,
);

/// The relying party's origin: what `server.public_url` says and the authenticator signs.
const ORIGIN: &str = "http://localhost:8080";

async fn spawn(db: Db) -> Option<TestApp> {
    spawn_app_with(
        db,
        AppOptions {
            env: vec![("ROSTER__SERVER__PUBLIC_URL".into(), ORIGIN.into())],
            ..AppOptions::default()
        },
    )
    .await
}

/// Adds a passkey named `name` to the account behind `token`; returns the passkey.
async fn add_passkey(
    app: &TestApp,
    token: &str,
    authenticator: &mut SoftAuthenticator,
    name: &str,
) -> Value {
    let response = app
        .post_as("/v1/account/me/passkeys/register/start", token)
        .await;
    assert_eq!(response.status(), 200);
    let options: Value = response.json().await.unwrap();
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["residentKey"], "required",
        "{options}"
    );
    assert_eq!(options["publicKey"]["rp"]["id"], "localhost");
    let credential = authenticator.register(&options);
    let response = app
        .post_json(
            "/v1/account/me/passkeys/register/finish",
            &json!({"name": name, "credential": credential}),
            Some(token),
        )
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// Finishes a login's second step with the authenticator; the raw response.
async fn passkey_second_step(
    app: &TestApp,
    mfa_token: &str,
    authenticator: &mut SoftAuthenticator,
) -> reqwest::Response {
    let response = app
        .post_json(
            "/v1/auth/login/mfa/passkey/start",
            &json!({"mfa_token": mfa_token}),
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    let options: Value = response.json().await.unwrap();
    let credential = authenticator.assert(&options);
    app.post_json(
        "/v1/auth/login/mfa/passkey/finish",
        &json!({"mfa_token": mfa_token, "credential": credential}),
        None,
    )
    .await
}

/// Refreshes the session's second factor with the authenticator.
async fn step_up_with(app: &TestApp, token: &str, authenticator: &mut SoftAuthenticator) {
    let response = app.post_as("/v1/auth/step-up/passkey/start", token).await;
    assert_eq!(response.status(), 200);
    let options: Value = response.json().await.unwrap();
    let credential = authenticator.assert(&options);
    let response = app
        .post_json(
            "/v1/auth/step-up/passkey/finish",
            &json!({"credential": credential}),
            Some(token),
        )
        .await;
    assert_eq!(response.status(), 204);
}

async fn a_registered_passkey_finishes_the_login(db: Db) {
    let Some(app) = spawn(db).await else {
        return;
    };
    let ada = app.new_account("ada").await;
    // A blank name is refused, naming the field.
    let response = app
        .post_as("/v1/account/me/passkeys/register/start", &ada.token)
        .await;
    let options: Value = response.json().await.unwrap();
    let credential = SoftAuthenticator::new(ORIGIN).register(&options);
    let response = app
        .post_json(
            "/v1/account/me/passkeys/register/finish",
            &json!({"name": " ", "credential": credential}),
            Some(&ada.token),
        )
        .await;
    let body = assert_problem(response, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "name");

    let mut phone = SoftAuthenticator::new(ORIGIN);
    let passkey = add_passkey(&app, &ada.token, &mut phone, "  Phone  ").await;
    assert_eq!(passkey["name"], "Phone");
    assert!(passkey["last_used_at"].is_null());
    let response = app.login(&ada.email, PASSWORD).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["methods"], json!(["passkey"]));
    let mfa_token = body["mfa_token"].as_str().unwrap();
    let response = passkey_second_step(&app, mfa_token, &mut phone).await;
    assert_eq!(response.status(), 200);
    let token = response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.session_auth_methods(&token).await,
        json!(["pwd", "passkey"])
    );
    let status: Value = app
        .get_as("/v1/account/me/mfa", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["passkeys"][0]["id"], passkey["id"]);
    assert!(status["passkeys"][0]["last_used_at"].is_string());
}

/// A passwordless sign-in answered by `phone`; the raw response.
async fn sign_in(app: &TestApp, phone: &mut SoftAuthenticator) -> reqwest::Response {
    let response = app
        .post_json("/v1/auth/passkey/start", &json!({}), None)
        .await;
    assert_eq!(response.status(), 200);
    let options: Value = response.json().await.unwrap();
    let allowed = &options["publicKey"]["allowCredentials"];
    assert!(
        allowed.is_null() || allowed.as_array().is_some_and(Vec::is_empty),
        "any discoverable passkey may answer: {options}"
    );
    let credential = phone.assert(&options);
    app.post_json(
        "/v1/auth/passkey/finish",
        &json!({"credential": credential}),
        None,
    )
    .await
}

async fn a_discoverable_passkey_signs_in_alone(db: Db) {
    let Some(app) = spawn(db).await else {
        return;
    };
    let ada = app.new_account("ada").await;
    let mut phone = SoftAuthenticator::new(ORIGIN);
    add_passkey(&app, &ada.token, &mut phone, "Phone").await;
    let response = sign_in(&app, &mut phone).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["account"]["id"], ada.id.as_str());
    let token = body["token"].as_str().unwrap();
    assert_eq!(app.session_auth_methods(token).await, json!(["passkey"]));

    // A disabled account's passkey opens nothing.
    let root = app.superadmin_token().await;
    let response = app
        .post_as(&format!("/v1/admin/accounts/{}/disable", ada.id), &root)
        .await;
    assert_eq!(response.status(), 200);
    assert_problem(sign_in(&app, &mut phone).await, 400, "invalid_credential").await;
}

async fn a_passkey_refreshes_the_step_up(db: Db) {
    let Some(app) = spawn(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let mut key = SoftAuthenticator::new(ORIGIN);
    add_passkey(&app, &root, &mut key, "Security key").await;
    let api_key = json!({"name": "ci"});
    assert_problem(
        app.post_json("/v1/admin/api-keys", &api_key, Some(&root))
            .await,
        403,
        "mfa_step_up_required",
    )
    .await;
    step_up_with(&app, &root, &mut key).await;
    assert_eq!(
        app.session_auth_methods(&root).await,
        json!(["pwd", "passkey"])
    );
    assert_eq!(
        app.post_json("/v1/admin/api-keys", &api_key, Some(&root))
            .await
            .status(),
        201
    );
}

async fn answers_from_another_origin_or_replayed_are_refused(db: Db) {
    let Some(app) = spawn(db).await else {
        return;
    };
    let ada = app.new_account("ada").await;
    let mut phone = SoftAuthenticator::new(ORIGIN);
    add_passkey(&app, &ada.token, &mut phone, "Phone").await;

    // A look-alike site relays our options to the same passkey: the signed origin is
    // theirs, so the answer is refused, and counts as a failed second factor.
    let mfa_token = first_step(&app, &ada.email).await;
    let mut phished = phone.at_origin("http://localhost.evil.example");
    let response = passkey_second_step(&app, &mfa_token, &mut phished).await;
    assert_problem(response, 400, "invalid_credential").await;

    // A genuine answer works once; sent again it answers no ceremony.
    let response = app
        .post_json(
            "/v1/auth/login/mfa/passkey/start",
            &json!({"mfa_token": mfa_token}),
            None,
        )
        .await;
    let options: Value = response.json().await.unwrap();
    let credential = phone.assert(&options);
    let finish = json!({"mfa_token": mfa_token, "credential": credential});
    let response = app
        .post_json("/v1/auth/login/mfa/passkey/finish", &finish, None)
        .await;
    assert_eq!(response.status(), 200);
    let mfa_token_2 = first_step(&app, &ada.email).await;
    let replay = json!({"mfa_token": mfa_token_2, "credential": credential});
    assert_problem(
        app.post_json("/v1/auth/login/mfa/passkey/finish", &replay, None)
            .await,
        400,
        "invalid_credential",
    )
    .await;

    // Another account's passkey does not finish Ada's login, even from a client that
    // ignores the credentials the options allow.
    let bob = app.new_account("bob").await;
    let mut bobs = SoftAuthenticator::new(ORIGIN);
    add_passkey(&app, &bob.token, &mut bobs, "Bob's phone").await;
    let response = app
        .post_json(
            "/v1/auth/login/mfa/passkey/start",
            &json!({"mfa_token": mfa_token_2}),
            None,
        )
        .await;
    let mut options: Value = response.json().await.unwrap();
    options["publicKey"]
        .as_object_mut()
        .unwrap()
        .remove("allowCredentials");
    let credential = bobs.assert(&options);
    let response = app
        .post_json(
            "/v1/auth/login/mfa/passkey/finish",
            &json!({"mfa_token": mfa_token_2, "credential": credential}),
            None,
        )
        .await;
    assert_problem(response, 400, "invalid_credential").await;
}

async fn removing_the_last_passkey_makes_login_one_step_again(db: Db) {
    let Some(app) = spawn(db).await else {
        return;
    };
    let ada = app.new_account("ada").await;
    let mut phone = SoftAuthenticator::new(ORIGIN);
    let passkey = add_passkey(&app, &ada.token, &mut phone, "Phone").await;
    let path = format!(
        "/v1/account/me/passkeys/{}",
        passkey["id"].as_str().unwrap()
    );
    // Another account cannot remove it.
    let bob = app.new_account("bob").await;
    assert_problem(app.delete_as(&path, &bob.token).await, 404, "not_found").await;
    // Its owner's session presented no second factor since adding it: a stale stolen
    // session could not strip it.
    assert_problem(
        app.delete_as(&path, &ada.token).await,
        403,
        "mfa_step_up_required",
    )
    .await;
    step_up_with(&app, &ada.token, &mut phone).await;
    assert_eq!(app.delete_as(&path, &ada.token).await.status(), 204);
    assert_problem(app.delete_as(&path, &ada.token).await, 404, "not_found").await;
    let body: Value = app.login(&ada.email, PASSWORD).await.json().await.unwrap();
    assert!(body["token"].is_string(), "one step again: {body}");
}
