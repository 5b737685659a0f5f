//! The contract's conventions for every answer: problems typed by URN and never cached, 405
//! naming the allowed methods, the caller's `X-Request-Id` echoed, and request bodies held to
//! the size limit however they are framed. (`Retry-After` on 503 is checked with each 503, in
//! `reliability.rs`.)

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::json;

use crate::helpers::{Db, PASSWORD, TestApp, assert_problem, spawn_app};
use crate::on_both_databases;

on_both_databases!(
    problems_are_typed_by_urn_and_never_cached,
    a_wrong_method_is_405_naming_the_allowed_ones,
    the_callers_request_id_is_echoed,
    a_chunked_body_over_the_limit_is_413,
    a_malformed_path_id_is_401_to_the_unauthenticated,
);

/// One problem of each family: the framework's (404, 405, 415, 400) and the use cases' (401,
/// 422): each is `application/problem+json` with `type` = `urn:roster:problem:<code>` and
/// `Cache-Control: no-store`.
async fn problems_are_typed_by_urn_and_never_cached(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let post = |path: &str, body: &'static str| {
        app.client
            .post(app.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let cases = [
        (app.get("/no/such/thing").await, 404, "not_found"),
        (
            app.client
                .patch(app.url("/v1/features"))
                .send()
                .await
                .unwrap(),
            405,
            "method_not_allowed",
        ),
        (
            app.client
                .post(app.url("/v1/auth/login"))
                .body("{}")
                .send()
                .await
                .unwrap(),
            415,
            "unsupported_media_type",
        ),
        (
            post("/v1/auth/login", "{").await.unwrap(),
            400,
            "invalid_body",
        ),
        (app.get("/v1/account/me").await, 401, "unauthenticated"),
        (
            post(
                "/v1/account/register",
                r#"{"email": "no-at-sign", "password": "x"}"#,
            )
            .await
            .unwrap(),
            422,
            "validation_failed",
        ),
    ];
    for (response, status, code) in cases {
        assert_eq!(
            response
                .headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{status} {code}"
        );
        let problem = assert_problem(response, status, code).await;
        assert_eq!(
            problem["type"],
            format!("urn:roster:problem:{code}"),
            "{problem}"
        );
    }
}

/// RFC 9110: a 405 lists the methods the resource has in `Allow`.
async fn a_wrong_method_is_405_naming_the_allowed_ones(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let cases = [
        ("DELETE", "/v1/auth/login", vec!["POST"]),
        ("PATCH", "/v1/features", vec!["GET"]),
        (
            "POST",
            "/v1/admin/roles/some-role",
            vec!["DELETE", "GET", "PUT"],
        ),
    ];
    for (method, path, allowed) in cases {
        let response = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .send()
            .await
            .unwrap();
        let allow = response
            .headers()
            .get("allow")
            .unwrap_or_else(|| panic!("{method} {path}: 405 without Allow"))
            .to_str()
            .unwrap()
            .to_owned();
        let mut listed: Vec<&str> = allow.split(',').map(str::trim).collect();
        listed.sort_unstable();
        assert_eq!(listed, allowed, "{method} {path}: Allow: {allow}");
        assert_problem(response, 405, "method_not_allowed").await;
    }
}

/// A caller's `X-Request-Id` comes back on successes and problems alike; without one, each
/// answer gets a fresh id.
async fn the_callers_request_id_is_echoed(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let id = format!("trace-{}", uuid::Uuid::now_v7().simple());
    let with_id = |request: reqwest::RequestBuilder| request.header("x-request-id", &id).send();
    let answers = [
        with_id(app.client.get(app.url("/healthz"))).await.unwrap(),
        with_id(app.client.get(app.url("/v1/account/me")))
            .await
            .unwrap(),
        with_id(
            app.client
                .post(app.url("/v1/auth/login"))
                .json(&json!({"email": "nobody@example.com", "password": PASSWORD})),
        )
        .await
        .unwrap(),
    ];
    for response in answers {
        assert_eq!(
            response.headers()["x-request-id"],
            id.as_str(),
            "{}",
            response.status()
        );
    }
    let fresh = |response: reqwest::Response| response.headers()["x-request-id"].clone();
    let first = fresh(app.get("/healthz").await);
    let second = fresh(app.get("/healthz").await);
    assert!(!first.is_empty());
    assert_ne!(first, second, "request ids are not fresh");
    assert_ne!(first, id.as_str());
}

/// Sends `body` to `path` as a `Transfer-Encoding: chunked` request (no `Content-Length`, so
/// the size is known only while reading) in 4 KiB chunks; returns the raw reply.
fn post_chunked(app: &TestApp, path: &str, body: &[u8]) -> String {
    let port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    // The server may answer and close before the last chunk: a failed write is fine, the
    // reply says what happened.
    let _ = stream.write_all(head.as_bytes());
    for chunk in body.chunks(4096) {
        let framed = [
            format!("{:x}\r\n", chunk.len()).as_bytes(),
            chunk,
            b"\r\n".as_slice(),
        ]
        .concat();
        if stream.write_all(&framed).is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    String::from_utf8_lossy(&reply).into_owned()
}

/// The 64 KiB body limit holds for a chunked body, which declares no length: one byte over is
/// 413 `payload_too_large`, while a small chunked body is read and answered as usual.
async fn a_chunked_body_over_the_limit_is_413(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let small = json!({"email": "nobody@example.com", "password": PASSWORD}).to_string();
    let reply =
        tokio::task::block_in_place(|| post_chunked(&app, "/v1/auth/login", small.as_bytes()));
    assert!(reply.starts_with("HTTP/1.1 401"), "{reply}");
    assert!(reply.contains("invalid_credentials"), "{reply}");

    // Valid JSON of exactly 64 KiB + 1 byte: only its size is wrong.
    let filler = 64 * 1024 + 1 - r#"{"email": "", "password": "x"}"#.len();
    let large = format!(r#"{{"email": "{}", "password": "x"}}"#, "a".repeat(filler));
    assert_eq!(large.len(), 64 * 1024 + 1);
    let reply =
        tokio::task::block_in_place(|| post_chunked(&app, "/v1/auth/login", large.as_bytes()));
    assert!(
        reply.starts_with("HTTP/1.1 413"),
        "{}",
        &reply[..reply.len().min(400)]
    );
    assert!(reply.contains("payload_too_large"), "{reply}");
    assert!(
        reply
            .to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{reply}"
    );
}

/// Authentication comes before the path: on every documented route with an id in its path,
/// a malformed id is 401 `unauthenticated` to a caller without a token, with a revoked
/// session token or with a revoked API key (tokens that need a lookup, which the path check
/// must not overtake), and 404 `not_found` only to an authenticated caller.
async fn a_malformed_path_id_is_401_to_the_unauthenticated(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let gone = app.new_account("gone").await;
    assert_eq!(
        app.post_as("/v1/auth/logout", &gone.token).await.status(),
        204
    );
    let created = app
        .post_json("/v1/admin/api-keys", &json!({"name": "gone"}), Some(&root))
        .await;
    assert_eq!(created.status(), 201);
    let key: serde_json::Value = created.json().await.unwrap();
    let revoked = app
        .delete_as(
            &format!("/v1/admin/api-keys/{}", key["id"].as_str().unwrap()),
            &root,
        )
        .await;
    assert_eq!(revoked.status(), 204);
    let revoked_key = key["key"].as_str().unwrap();

    let document: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    let mut checked = 0;
    for (template, item) in document["paths"].as_object().unwrap() {
        if !template.contains("id}") {
            continue;
        }
        let path = template
            .replace("{id}", "not-an-id")
            .replace("{grant_id}", "not-an-id");
        for (method, operation) in item.as_object().unwrap() {
            let body = match operation
                .pointer("/requestBody/content/application~1json/schema/$ref")
                .and_then(|r| r.as_str())
            {
                None => None,
                Some("#/components/schemas/GrantRequest") => {
                    Some(json!({"role": "some-role", "scope": "acme"}))
                }
                Some("#/components/schemas/ResetPasswordRequest") => {
                    Some(json!({"new_password": PASSWORD}))
                }
                Some("#/components/schemas/ResendInvitationRequest") => Some(json!({})),
                Some(other) => panic!("{method} {template}: add a valid {other} here"),
            };
            for (who, token, status, code) in [
                ("no token", None, 401, "unauthenticated"),
                (
                    "a revoked session",
                    Some(gone.token.as_str()),
                    401,
                    "unauthenticated",
                ),
                (
                    "a revoked API key",
                    Some(revoked_key),
                    401,
                    "unauthenticated",
                ),
                ("a super admin", Some(root.as_str()), 404, "not_found"),
            ] {
                let mut request = app
                    .client
                    .request(method.to_uppercase().parse().unwrap(), app.url(&path));
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                if let Some(body) = &body {
                    request = request.json(body);
                }
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), status, "{method} {path} with {who}");
                assert_problem(response, status, code).await;
            }
            checked += 1;
        }
    }
    // accounts/{id} x4 routes, api-keys/{id} x2, grants x6, sessions/{id}.
    assert!(checked >= 13, "only {checked} operations with a path id");
}
