//! The registration policy: `GET /v1/account/registration-policy`, domain-restricted
//! self-registration, and `email_verified` on accounts and at login.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{
    AppOptions, Db, PASSWORD, TestApp, assert_problem, eventually, spawn_app, spawn_app_with,
    unique_email,
};
use crate::on_both_databases;

on_both_databases!(
    the_policy_endpoint_shows_the_defaults_and_follows_the_flag,
    the_policy_endpoint_shows_the_settings,
    a_disallowed_domain_is_403_and_creates_nothing,
    the_admin_route_is_exempt_from_the_domains,
    email_verified_is_on_every_account_and_true_without_required_verification,
    required_verification_creates_unverified_accounts_that_cannot_log_in,
    enumeration_safe_implies_verification,
);

/// An app with these `registration.*` settings (as `ROSTER__REGISTRATION__...` variables).
async fn spawn_with_policy(db: Db, settings: &[(&str, &str)]) -> Option<TestApp> {
    spawn_app_with(
        db,
        AppOptions {
            env: settings
                .iter()
                .map(|(key, value)| {
                    (
                        format!("ROSTER__REGISTRATION__{}", key.to_uppercase()),
                        (*value).to_owned(),
                    )
                })
                .collect(),
            ..AppOptions::default()
        },
    )
    .await
}

async fn policy(app: &TestApp) -> Value {
    let response = app.get("/v1/account/registration-policy").await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The accounts whose canonical email is `email`, as an administrator lists them.
async fn accounts_named(app: &TestApp, admin: &str, email: &str) -> Vec<Value> {
    let response = app
        .get_as(
            &format!("/v1/admin/accounts?email={}", urlencoding(email)),
            admin,
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

fn urlencoding(text: &str) -> String {
    serde_urlencoded::to_string([("v", text)]).unwrap()[2..].to_owned()
}

async fn the_policy_endpoint_shows_the_defaults_and_follows_the_flag(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    assert_eq!(
        policy(&app).await,
        json!({
            "open": true,
            "allowed_domains": [],
            "email_verification": "off",
            "password": {"min_length": 15, "max_length": 128},
        })
    );
    app.write_features("disabledFeatures = [ account-registration ]\n");
    let closed = eventually(Duration::from_secs(5), || async {
        policy(&app).await["open"] == false
    })
    .await;
    assert!(closed.is_some(), "`open` follows the flag");
    // Public, with no flag of its own: still answered while registration is off.
    assert_eq!(
        policy(&app).await["allowed_domains"],
        json!([]),
        "the rest is unchanged"
    );
    app.write_features("enabledFeatures = [ account-registration ]\n");
    let open = eventually(Duration::from_secs(5), || async {
        policy(&app).await["open"] == true
    })
    .await;
    assert!(open.is_some());
}

async fn the_policy_endpoint_shows_the_settings(db: Db) {
    let Some(app) = spawn_app_with(
        db,
        AppOptions {
            env: vec![
                (
                    "ROSTER__REGISTRATION__ALLOWED_DOMAINS".into(),
                    "Example.org, *.example.com,bücher.de".into(),
                ),
                (
                    "ROSTER__REGISTRATION__EMAIL_VERIFICATION".into(),
                    "required".into(),
                ),
                ("ROSTER__PASSWORD__MIN_LENGTH".into(), "20".into()),
            ],
            ..AppOptions::default()
        },
    )
    .await
    else {
        return;
    };
    let response = app.get("/v1/account/registration-policy").await;
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "open": true,
            "allowed_domains": ["example.org", "*.example.com", "xn--bcher-kva.de"],
            "email_verification": "required",
            "password": {"min_length": 20, "max_length": 128},
        })
    );
}

async fn a_disallowed_domain_is_403_and_creates_nothing(db: Db) {
    let Some(app) =
        spawn_with_policy(db, &[("allowed_domains", "example.org,*.example.com")]).await
    else {
        return;
    };
    let admin = app.superadmin_token().await;
    for email in [
        "ada@example.net",
        "ada@example.com",
        "ada@example.org.evil.test",
        "ada@notexample.org",
    ] {
        // A weak password too: the domain is refused before any password work.
        for password in [PASSWORD, "short"] {
            let body = assert_problem(
                app.register(email, password).await,
                403,
                "domain_not_allowed",
            )
            .await;
            assert!(body.get("errors").is_none(), "{body}");
        }
        assert_eq!(
            accounts_named(&app, &admin, email).await,
            Vec::<Value>::new()
        );
    }
    for email in [
        "Ada@EXAMPLE.org",
        "ada@eu.example.com",
        "ada@a.b.example.com",
    ] {
        let response = app.register(email, PASSWORD).await;
        assert_eq!(response.status(), 201, "{email}");
    }
    // An email that does not parse is still 422, as without a policy.
    let body = assert_problem(
        app.register("not-an-email", PASSWORD).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "email");
}

