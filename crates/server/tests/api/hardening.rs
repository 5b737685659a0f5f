//! Hygiene at the HTTP edge (issue 12, findings 7, 10, 11, 14, 15, 16): metric labels from a
//! closed set, query strings held to one rule on every route, slow bodies and connection
//! floods cut off, the features file's content kept from anonymous callers, security headers
//! on every response, and `/metrics` on its own listener. Finding 12 (protocol errors kept
//! out of the error log) is proven on the real binary in `tests/binary.rs`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

use crate::helpers::{
    AppOptions, Db, TestApp, assert_problem, captured_logs, eventually, spawn_app, spawn_app_with,
};
use crate::on_both_databases;

on_both_databases!(
    a_nul_byte_in_any_query_parameter_is_a_400_naming_it,
    query_errors_are_invalid_query_problems_on_every_route,
);

fn options(env: &[(&str, &str)]) -> AppOptions {
    AppOptions {
        env: env
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect(),
        ..AppOptions::default()
    }
}

fn port_of(app: &TestApp) -> u16 {
    app.address.rsplit(':').next().unwrap().parse().unwrap()
}

/// A raw connection to the app, with a read timeout.
fn connect(app: &TestApp, read_timeout: Duration) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port_of(app))).unwrap();
    stream.set_read_timeout(Some(read_timeout)).unwrap();
    stream
}

/// Reads until the server closes the connection or the read timeout passes.
fn read_all(stream: &mut TcpStream) -> String {
    let mut raw = Vec::new();
    let mut buffer = [0_u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => raw.extend_from_slice(&buffer[..read]),
        }
    }
    String::from_utf8_lossy(&raw).into_owned()
}

/// Sends one keep-alive `GET` on `stream` and reads its (small, non-chunked) reply head and
/// body; `None` if nothing arrives before the read timeout.
fn get_on(stream: &mut TcpStream, path: &str) -> Option<String> {
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .unwrap();
    let mut raw = Vec::new();
    let mut buffer = [0_u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => {
                raw.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&raw);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length: usize = head
                        .lines()
                        .find_map(|line| {
                            line.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|value| value.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if body.len() >= length {
                        break;
                    }
                }
            }
        }
    }
    (!raw.is_empty()).then(|| String::from_utf8_lossy(&raw).into_owned())
}

// --- Finding 7 ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invented_http_methods_add_no_metric_series() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let invented: Vec<String> = (0..25)
        .map(|i| format!("X{}M{i}", uuid::Uuid::now_v7().simple()))
        .collect();
    for (i, method) in invented.iter().enumerate() {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let path = if i % 2 == 0 {
            "/v1/features"
        } else {
            "/nowhere"
        };
        let response = app
            .client
            .request(method, app.url(path))
            .send()
            .await
            .unwrap();
        assert!(matches!(response.status().as_u16(), 404 | 405));
    }
    let text = app.get("/metrics").await.text().await.unwrap();
    for method in &invented {
        assert!(
            !text.contains(method.as_str()),
            "{method} became a label value"
        );
    }
    let other: u64 = text
        .lines()
        .filter(|line| line.starts_with("roster_http_requests_total{method=\"other\""))
        .map(|line| line.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(other, 25, "{text}");
}

// --- Finding 10 --------------------------------------------------------------------------

