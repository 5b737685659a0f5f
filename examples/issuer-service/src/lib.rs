//! An issuer service that lets Roster decide who may issue credentials for a tenant.
//!
//! `POST /tenants/{tenant}/credentials` needs `issuer-sign` on the scope `{tenant}` (a dot
//! path such as `acme.berlin`). The bearer token is introspected by Roster once per
//! `cache_ttl`; every decision in between is local (`Caller::require`).

use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use roster_client::domain::{Action, ScopePath};
use roster_client::{Authenticator, Caller, IntrospectedPrincipal};
use serde_json::json;

/// The action the protected route needs.
pub const ISSUE: &str = "issuer-sign";

/// The service's routes: the protected one and an open health probe.
pub fn app(authenticator: Authenticator) -> Router {
    Router::new()
        .route("/tenants/{tenant}/credentials", post(issue_credential))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(authenticator)
}

/// Issues a (pretend) credential for `tenant` when the caller may sign there.
async fn issue_credential(caller: Caller, Path(tenant): Path<String>) -> Response {
    // A tenant is one place: `acme.*` parses as a scope pattern but names no tenant.
    let Some(scope) = ScopePath::parse(&tenant)
        .ok()
        .filter(ScopePath::is_concrete)
    else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such tenant"})),
        )
            .into_response();
    };
    let action = Action::parse(ISSUE).expect("a valid action name");
    if let Err(denied) = caller.require(&action, &scope) {
        return denied.into_response();
    }
    let issued_by = match caller.details() {
        IntrospectedPrincipal::Account { email, .. } => email.clone(),
        IntrospectedPrincipal::ApiKey { name, .. } => name.clone(),
    };
    (
        StatusCode::CREATED,
        Json(json!({"tenant": scope.to_string(), "issued_by": issued_by})),
    )
        .into_response()
}
