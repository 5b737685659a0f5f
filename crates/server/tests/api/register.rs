use serde_json::{Value, json};

use crate::helpers::{Db, PASSWORD, assert_problem, spawn_app, unique_email};
use crate::on_both_databases;

on_both_databases!(
    public_register_returns_201_with_location_and_no_secret,
    duplicate_email_in_other_case_or_with_spaces_is_409,
    concurrent_registrations_of_one_email_give_exactly_one_201,
    invalid_fields_are_422_with_field_codes,
    malformed_bodies_are_400_invalid_body,
    wrong_content_type_is_415_and_oversized_body_is_413,
    admin_route_requires_a_permitted_bearer,
);

async fn public_register_returns_201_with_location_and_no_secret(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let email = unique_email("Ada");
    let response = app
        .post_json(
            "/v1/account/register",
            &json!({"email": email, "password": PASSWORD, "name": "Ada"}),
            None,
        )
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(response.headers().contains_key("x-request-id"));
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let text = response.text().await.unwrap();
    assert!(
        !text.contains(PASSWORD) && !text.contains("argon2") && !text.contains("password"),
        "{text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        location,
        format!("/v1/admin/accounts/{}", body["id"].as_str().unwrap())
    );
    assert_eq!(body["email"], email, "stored and shown as given");
    assert_eq!(body["name"], "Ada");
    assert_eq!(body["status"], "active");
    assert_eq!(body["is_superadmin"], false);
    assert!(uuid::Uuid::parse_str(body["id"].as_str().unwrap()).is_ok());
    assert!(chrono::DateTime::parse_from_rfc3339(body["created_at"].as_str().unwrap()).is_ok());
    assert!(
        body.get("grants").is_none() || body["grants"] == json!([]),
        "no roles, no grants"
    );
}

async fn duplicate_email_in_other_case_or_with_spaces_is_409(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let email = unique_email("grace");
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
    for variant in [
        email.to_uppercase(),
        format!("  {email} "),
        email.replace("example.com", "EXAMPLE.com"),
    ] {
        assert_problem(app.register(&variant, PASSWORD).await, 409, "email_taken").await;
    }
}

async fn concurrent_registrations_of_one_email_give_exactly_one_201(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let email = unique_email("race");
    let attempts = (0..24).map(|i| {
        let variant = if i % 2 == 0 {
            email.clone()
        } else {
            email.to_uppercase()
        };
        let app = &app;
        async move { app.register(&variant, PASSWORD).await.status().as_u16() }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
}

async fn invalid_fields_are_422_with_field_codes(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let long = "x".repeat(129) + "Aa1!";
    let cases = [
        (
            json!({"email": "not-an-email", "password": PASSWORD}),
            "email",
            "invalid_email",
        ),
        (
            json!({"email": unique_email("s"), "password": "short"}),
            "password",
            "password_too_short",
        ),
        (
            json!({"email": unique_email("l"), "password": long}),
            "password",
            "password_too_long",
        ),
        (
            json!({"email": unique_email("w"), "password": "passwordpassword"}),
            "password",
            "weak_password",
        ),
        (
            json!({"email": "jonathan.smithers@example.com", "password": "jonathan.smithers2024"}),
            "password",
            "weak_password",
        ),
    ];
    for (body, field, code) in cases {
        let problem = assert_problem(
            app.post_json("/v1/account/register", &body, None).await,
            422,
            "validation_failed",
        )
        .await;
        let errors = problem["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e["field"] == field && e["code"] == code && e["message"].is_string()),
            "{body} -> {problem}"
        );
    }
    // Several problems are reported together.
    let problem = assert_problem(
        app.post_json(
            "/v1/account/register",
            &json!({"email": "nope", "password": "short"}),
            None,
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2, "{problem}");
}

async fn malformed_bodies_are_400_invalid_body(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let raw = |body: &'static str| {
        app.client
            .post(app.url("/v1/account/register"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    for body in [
        "{",
        "",
        "[]",
        "null",
        r#"{"email": "a@b.c"}"#,
        r#"{"email": "a@b.c", "password": "x"} extra"#,
    ] {
        assert_problem(raw(body).await.unwrap(), 400, "invalid_body").await;
    }
    let cases = [
        (
            r#"{"email": 5, "password": "correct horse battery staple orbit"}"#,
            "email",
        ),
        (r#"{"email": "a@b.c", "password": ["x"]}"#, "password"),
        (
            r#"{"email": "a@b.c", "pasword": "correct horse battery staple orbit"}"#,
            "pasword",
        ),
        (
            r#"{"email": "a@b.c", "password": "correct horse battery staple orbit", "name": {}}"#,
            "name",
        ),
    ];
    for (body, field) in cases {
        let problem = assert_problem(raw(body).await.unwrap(), 400, "invalid_body").await;
        assert!(
            problem["detail"].as_str().unwrap().contains(field),
            "{body} -> {problem}"
        );
    }
}

async fn wrong_content_type_is_415_and_oversized_body_is_413(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let body = json!({"email": unique_email("ct"), "password": PASSWORD}).to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut request = app
            .client
            .post(app.url("/v1/account/register"))
            .body(body.clone());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        assert_problem(request.send().await.unwrap(), 415, "unsupported_media_type").await;
    }
    let huge =
        json!({"email": unique_email("big"), "password": PASSWORD, "name": "x".repeat(70 * 1024)});
    assert_problem(
        app.post_json("/v1/account/register", &huge, None).await,
        413,
        "payload_too_large",
    )
    .await;
}

async fn admin_route_requires_a_permitted_bearer(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let body = json!({"email": unique_email("created"), "password": PASSWORD});
    let path = "/v1/admin/account/register";

    let missing = assert_problem(
        app.post_json(path, &body, None).await,
        401,
        "unauthenticated",
    )
    .await;
    assert!(missing["detail"].is_string());
    let bad = app
        .post_json(path, &body, Some("rst_not-a-real-token"))
        .await;
    assert_eq!(bad.headers()["www-authenticate"], "Bearer");
    assert_problem(bad, 401, "unauthenticated").await;

    let roleless = unique_email("roleless");
    assert_eq!(app.register(&roleless, PASSWORD).await.status(), 201);
    let token = app.login_token(&roleless, PASSWORD).await;
    assert_problem(
        app.post_json(path, &body, Some(&token)).await,
        403,
        "forbidden",
    )
    .await;

    let root = app.superadmin_token().await;
    let created = app.post_json(path, &body, Some(&root)).await;
    assert_eq!(created.status(), 201);
    assert!(created.headers().contains_key("location"));
    let account: Value = created.json().await.unwrap();
    assert_eq!(account["email"], body["email"]);
    assert_eq!(account["grants"], json!([]));
    assert_problem(
        app.post_json(path, &body, Some(&root)).await,
        409,
        "email_taken",
    )
    .await;
}