async fn the_admin_route_is_exempt_from_the_domains(db: Db) {
    let Some(app) = spawn_with_policy(
        db,
        &[
            ("allowed_domains", "example.org"),
            ("email_verification", "required"),
        ],
    )
    .await
    else {
        return;
    };
    let admin = app.superadmin_token().await;
    let email = unique_email("outside");
    let response = app
        .post_json(
            "/v1/admin/account/register",
            &json!({"email": email, "password": PASSWORD}),
            Some(&admin),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["email_verified"], true,
        "admin-created accounts are verified"
    );
    // ... and can log in at once.
    assert_eq!(app.login(&email, PASSWORD).await.status(), 200);
}

async fn email_verified_is_on_every_account_and_true_without_required_verification(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let admin = app.superadmin_token().await;
    let member = app.new_account("plain").await;

    let me: Value = app
        .get_as("/v1/account/me", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["account"]["email_verified"], true, "super admins: {me}");
    let me: Value = app
        .get_as("/v1/account/me", &member.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        me["account"]["email_verified"], true,
        "self-registered: {me}"
    );
    let one: Value = app
        .get_as(&format!("/v1/admin/accounts/{}", member.id), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["email_verified"], true, "{one}");
    let list: Value = app
        .get_as("/v1/admin/accounts", &admin)
        .await
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        items.iter().all(|item| item["email_verified"] == true),
        "{list}"
    );
    let login: Value = app
        .login(&member.email, PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(login["account"]["email_verified"], true);
}

async fn required_verification_creates_unverified_accounts_that_cannot_log_in(db: Db) {
    let Some(app) = spawn_with_policy(db, &[("email_verification", "required")]).await else {
        return;
    };
    let email = unique_email("unverified");
    let response = app.register(&email, PASSWORD).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["email_verified"], false);

    let admin = app.superadmin_token().await;
    let listed = accounts_named(&app, &admin, &email).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["email_verified"], false);
    let one: Value = app
        .get_as(
            &format!("/v1/admin/accounts/{}", body["id"].as_str().unwrap()),
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["email_verified"], false);

    // The right password: 403 email_unverified, and no session.
    let sessions_before = app.session_rows();
    let refused = assert_problem(app.login(&email, PASSWORD).await, 403, "email_unverified").await;
    assert!(!refused.to_string().contains(PASSWORD));
    assert_eq!(app.session_rows(), sessions_before, "no session was opened");
    // A wrong password: the usual 401, whatever the account's state.
    let wrong = app.login(&email, "wrong horse battery staple orbit").await;
    assert_eq!(wrong.headers()["www-authenticate"], "Bearer");
    assert_problem(wrong, 401, "invalid_credentials").await;
    // Unknown emails too.
    assert_problem(
        app.login(&unique_email("nobody"), PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    // A disabled unverified account with the right password says no more than 401.
    let id = body["id"].as_str().unwrap();
    let disabled = app
        .post_as(&format!("/v1/admin/accounts/{id}/disable"), &admin)
        .await;
    assert_eq!(disabled.status(), 200);
    assert_problem(
        app.login(&email, PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
}

async fn enumeration_safe_implies_verification(db: Db) {
    let Some(app) = spawn_with_policy(db, &[("enumeration_safe", "true")]).await else {
        return;
    };
    assert_eq!(policy(&app).await["email_verification"], "required");
    let email = unique_email("safe");
    // The enumeration-safe answer (the rest of that mode: verify_email.rs).
    let response = app.register(&email, PASSWORD).await;
    assert_eq!(response.status(), 202);
    let admin = app.superadmin_token().await;
    let listed = accounts_named(&app, &admin, &email).await;
    assert_eq!(listed[0]["email_verified"], false);
    assert_problem(app.login(&email, PASSWORD).await, 403, "email_unverified").await;
}
