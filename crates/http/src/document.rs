//! The OpenAPI document as the running service uses it: the JSON `GET /openapi.json` serves,
//! and the query parameter names each operation documents (which the query-string rule of
//! [`crate::hardening`] holds every request to). Built once from the document value by
//! [`crate::configure`] and handed to the routes and the middleware as app data, so neither
//! reaches back up to the module that generates the document.

use std::collections::{HashMap, HashSet};

use actix_web::http::Method;
use actix_web::web::Bytes;
use utoipa::openapi::OpenApi;
use utoipa::openapi::path::{Operation, ParameterIn};

/// The served document and what the service reads out of it.
#[derive(Debug)]
pub struct ApiDocument {
    /// Shared, not copied, by every response that serves it.
    json: Bytes,
    query_parameters: HashMap<(String, Method), HashSet<String>>,
}

impl ApiDocument {
    /// Renders `document` (pretty JSON, as `docs/openapi.json` holds it) and collects the
    /// query parameters of every operation.
    pub fn new(document: &OpenApi) -> Self {
        let mut query_parameters = HashMap::new();
        for (path, item) in &document.paths.paths {
            let operations: [(Method, &Option<Operation>); 5] = [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::DELETE, &item.delete),
                (Method::PATCH, &item.patch),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                let names = operation
                    .parameters
                    .iter()
                    .flatten()
                    .filter(|parameter| matches!(parameter.parameter_in, ParameterIn::Query))
                    .map(|parameter| parameter.name.clone())
                    .collect();
                query_parameters.insert((path.clone(), method), names);
            }
        }
        Self {
            json: Bytes::from(
                document
                    .to_pretty_json()
                    .expect("the OpenAPI document serializes"),
            ),
            query_parameters,
        }
    }

    /// The document as `GET /openapi.json` serves it.
    pub fn json(&self) -> Bytes {
        self.json.clone()
    }

    /// The query parameters the operation at (path pattern, method) documents; `None` when
    /// the document has no such operation.
    pub fn query_parameters(&self, pattern: &str, method: &Method) -> Option<&HashSet<String>> {
        self.query_parameters
            .get(&(pattern.to_owned(), method.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(names: &[&str]) -> HashSet<String> {
        names.iter().map(|&name| name.to_owned()).collect()
    }

    #[test]
    fn the_query_parameters_come_from_the_openapi_document() {
        let document = ApiDocument::new(&crate::openapi());
        let accounts = document
            .query_parameters("/v1/admin/accounts", &Method::GET)
            .unwrap();
        assert_eq!(accounts, &known(&["email", "limit", "cursor"]));
        assert!(
            document
                .query_parameters("/v1/account/me", &Method::GET)
                .unwrap()
                .is_empty()
        );
        assert!(
            document
                .query_parameters("/v1/account/me", &Method::PATCH)
                .is_none()
        );
        assert_eq!(document.json(), crate::openapi_json().as_bytes());
    }
}
