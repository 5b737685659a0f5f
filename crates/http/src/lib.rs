//! Roster's HTTP adapter: thin actix-web handlers that parse, call one use case and render.
//! Errors become RFC 9457 problem responses in one place ([`ApiError`]); the OpenAPI 3.1
//! document ([`openapi_json`]) is generated from the handlers' annotations and the DTOs.
//!
//! # Module stack
//!
//! Modules import only from the layers below them, never sideways up or in a circle (the
//! test `module_imports_form_a_stack` below reads the sources and fails on a cycle):
//!
//! 1. `lib` — [`configure`]: registers the served document as app data, then the routes.
//! 2. `openapi` — the document, generated from the handlers it lists.
//! 3. `routes` — the route table (`routes/mod.rs`) and one module per resource; a route
//!    module imports the layers below, never another route module or `routes/mod.rs`.
//! 4. `request_context` (middleware) -> `hardening` -> `rate_limit` -> `extract` (typed
//!    extractors) and `dto` (wire shapes), `respond` (shared success responses),
//!    `document` (the served document as app data).
//! 5. `problem` ([`ApiError`] and the problem body) -> `metrics` and `schema` (schema-only
//!    names: string enums, the problem media type, the security scheme): the leaves.

mod document;
pub mod dto;
mod extract;
mod hardening;
mod introspection_body;
mod metrics;
mod openapi;
mod problem;
mod rate_limit;
mod request_context;
mod respond;
mod routes;
mod schema;

use std::sync::OnceLock;

use actix_web::web::{Data, ServiceConfig};

pub use document::ApiDocument;
pub use extract::{
    ApiJson, ApiQuery, BODY_LIMIT, BodyTimeout, Caller, Client, DEFAULT_BODY_TIMEOUT, client_ip,
};
pub use hardening::{ConnectionLimiter, MetricsListener, set_security_headers};
pub use metrics::{Metrics, MetricsProbe, ProblemCode, record_protocol_error};
pub use openapi::{openapi, openapi_json};
pub use problem::ApiError;
pub use rate_limit::{ClientRateLimiter, RateLimitSettings, RateLimited};
pub use request_context::{InFlight, X_REQUEST_ID, request_context};

/// Registers every route and the OpenAPI document they serve and check queries against.
/// The caller puts `Data<Roster>`, `Data<Metrics>` and
/// `Data<ClientRateLimiter>` into the app; see [`routes::configure`].
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.app_data(served_document());
    routes::configure(cfg);
}

/// The document, generated once per process and shared by every worker's app.
fn served_document() -> Data<ApiDocument> {
    static DOCUMENT: OnceLock<Data<ApiDocument>> = OnceLock::new();
    DOCUMENT
        .get_or_init(|| Data::new(ApiDocument::new(&openapi())))
        .clone()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    /// Every source file (`routes/grants.rs`) with its code outside `#[cfg(test)]`, comments
    /// dropped.
    fn sources() -> BTreeMap<String, String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = BTreeMap::new();
        let mut folders = vec![root.clone()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|ext| ext == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                    let code: Vec<&str> = code
                        .lines()
                        .filter(|line| !line.trim_start().starts_with("//"))
                        .collect();
                    let name = path.strip_prefix(&root).unwrap().to_string_lossy();
                    files.insert(name.replace('\\', "/"), code.join("\n"));
                }
            }
        }
        files
    }

    /// The file a path starting at `folder` (`""` for the crate root, `"routes"`) names.
    fn file_of(files: &BTreeMap<String, String>, folder: &str, name: &str) -> String {
        let prefix = if folder.is_empty() {
            String::new()
        } else {
            format!("{folder}/")
        };
        for candidate in [
            format!("{prefix}{name}.rs"),
            format!("{prefix}{name}/mod.rs"),
        ] {
            if files.contains_key(&candidate) {
                return candidate;
            }
        }
        // An item of the folder's own module (`crate::ApiError`, `super::no_store`).
        if folder.is_empty() {
            "lib.rs".to_owned()
        } else {
            format!("{folder}/mod.rs")
        }
    }

    /// Which files each file imports: `crate::x`, `super::x` (also inside `use super::{..}`)
    /// and the child modules it declares with `mod x;`.
    fn imports(files: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
        let mut graph = BTreeMap::new();
        for (file, code) in files {
            let own_folder = file.rsplit_once('/').map_or("", |(folder, _)| folder);
            let parent_folder = own_folder.rsplit_once('/').map_or("", |(folder, _)| folder);
            // `super` in `routes/grants.rs` is `routes`; in `routes/mod.rs`, the crate root.
            let super_folder = if file.ends_with("mod.rs") {
                parent_folder
            } else {
                own_folder
            };
            let child_folder = if file.ends_with("mod.rs") || file == "lib.rs" {
                own_folder
            } else {
                file.trim_end_matches(".rs")
            };
            let mut targets = BTreeSet::new();
            let words: Vec<&str> = code
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .collect();
            for word in words {
                let mut parts = word.split("::");
                let (folder, name) = match (parts.next(), parts.next()) {
                    (Some("crate"), Some(name)) => ("", name),
                    (Some("super"), Some(name)) => (super_folder, name),
                    _ => continue,
                };
                if !name.is_empty() {
                    targets.insert(file_of(files, folder, name));
                }
            }
            for group in code.split("use super::{").skip(1) {
                let group = group.split('}').next().unwrap_or_default();
                for name in group.split(',').map(str::trim) {
                    if !name.is_empty() {
                        let name = name.split("::").next().unwrap_or_default();
                        targets.insert(file_of(files, super_folder, name));
                    }
                }
            }
            for line in code.lines() {
                let line = line.trim();
                let line = line
                    .strip_prefix("pub(crate) ")
                    .or_else(|| line.strip_prefix("pub "))
                    .unwrap_or(line);
                if let Some(child) = line.strip_prefix("mod ").and_then(|l| l.strip_suffix(';')) {
                    targets.insert(file_of(files, child_folder, child));
                }
            }
            targets.remove(file);
            graph.insert(file.clone(), targets);
        }
        graph
    }

    /// A cycle through `file`, as the files on it, if there is one.
    fn cycle_from(
        graph: &BTreeMap<String, BTreeSet<String>>,
        file: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|on_path| on_path == file) {
            return Some(path[start..].to_vec());
        }
        if !done.insert(file.to_owned()) {
            return None;
        }
        path.push(file.to_owned());
        for target in graph.get(file).into_iter().flatten() {
            if let Some(cycle) = cycle_from(graph, target, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }

    #[test]
    fn module_imports_form_a_stack() {
        let files = sources();
        let graph = imports(&files);
        assert!(
            graph["openapi.rs"].contains("routes/mod.rs"),
            "the import scan sees `use crate::routes::...`: {graph:?}"
        );
        assert!(
            graph["routes/mod.rs"].contains("routes/grants.rs"),
            "the import scan sees `mod grants;`: {graph:?}"
        );
        let mut done = BTreeSet::new();
        for file in graph.keys() {
            if let Some(cycle) = cycle_from(&graph, file, &mut Vec::new(), &mut done) {
                panic!(
                    "modules import each other in a circle: {}",
                    cycle.join(" -> ")
                );
            }
        }
    }
}
