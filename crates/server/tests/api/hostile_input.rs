//! Hundreds of hostile request bodies against every JSON endpoint: wrong types, huge strings,
//! deep nesting, invalid UTF-8, NUL bytes, duplicate keys, SQL-looking strings and Unicode
//! look-alikes. Every answer must be below 500 and every refusal a problem document.

use serde_json::{Value, json};

use crate::helpers::{Db, PASSWORD, TestApp, assert_problem, spawn_app, unique_email};
use crate::on_both_databases;

on_both_databases!(
    hostile_bodies_never_cause_a_server_error,
    lookalike_and_hidden_characters_are_refused_where_people_read_them,
);

/// Strings an attacker would try in any text field.
fn nasty_strings() -> Vec<String> {
    vec![
        String::new(),
        " ".into(),
        "' OR 1=1 --".into(),
        "\"; DROP TABLE accounts; --".into(),
        "Robert'); DELETE FROM sessions;--@example.com".into(),
        "a\u{0}b@example.com".into(),
        "ａdmin@example.com".into(), // fullwidth a
        "admin@exаmple.com".into(),  // Cyrillic a
        "\u{202e}moc.elpmaxe@nimda".into(),
        "ad\u{200d}min@example.com".into(),
        "😀@😀.com".into(),
        "*".into(),
        "acme..berlin".into(),
        "ACME.Berlin".into(),
        "all".into(),
        "%s%s%s%n".into(),
        "../../../../etc/passwd".into(),
        "<script>alert(1)</script>".into(),
        "x".repeat(5_000),
        "é".repeat(20_000),
        "a.".repeat(2_000),
        "P99999999999999999999D".into(),
        "-1".into(),
    ]
}

/// Values of the wrong type for any field.
fn wrong_types() -> Vec<Value> {
    vec![
        json!(null),
        json!(true),
        json!(0),
        json!(-1),
        json!(1e308),
        json!(18_446_744_073_709_551_615_u64),
        json!([]),
        json!(["a"]),
        json!({}),
        json!({"nested": {"deeper": [1, 2, 3]}}),
    ]
}