async fn a_nul_byte_in_any_query_parameter_is_a_400_naming_it(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    for (path, parameter) in [
        ("/v1/admin/audit-events?actor=a%00b", "actor"),
        ("/v1/admin/audit-events?action=login.succeeded%00", "action"),
        ("/v1/admin/accounts?email=x%00%40example.com", "email"),
        ("/v1/admin/accounts?cursor=%0d%0aSet-Cookie:x", "cursor"),
        ("/v1/admin/roles?cursor=%7f", "cursor"),
        ("/v1/admin/api-keys?limit=1%00", "limit"),
    ] {
        let problem = assert_problem(app.get_as(path, &root).await, 400, "invalid_query").await;
        assert_eq!(
            problem["errors"][0]["field"], parameter,
            "{path}: {problem}"
        );
        assert_eq!(
            problem["errors"][0]["code"], "control_character",
            "{path}: {problem}"
        );
    }
    // Anonymous routes too, before anything else looks at the request.
    let problem = assert_problem(app.get("/v1/features?x=%00").await, 400, "invalid_query").await;
    assert_eq!(problem["errors"][0]["field"], "x");
    // A clean query still works, on both databases.
    let page: Value = app
        .get_as("/v1/admin/audit-events?actor=nobody&limit=5", &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"], Value::Array(vec![]));
}

async fn query_errors_are_invalid_query_problems_on_every_route(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    for (path, parameter, code) in [
        // Malformed values: once actix's text/plain 400.
        ("/v1/admin/accounts?limit=abc", "limit", "invalid_value"),
        ("/v1/admin/audit-events?limit=-1", "limit", "invalid_value"),
        // Out of range: the handler's own check, same code.
        ("/v1/admin/roles?limit=0", "limit", "invalid_value"),
        // Names the route does not take, on routes with and without parameters.
        ("/v1/admin/accounts?limt=5", "limt", "unknown_parameter"),
        ("/v1/account/me?verbose=1", "verbose", "unknown_parameter"),
        (
            "/v1/admin/api-keys?limit=5&sort=name",
            "sort",
            "unknown_parameter",
        ),
        // Not UTF-8 once decoded.
        ("/v1/admin/accounts?email=%ff", "email", "invalid_encoding"),
    ] {
        let problem = assert_problem(app.get_as(path, &root).await, 400, "invalid_query").await;
        assert_eq!(
            problem["errors"][0]["field"], parameter,
            "{path}: {problem}"
        );
        assert_eq!(problem["errors"][0]["code"], code, "{path}: {problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains(parameter),
            "{path}: {problem}"
        );
    }
    // Probes and scrapers may add parameters of their own; their text is still checked.
    for path in [
        "/healthz?_=1733300000",
        "/readyz?probe=1",
        "/metrics?job=roster",
    ] {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
    assert_problem(app.get("/healthz?probe=%00").await, 400, "invalid_query").await;
}

// --- Finding 11 --------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_held_open_is_answered_408_and_the_connection_closed() {
    let Some(app) = spawn_app_with(
        Db::Sqlite,
        options(&[("ROSTER__SERVER__BODY_TIMEOUT", "1s")]),
    )
    .await
    else {
        return;
    };
    let port = port_of(&app);
    let reply = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(8)))
            .unwrap();
        // 100 bytes announced, 20 sent, the rest never.
        stream
            .write_all(
                b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                  Content-Length: 100\r\n\r\n{\"email\": \"a@b.c\", ",
            )
            .unwrap();
        read_all(&mut stream)
    })
    .await
    .unwrap();
    assert!(reply.starts_with("HTTP/1.1 408"), "no 408: {reply:?}");
    assert!(reply.contains("\"code\":\"request_timeout\""), "{reply}");
    assert!(
        reply.to_ascii_lowercase().contains("connection: close"),
        "{reply}"
    );
    // A body sent at once is not affected.
    let member = app.new_account("prompt").await;
    assert!(!member.token.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_per_address_cap_get_429_until_one_closes() {
    let Some(app) = spawn_app_with(
        Db::Sqlite,
        options(&[("ROSTER__SERVER__MAX_CONNECTIONS_PER_IP", "3")]),
    )
    .await
    else {
        return;
    };
    let app = std::sync::Arc::new(app);
    let client_side = app.clone();
    let (mut held, over_cap) = tokio::task::spawn_blocking(move || {
        let mut open: Vec<TcpStream> = (0..3)
            .map(|_| connect(&client_side, Duration::from_secs(5)))
            .collect();
        for stream in &mut open {
            let reply = get_on(stream, "/healthz").expect("a reply within the cap");
            assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
        }
        let mut fourth = connect(&client_side, Duration::from_secs(5));
        let over_cap = get_on(&mut fourth, "/healthz").expect("a reply over the cap");
        (open, over_cap)
    })
    .await
    .unwrap();
    assert!(over_cap.starts_with("HTTP/1.1 429"), "{over_cap}");
    assert!(
        over_cap.contains("\"code\":\"too_many_connections\""),
        "{over_cap}"
    );
    assert!(
        over_cap.contains("x-content-type-options: nosniff"),
        "{over_cap}"
    );

    // A closed connection gives its slot back.
    drop(held.pop());
    let freed = eventually(Duration::from_secs(3), || {
        let app = app.clone();
        async move { app.get("/healthz").await.status() == 200 }
    })
    .await;
    assert!(
        freed.is_some(),
        "the slot of a closed connection was not given back"
    );
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_total_cap_wait_until_some_close() {
    let Some(app) = spawn_app_with(
        Db::Sqlite,
        options(&[("ROSTER__SERVER__MAX_CONNECTIONS", "4")]),
    )
    .await
    else {
        return;
    };
    let app = std::sync::Arc::new(app);
    let client_side = app.clone();
    let (held, while_full, after) = tokio::task::spawn_blocking(move || {
        // Four kept-alive connections fill the server.
        let mut open: Vec<TcpStream> = (0..4)
            .map(|_| connect(&client_side, Duration::from_secs(3)))
            .collect();
        let held: Vec<Option<String>> = open
            .iter_mut()
            .map(|stream| get_on(stream, "/healthz"))
            .collect();
        let mut fifth = connect(&client_side, Duration::from_millis(800));
        let while_full = get_on(&mut fifth, "/healthz");
        drop(open);
        fifth
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut after = vec![0_u8; 4096];
        let read = fifth.read(&mut after).unwrap_or(0);
        after.truncate(read);
        (
            held,
            while_full,
            String::from_utf8_lossy(&after).into_owned(),
        )
    })
    .await
    .unwrap();
    for reply in held {
        assert!(reply.unwrap().starts_with("HTTP/1.1 200"));
    }
    assert_eq!(
        while_full, None,
        "a fifth connection was served past the cap of 4"
    );
    assert!(
        after.starts_with("HTTP/1.1 200"),
        "not served once slots freed: {after:?}"
    );
}

// --- Finding 14 --------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_features_endpoint_names_the_line_and_kind_but_never_the_content() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let marker = format!("leaked-{}", uuid::Uuid::now_v7().simple());
    app.write_features(&format!(
        "disabledFeatures = [\n    metrics\n    {marker}\n]\n"
    ));
    let reported = eventually(Duration::from_secs(3), || async {
        let features: Value = app.get("/v1/features").await.json().await.unwrap();
        !features["file"]["error"].is_null()
    })
    .await;
    assert!(reported.is_some(), "the broken edit was not reported");
    let features: Value = app.get("/v1/features").await.json().await.unwrap();
    assert_eq!(
        features["file"]["error"],
        "features file line 3: unknown feature name"
    );
    // The operator's log keeps the detail (it is the operator's own file).
    let logged = eventually(Duration::from_secs(2), || {
        let marker = marker.clone();
        async move { captured_logs().contains(&marker) }
    })
    .await;
    assert!(
        logged.is_some(),
        "the log lost the detail of the broken line"
    );

    let quote = app
        .client
        .get(app.url("/v1/features"))
        .send()
        .await
        .unwrap();
    let body = quote.text().await.unwrap();
    assert!(!body.contains(&marker), "{body}");
}

// --- Finding 15 --------------------------------------------------------------------------

fn assert_security_headers(response: &reqwest::Response, what: &str) {
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(headers["referrer-policy"], "no-referrer", "{what}");
    assert_eq!(
        headers["content-security-policy"], "default-src 'none'; frame-ancestors 'none'",
        "{what}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let member = app.new_account("headers").await;
    let cases = [
        ("GET /healthz", app.get("/healthz").await, 200),
        ("GET /readyz", app.get("/readyz").await, 200),
        ("GET /metrics", app.get("/metrics").await, 200),
        ("GET /openapi.json", app.get("/openapi.json").await, 200),
        ("GET /v1/features", app.get("/v1/features").await, 200),
        (
            "GET /v1/account/me",
            app.get_as("/v1/account/me", &member.token).await,
            200,
        ),
        ("401", app.get("/v1/account/me").await, 401),
        ("404", app.get("/no/such/thing").await, 404),
        (
            "405",
            app.client
                .patch(app.url("/v1/features"))
                .send()
                .await
                .unwrap(),
            405,
        ),
        (
            "415",
            app.client
                .post(app.url("/v1/auth/login"))
                .body("{}")
                .send()
                .await
                .unwrap(),
            415,
        ),
        ("400 query", app.get("/v1/features?x=%00").await, 400),
    ];
    for (what, response, status) in cases {
        assert_eq!(response.status(), status, "{what}");
        assert_security_headers(&response, what);
    }
}

// --- Finding 16 --------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_bind_serves_metrics_there_and_only_there() {
    let Some(app) = spawn_app_with(
        Db::Sqlite,
        options(&[("ROSTER__SERVER__METRICS_BIND", "127.0.0.1:0")]),
    )
    .await
    else {
        return;
    };
    let metrics_address = app.metrics_address.clone().expect("a metrics listener");
    assert_ne!(metrics_address, app.address);
    assert_eq!(app.get("/healthz").await.status(), 200);

    let scraped = app
        .client
        .get(format!("{metrics_address}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), 200);
    assert_security_headers(&scraped, "metrics listener");
    let text = scraped.text().await.unwrap();
    assert!(text.contains("roster_http_requests_total"), "{text}");

    assert_problem(app.get("/metrics").await, 404, "not_found").await;
    for path in ["/healthz", "/v1/features", "/openapi.json"] {
        let response = app
            .client
            .get(format!("{metrics_address}{path}"))
            .send()
            .await
            .unwrap();
        assert_problem(response, 404, "not_found").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_metrics_bind_metrics_stay_on_the_main_listener() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    assert_eq!(app.metrics_address, None);
    assert_eq!(app.get("/healthz").await.status(), 200);
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("roster_http_requests_total")
    );
}
