//! The gate in front of every console request: the `web-console` flag, and the headers every
//! console response carries.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{HttpResponse, http::StatusCode};
use roster_app::{Feature, Roster};

/// The console's content security policy: scripts and styles only from the console's own
/// files (no inline script, no `eval`), forms only to itself, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
    base-uri 'none'; frame-ancestors 'none'";

/// Where the console's embedded files are served; the one part that may be cached.
pub const ASSETS_PREFIX: &str = "/console/assets/";

/// Answers 404 for every console path while the `web-console` flag is off (the console then
/// does not exist, as the registration route does not while its flag is off), and sets the
/// console's headers on everything else: its CSP, and `no-store` on every page (a signed-in
/// page must not be kept by the browser or a proxy; the sign-in page carries a CSRF token).
pub async fn console_guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let enabled = req
        .app_data::<Data<Roster>>()
        .is_some_and(|roster| roster.is_enabled(Feature::WebConsole));
    if !enabled {
        let response = HttpResponse::build(StatusCode::NOT_FOUND)
            .content_type("text/plain; charset=utf-8")
            .body("Not found: the web console is switched off on this server.");
        return Ok(req.into_response(response).map_into_right_body());
    }
    let is_asset = req.path().starts_with(ASSETS_PREFIX);
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Not the API's `no-referrer`: under it a browser sends `Origin: null` with every form
    // post, even to its own origin, and the origin check (csrf.rs) would refuse them all.
    // `same-origin` still sends nothing to other sites.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !is_asset {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response.map_into_left_body())
}
