//! axum 0.8: [`Caller`] as an extractor (from any state an [`Authenticator`] can be taken
//! from), and the refusals as responses.
//!
//! ```no_run
//! use axum::Router;
//! use axum::routing::post;
//! use roster_client::axum::Denied;
//! use roster_client::{Authenticator, AuthenticatorConfig, Caller, Client, Requirement};
//!
//! static SIGN: std::sync::LazyLock<Requirement> =
//!     std::sync::LazyLock::new(|| Requirement::new("issuer-sign", "acme").unwrap());
//!
//! async fn sign(caller: Caller) -> Result<&'static str, Denied> {
//!     caller.require(&SIGN.action, &SIGN.scope)?;
//!     Ok("signed")
//! }
//!
//! # fn app(roster: Client) {
//! let authenticator = Authenticator::new(roster, AuthenticatorConfig::default());
//! let app: Router = Router::new().route("/sign", post(sign)).with_state(authenticator);
//! # }
//! ```

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub use crate::authenticator::{AuthError, Denied};
use crate::authenticator::{Authenticator, Caller, Refusal};

impl<S> FromRequestParts<S> for Caller
where
    Authenticator: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    /// The caller is kept in the request's extensions, so a second extraction (a layer,
    /// then the handler) costs nothing.
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Caller, AuthError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let authenticator = Authenticator::from_ref(state);
        let authorization = parts
            .headers
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes);
        let caller = authenticator.authenticate_header(authorization).await?;
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

fn respond(refusal: &Refusal) -> Response {
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        refusal.body(),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        if let AuthError::Unavailable(error) = &self {
            tracing::warn!(%error, "request refused: Roster cannot be asked");
        }
        respond(&self.refusal())
    }
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        respond(&self.refusal())
    }
}
