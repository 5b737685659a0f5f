//! Hundreds of hostile request bodies against every JSON endpoint: wrong types, huge strings,
//! deep nesting, invalid UTF-8, NUL bytes, duplicate keys, SQL-looking strings and Unicode
//! look-alikes. Every answer must be below 500 and every refusal a problem document.

use serde_json::{Value, json};

use crate::helpers::{
    AppOptions, Db, PASSWORD, TestApp, assert_problem, spawn_app, spawn_app_with, unique_email,
};
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

/// One JSON route under attack: who calls it, a body it accepts, and how it answers that body.
struct Target<'a> {
    method: &'static str,
    path: String,
    token: Option<&'a str>,
    template: Value,
    /// The status the template itself gets when sent first: proof that the caller may use
    /// the route, so that later refusals come from the route's own code.
    template_status: u16,
    /// Answers only the route's own code gives, each of which some body must get: proof
    /// that the bodies reached the parser and the checks behind it.
    reached: &'static [(u16, &'static str)],
}

/// The JSON parser's refusal and the validator's.
const PARSED_AND_VALIDATED: &[(u16, &str)] = &[(400, "invalid_body"), (422, "validation_failed")];

/// Codes that would mean a body was stopped before the route's own parsing and validation:
/// the caller's credentials or permissions were gone, or a guard in front refused it.
const REFUSED_IN_FRONT: [&str; 5] = [
    "unauthenticated",
    "forbidden",
    "feature_disabled",
    "rate_limited",
    "too_many_attempts",
];

/// Sends one body; asserts the answer is below 500 and every refusal a problem document.
/// Returns the status and, for a refusal, the problem's `code`.
async fn send(app: &TestApp, target: &Target<'_>, body: Vec<u8>) -> (u16, Option<String>) {
    let (method, path) = (target.method, target.path.as_str());
    let mut request = app
        .client
        .request(method.parse().unwrap(), app.url(path))
        .header("content-type", "application/json")
        .body(body.clone());
    if let Some(token) = target.token {
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
    if status < 400 {
        return (status, None);
    }
    assert!(
        content_type.starts_with("application/problem+json"),
        "{method} {path} with {shown:?}: {status} as {content_type}"
    );
    let problem: Value = serde_json::from_str(&text).expect("a problem is JSON");
    assert_eq!(problem["status"], status, "{problem}");
    let code = problem["code"]
        .as_str()
        .unwrap_or_else(|| panic!("a problem without a code: {problem}"))
        .to_owned();
    assert!(
        !REFUSED_IN_FRONT.contains(&code.as_str()),
        "{method} {path} with {shown:?} never reached the route's code: {status} {code}"
    );
    (status, Some(code))
}

async fn hostile_bodies_never_cause_a_server_error(db: Db) {
    // Failed logins must not throttle the target email: every login body should reach the
    // credential check, not be refused in front of it.
    let options = AppOptions {
        env: vec![(
            "ROSTER__LOGIN_THROTTLE__FREE_FAILURES".into(),
            "100000".into(),
        )],
        ..AppOptions::default()
    };
    let Some(app) = spawn_app_with(db, options).await else {
        return;
    };
    let root = app.superadmin_token().await;
    // Each account-bound route gets its own account, so that no body sent to one route can
    // spend the credentials another route's bodies rely on (an admin reset to a valid
    // password revokes every session of the account it resets).
    let login_target = app.new_account("hostile-login").await;
    let password_changer = app.new_account("hostile-me").await;
    let reset_target = app.new_account("hostile-reset").await;
    let grant_holder = app.new_account("hostile-grants").await;
    let role = json!({"name": "hostile-target", "permissions": [{"action": "x-read"}]});
    assert_eq!(
        app.post_json("/v1/admin/roles", &role, Some(&root))
            .await
            .status(),
        201
    );

    let targets = [
        Target {
            method: "POST",
            path: "/v1/account/register".into(),
            token: None,
            template: json!({"email": unique_email("hostile-new"), "password": PASSWORD, "name": "New"}),
            template_status: 201,
            reached: PARSED_AND_VALIDATED,
        },
        Target {
            method: "POST",
            path: "/v1/admin/account/register".into(),
            token: Some(&root),
            template: json!({"email": unique_email("hostile-new2"), "password": PASSWORD, "grants": [{"role": "hostile-target", "scope": "acme"}]}),
            template_status: 201,
            reached: PARSED_AND_VALIDATED,
        },
        Target {
            method: "POST",
            path: "/v1/auth/login".into(),
            token: None,
            template: json!({"email": login_target.email, "password": PASSWORD}),
            template_status: 200,
            // Login does not validate: a malformed email or password is a failed login.
            reached: &[(400, "invalid_body"), (401, "invalid_credentials")],
        },
        Target {
            method: "PUT",
            path: "/v1/account/me/password".into(),
            token: Some(&password_changer.token),
            // A wrong current password: no body can change the password and end the
            // session the route is called with.
            template: json!({"current_password": "wrong wrong wrong", "new_password": PASSWORD}),
            template_status: 422,
            reached: PARSED_AND_VALIDATED,
        },
        Target {
            method: "PUT",
            path: format!("/v1/admin/accounts/{}/password", reset_target.id),
            token: Some(&root),
            template: json!({"new_password": "another long passphrase for the reset"}),
            template_status: 204,
            reached: PARSED_AND_VALIDATED,
        },
        Target {
            method: "POST",
            path: "/v1/admin/api-keys".into(),
            token: Some(&root),
            template: json!({"name": "k", "expires_in": "30d", "grants": []}),
            template_status: 201,
            reached: PARSED_AND_VALIDATED,
        },
        Target {
            method: "POST",
            path: "/v1/admin/roles".into(),
            token: Some(&root),
            template: json!({"name": "r", "description": "d", "permissions": [{"action": "a", "effect": "allow"}]}),
            template_status: 201,
            reached: PARSED_AND_VALIDATED,
        },
        Target {
            method: "PUT",
            path: "/v1/admin/roles/hostile-target".into(),
            token: Some(&root),
            template: json!({"description": "d", "permissions": [{"action": "a"}]}),
            template_status: 200,
            reached: PARSED_AND_VALIDATED,
        },
        Target {
            method: "POST",
            path: format!("/v1/admin/accounts/{}/grants", grant_holder.id),
            token: Some(&root),
            template: json!({"role": "hostile-target", "scope": "acme.berlin"}),
            template_status: 201,
            reached: PARSED_AND_VALIDATED,
        },
        Target {
            method: "POST",
            path: "/v1/authz/check".into(),
            // Checking another principal needs `account-read` on `*`: the super admin has it.
            token: Some(&root),
            template: json!({"action": "x-read", "scope": "acme", "account_id": grant_holder.id}),
            template_status: 200,
            reached: PARSED_AND_VALIDATED,
        },
    ];
    let mut sent = 0;
    for target in &targets {
        let (status, code) =
            send(&app, target, serde_json::to_vec(&target.template).unwrap()).await;
        assert_eq!(
            status, target.template_status,
            "{} {} with its template: {code:?}",
            target.method, target.path
        );
        let mut answers: Vec<(u16, Option<String>)> = Vec::new();
        for body in variants(&target.template) {
            answers.push(send(&app, target, body).await);
            sent += 1;
        }
        for (status, code) in target.reached {
            assert!(
                answers
                    .iter()
                    .any(|(s, c)| s == status && c.as_deref() == Some(*code)),
                "{} {}: no body got {status} {code}, so none reached that check: {answers:?}",
                target.method,
                target.path
            );
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