/// Raw bodies that are not (or not quite) JSON objects.
fn raw_bodies() -> Vec<Vec<u8>> {
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let deep_object = format!("{}1{}", r#"{"a":"#.repeat(5_000), "}".repeat(5_000));
    vec![
        Vec::new(),
        b"{".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"\"text\"".to_vec(),
        b"12".to_vec(),
        b"\xff\xfe\xfd".to_vec(),
        b"{\"email\": \"\xff\xfe@example.com\", \"password\": \"x\"}".to_vec(),
        b"{\"email\": \"a@b.c\"\x00}".to_vec(),
        b"{\"email\": \"a@b.c\", \"email\": \"d@e.f\", \"password\": \"p\"}".to_vec(),
        b"{\"email\": \"a@b.c\"} {\"again\": 1}".to_vec(),
        b"{\"email\": \"\\ud800@b.c\", \"password\": \"p\"}".to_vec(),
        deep.into_bytes(),
        deep_object.into_bytes(),
        vec![b' '; 70 * 1024],
        format!(r#"{{"email": "{}"}}"#, "a".repeat(70 * 1024)).into_bytes(),
    ]
}

/// Bodies built from a valid template by replacing one field with each hostile value, plus
/// the template with a typo'd and an extra field.
fn variants(template: &Value) -> Vec<Vec<u8>> {
    let mut bodies = Vec::new();
    let object = template.as_object().expect("templates are objects");
    for field in object.keys() {
        let replacements = nasty_strings()
            .into_iter()
            .map(Value::String)
            .chain(wrong_types());
        for replacement in replacements {
            let mut body = template.clone();
            body[field] = replacement;
            bodies.push(serde_json::to_vec(&body).unwrap());
        }
        let mut without = object.clone();
        without.remove(field);
        bodies.push(serde_json::to_vec(&without).unwrap());
    }
    let mut extra = template.clone();
    extra["is_superadmin"] = json!(true);
    bodies.push(serde_json::to_vec(&extra).unwrap());
    bodies.extend(raw_bodies());
    bodies
}

async fn send(app: &TestApp, method: &str, path: &str, token: Option<&str>, body: Vec<u8>) {
    let mut request = app
        .client
        .request(method.parse().unwrap(), app.url(path))
        .header("content-type", "application/json")
        .body(body.clone());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or("").to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    let shown = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
    assert!(
        status < 500,
        "{method} {path} with {shown:?}: {status} {text}"
    );
    if status >= 400 {
        assert!(
            content_type.starts_with("application/problem+json"),
            "{method} {path} with {shown:?}: {status} as {content_type}"
        );
        let problem: Value = serde_json::from_str(&text).expect("a problem is JSON");
        assert!(problem["code"].is_string(), "{problem}");
        assert_eq!(problem["status"], status);
    }
}

async fn hostile_bodies_never_cause_a_server_error(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let email = unique_email("target");
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
    let user = app.login_token(&email, PASSWORD).await;
    let account_id: String = app
        .get_as("/v1/account/me", &user)
        .await
        .json::<Value>()
        .await
        .unwrap()["account"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let role = json!({"name": "hostile-target", "permissions": [{"action": "x-read"}]});
    assert_eq!(
        app.post_json("/v1/admin/roles", &role, Some(&root))
            .await
            .status(),
        201
    );

    let endpoints: Vec<(&str, String, Option<&str>, Value)> = vec![
        (
            "POST",
            "/v1/account/register".into(),
            None,
            json!({"email": "new@example.com", "password": PASSWORD, "name": "New"}),
        ),
        (
            "POST",
            "/v1/admin/account/register".into(),
            Some(&root),
            json!({"email": "new2@example.com", "password": PASSWORD, "grants": [{"role": "hostile-target", "scope": "acme"}]}),
        ),
        (
            "POST",
            "/v1/auth/login".into(),
            None,
            json!({"email": email, "password": PASSWORD}),
        ),
        (
            "PUT",
            "/v1/account/me/password".into(),
            Some(&user),
            json!({"current_password": "wrong wrong wrong", "new_password": PASSWORD}),
        ),
        (
            "PUT",
            format!("/v1/admin/accounts/{account_id}/password"),
            Some(&root),
            json!({"new_password": "x"}),
        ),
        (
            "POST",
            "/v1/admin/api-keys".into(),
            Some(&root),
            json!({"name": "k", "expires_in": "30d", "grants": []}),
        ),
        (
            "POST",
            "/v1/admin/roles".into(),
            Some(&root),
            json!({"name": "r", "description": "d", "permissions": [{"action": "a", "effect": "allow"}]}),
        ),
        (
            "PUT",
            "/v1/admin/roles/hostile-target".into(),
            Some(&root),
            json!({"description": "d", "permissions": [{"action": "a"}]}),
        ),
        (
            "POST",
            format!("/v1/admin/accounts/{account_id}/grants"),
            Some(&root),
            json!({"role": "hostile-target", "scope": "acme.berlin"}),
        ),
        (
            "POST",
            "/v1/authz/check".into(),
            Some(&user),
            json!({"action": "x-read", "scope": "acme", "account_id": account_id}),
        ),
    ];
    let mut sent = 0;
    for (method, path, token, template) in &endpoints {
        for body in variants(template) {
            send(&app, method, path, *token, body).await;
            sent += 1;
        }
    }
    assert!(sent > 500, "only {sent} bodies");
}

/// Invisible characters, bidirectional controls and mixed-script look-alike local parts are
/// refused with a field error (and never echoed); one-script non-Latin addresses still
/// register.
async fn lookalike_and_hidden_characters_are_refused_where_people_read_them(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    // Digits only: hexadecimal letters would make the Cyrillic and Greek addresses below mixed.
    let suffix = uuid::Uuid::now_v7().as_u128().to_string();
    let zero_width = format!("ada\u{200b}{suffix}@example.com");
    let cyrillic_a = format!("p\u{430}ypal{suffix}@example.com");
    let cases = [
        (
            json!({"email": zero_width, "password": PASSWORD}),
            "email",
            "invalid_email",
        ),
        (
            json!({"email": cyrillic_a, "password": PASSWORD}),
            "email",
            "invalid_email",
        ),
        (
            json!({"email": unique_email("rlo"), "password": PASSWORD, "name": "Ada\u{202e}gpj.exe"}),
            "name",
            "invalid_name",
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
        assert_eq!(errors.len(), 1, "{problem}");
        assert_eq!(errors[0]["field"], field, "{problem}");
        assert_eq!(errors[0]["code"], code, "{problem}");
        let text = problem.to_string();
        assert!(
            !text.contains(&suffix) && !text.contains("gpj"),
            "{problem}"
        );
    }
    // The look-alike did not make an account: the plain address is still free.
    let plain = format!("paypal{suffix}@example.com");
    assert_eq!(app.register(&plain, PASSWORD).await.status(), 201);

    // One script, whichever, registers; so does a valid IDN domain.
    for email in [
        format!("иван.{suffix}@example.com"),
        format!("σοφία.{suffix}@παράδειγμα.δοκιμή"),
    ] {
        let response = app
            .post_json(
                "/v1/account/register",
                &json!({"email": email, "password": PASSWORD, "name": "Иван 👩\u{200d}💻"}),
                None,
            )
            .await;
        assert_eq!(response.status(), 201, "{email}");
    }

    // Role descriptions and API key names are shown to administrators too.
    let root = app.superadmin_token().await;
    let problem = assert_problem(
        app.post_json(
            "/v1/admin/roles",
            &json!({"name": "spoofed", "description": "runs \u{202e}reussi", "permissions": []}),
            Some(&root),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "description", "{problem}");
    assert_eq!(
        problem["errors"][0]["code"], "invalid_description",
        "{problem}"
    );
    let problem = assert_problem(
        app.post_json(
            "/v1/admin/api-keys",
            &json!({"name": "deploy\u{200b}"}),
            Some(&root),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "name", "{problem}");
    assert_eq!(problem["errors"][0]["code"], "invalid_name", "{problem}");
}
