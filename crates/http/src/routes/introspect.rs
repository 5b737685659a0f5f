//! `POST /v1/auth/introspect`: a service asks about a token presented to it.

use actix_web::Responder;
use actix_web::http::header::ContentType;
use actix_web::web::Data;
use roster_app::AppError;
use roster_app::{Introspection, Roster};

use crate::dto::{IntrospectRequest, IntrospectionResponse};
use crate::extract::{ApiJson, IntrospectionCaller};
use crate::introspection_body::IntrospectionBody;
use crate::metrics::IntrospectionAnswer;
use crate::problem::{ApiError, problems};
use crate::respond::no_store;

problems!(
    /// The problems `introspect` answers besides the shared ones.
    IntrospectProblems {
        AppError::Forbidden => "the caller lacks `token-introspect` on `*`.",
    }
);

/// `{"active": false}` for a token that cannot be used, else its principal and grants.
#[utoipa::path(
    post,
    path = "/v1/auth/introspect",
    operation_id = "introspectToken",
    tag = "authentication",
    summary = "Introspect a token",
    description = "For services that receive Roster tokens: whether `token` (a session token \
        or an API key) can be used now and, if so, whose it is (`principal`), its `grants` \
        with each role's rules, the holder's `grants_version` and `expires_at`: everything \
        needed to decide locally with `roster-domain`. Needs `token-introspect` on `*` \
        (typically a service's API key); the caller's own token may be asked about too. \
        Unknown, expired, idle, revoked, malformed tokens, tokens of disabled accounts and \
        sessions the MFA policy holds back all get exactly `{\"active\": false}`. Modelled on \
        RFC 7662: JSON instead of a form, Roster's own fields instead of `scope` and `sub`. \
        Asking records no use of the token: a session's idle timeout keeps running. Counted \
        in `roster_introspections_total`, not audited per call.",
    request_body = IntrospectRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The token's state.", body = IntrospectionResponse),
        IntrospectProblems,
    ),
)]
pub async fn introspect(
    roster: Data<Roster>,
    IntrospectionCaller(caller): IntrospectionCaller,
    ApiJson(body): ApiJson<IntrospectRequest>,
) -> Result<impl Responder, ApiError> {
    let introspection = roster.introspect(&caller, &body.token).await?;
    let json = IntrospectionBody(&introspection)
        .to_json()
        .map_err(|error| AppError::Internal(format!("writing an introspection answer: {error}")))?;
    let mut response = no_store();
    response.extensions_mut().insert(IntrospectionAnswer {
        active: matches!(introspection, Introspection::Active(_)),
    });
    Ok(response.content_type(ContentType::json()).body(json))
}
