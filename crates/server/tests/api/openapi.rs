//! `GET /openapi.json`: the served document is `docs/openapi.json` (no drift), it describes
//! every route of the route table and nothing else, and it is 404 while the `openapi` flag is
//! off.
//!
//! After changing a route, a DTO or an annotation, regenerate the committed document with
//! `ROSTER_UPDATE_OPENAPI=1 cargo test -p roster --test api openapi`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

use crate::helpers::{AppOptions, Db, assert_problem, spawn_app, spawn_app_with};

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

fn workspace_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// Every `(method, path)` the document describes.
fn documented_operations(document: &Value) -> BTreeSet<(String, String)> {
    document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("path item")
                .keys()
                .filter(|method| METHODS.contains(&method.as_str()))
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect()
}

/// Every `(method, path)` registered in `crates/http/src/routes/mod.rs`: each
/// `resource("PATH")` with its `.route(web::METHOD()...)` lines.
fn route_table() -> BTreeSet<(String, String)> {
    let source = std::fs::read_to_string(workspace_file("crates/http/src/routes/mod.rs"))
        .expect("route table source");
    let mut routes = BTreeSet::new();
    for resource in source.split("resource(\"").skip(1) {
        let (path, rest) = resource.split_once('"').expect("closing quote");
        for method in METHODS {
            if rest.contains(&format!("web::{method}()")) {
                routes.insert((method.to_owned(), path.to_owned()));
            }
        }
    }
    routes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_document_is_docs_openapi_json() {
    let app = spawn_app(Db::Sqlite).await.expect("SQLite app");
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let served = response.text().await.unwrap();
    assert_eq!(
        served,
        roster_http::openapi_json(),
        "the route serves roster_http::openapi_json()"
    );

    let committed_path = workspace_file("docs/openapi.json");
    if std::env::var_os("ROSTER_UPDATE_OPENAPI").is_some_and(|value| value == "1") {
        std::fs::write(&committed_path, format!("{served}\n")).expect("write docs/openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    let committed: Value = serde_json::from_str(&committed).unwrap_or(Value::Null);
    let served: Value = serde_json::from_str(&served).expect("the served document is JSON");
    assert!(
        served == committed,
        "docs/openapi.json is not the document the code generates. Regenerate it with\n\n    \
         ROSTER_UPDATE_OPENAPI=1 cargo test -p roster --test api openapi\n\nand commit the \
         result."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_describes_every_route_and_nothing_else() {
    let app = spawn_app(Db::Sqlite).await.expect("SQLite app");
    let document: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3.1"),
        "OpenAPI 3.1, got {}",
        document["openapi"]
    );
    assert_eq!(document["info"]["title"], "Roster");
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"],
        serde_json::json!({
            "type": "http",
            "scheme": "bearer",
            "description": document["components"]["securitySchemes"]["bearer"]["description"],
        })
    );
    let problem = &document["components"]["schemas"]["Problem"]["properties"];
    for field in ["type", "title", "status", "detail", "code", "errors"] {
        assert!(problem[field].is_object(), "Problem.{field} is documented");
    }

    let routes = route_table();
    assert!(routes.len() >= 35, "route table parsed: {routes:?}");
    let documented = documented_operations(&document);
    let undocumented: Vec<_> = routes.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the document: {undocumented:?}"
    );
    let unrouted: Vec<_> = documented.difference(&routes).collect();
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );

    for (method, path) in &documented {
        let operation = &document["paths"][path][method];
        // Every operation documents its success and at least one problem.
        let statuses: Vec<&String> = operation["responses"].as_object().unwrap().keys().collect();
        assert!(
            statuses.iter().any(|s| s.starts_with('2'))
                && statuses.iter().any(|s| s.starts_with('4')),
            "{method} {path} responses: {statuses:?}"
        );
        // The running app answers the documented method on the documented path (with
        // placeholders for path parameters, no token, no body): never 404 or 405.
        let url = app.url(
            &path
                .replace("{id}", &uuid::Uuid::now_v7().to_string())
                .replace("{grant_id}", &uuid::Uuid::now_v7().to_string())
                .replace("{name}", "no-such-role"),
        );
        let request = match method.as_str() {
            "get" => app.client.get(url),
            "post" => app.client.post(url),
            "put" => app.client.put(url),
            "delete" => app.client.delete(url),
            other => panic!("unexpected method {other}"),
        };
        let status = request.send().await.unwrap().status().as_u16();
        assert!(
            status != 404 && status != 405,
            "{method} {path}: the app answered {status}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_404_while_its_flag_is_off() {
    let options = AppOptions {
        features: Some("disabledFeatures = [\n    openapi\n]\n".into()),
        ..AppOptions::default()
    };
    let app = spawn_app_with(Db::Sqlite, options)
        .await
        .expect("SQLite app");
    assert_problem(app.get("/openapi.json").await, 404, "not_found").await;
    // The rest of the API is unaffected.
    assert_eq!(app.get("/healthz").await.status(), 200);
}
