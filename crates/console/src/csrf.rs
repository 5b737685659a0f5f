//! Protection against cross-site requests, two checks on every state-changing request:
//!
//! 1. **A token in the form** that another site cannot know: it is derived from a secret the
//!    browser holds in an `HttpOnly` cookie (the session token once signed in; before that a
//!    random pre-session cookie, so the sign-in and sign-up forms are protected too). Deriving
//!    it, instead of storing one, keeps it tied to the session: a new session means a new
//!    token, and nothing extra is stored on the server.
//! 2. **The request's origin**: `Origin` (sent by browsers on every POST) must be the
//!    console's own, and `Sec-Fetch-Site`, when sent, must say `same-origin`.
//!
//! `SameSite=Strict` cookies already keep other sites' requests from carrying the session;
//! these checks hold even where that does not (an older browser, a sibling subdomain).
//!
//! The origin is checked twice: first by [`refuse_cross_origin`], in front of every console
//! route, so a forged request is answered 403 before anything reads it (whether or not the
//! browser sent a cookie: without one the page would otherwise answer "sign in first"); then
//! with the token, by [`verify`], when a [`crate::forms::Form`] is read.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, ResponseError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::render::ConsoleError;
use crate::session::{ConsoleSettings, session_token, settings_of};

/// The pre-session cookie: a random secret that anonymous forms' tokens derive from.
pub const CSRF_COOKIE: &str = "roster_csrf";

/// The form field carrying the token.
pub const CSRF_FIELD: &str = "csrf_token";

/// The token for forms whose requests will carry `secret` (a session token or the
/// pre-session cookie's value). A digest, so the token never reveals the secret.
pub fn token_for(secret: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"roster console csrf\n")
        .chain_update(secret.as_bytes())
        .finalize();
    URL_SAFE_NO_PAD.encode(digest)
}

/// A fresh pre-session secret: 256 random bits.
pub fn new_pre_session_secret() -> String {
    let mut bytes = [0_u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The secret `req`'s forms are bound to: its session cookie, else its pre-session cookie.
pub fn request_secret(req: &HttpRequest) -> Option<String> {
    session_token(req).or_else(|| {
        req.cookie(CSRF_COOKIE)
            .map(|cookie| cookie.value().to_owned())
            .filter(|value| !value.is_empty())
    })
}

/// Why a state-changing request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsrfRefusal {
    /// `Origin` or `Sec-Fetch-Site` names another site.
    CrossOrigin,
    /// The form's token is missing or is not the one for this browser's cookies.
    BadToken,
}

/// Both checks for a state-changing request whose form carried `sent_token`.
pub fn verify(req: &HttpRequest, sent_token: Option<&str>) -> Result<(), CsrfRefusal> {
    if !same_origin(req, &settings_of(req)) {
        return Err(CsrfRefusal::CrossOrigin);
    }
    let (Some(secret), Some(sent)) = (request_secret(req), sent_token) else {
        return Err(CsrfRefusal::BadToken);
    };
    let expected = token_for(&secret);
    if bool::from(expected.as_bytes().ct_eq(sent.as_bytes())) {
        Ok(())
    } else {
        Err(CsrfRefusal::BadToken)
    }
}

/// Answers 403 (the console's "Request refused" page) to a state-changing request that the
/// browser says comes from another origin, before any extractor runs; safe methods pass.
pub async fn refuse_cross_origin(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !same_origin(req.request(), &settings_of(req.request())) {
        let response = ConsoleError::Csrf(CsrfRefusal::CrossOrigin).error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// Whether the request comes from the console's own origin, as far as the browser says.
/// A client that sends neither header (curl, an old browser) is judged by the token alone.
fn same_origin(req: &HttpRequest, settings: &ConsoleSettings) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        // `none`: the person typed the address or used a bookmark.
        if !matches!(site.as_bytes(), b"same-origin" | b"none") {
            return false;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if let Some(expected) = &settings.public_origin {
        return origin.eq_ignore_ascii_case(expected);
    }
    // Without `server.public_url`: the host the request was sent to, from `Host` itself,
    // never from `Forwarded`/`X-Forwarded-Host` (anyone's text). Either scheme: behind a
    // TLS-terminating proxy the browser says https while this listener sees http.
    let Some(host) = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
    else {
        return false;
    };
    origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .is_some_and(|origin_host| origin_host.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use actix_web::cookie::Cookie;
    use actix_web::test::TestRequest;
    use actix_web::web::Data;

    use super::*;
    use crate::session::SESSION_COOKIE;

    fn signed_in() -> TestRequest {
        TestRequest::post()
            .insert_header((header::HOST, "localhost:8080"))
            .cookie(Cookie::new(SESSION_COOKIE, "session-secret"))
    }

    #[test]
    fn the_token_of_the_session_is_accepted_from_the_same_origin() {
        let token = token_for("session-secret");
        let req = signed_in()
            .insert_header((header::ORIGIN, "http://localhost:8080"))
            .insert_header(("sec-fetch-site", "same-origin"))
            .to_http_request();
        assert_eq!(verify(&req, Some(&token)), Ok(()));
        // Without browser headers (curl), the token alone decides.
        let req = signed_in().to_http_request();
        assert_eq!(verify(&req, Some(&token)), Ok(()));
    }

    #[test]
    fn another_origin_is_refused_even_with_the_right_token() {
        let token = token_for("session-secret");
        for (name, value) in [
            (header::ORIGIN.as_str(), "https://evil.example"),
            (header::ORIGIN.as_str(), "null"),
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-site", "same-site"),
        ] {
            let req = signed_in().insert_header((name, value)).to_http_request();
            assert_eq!(
                verify(&req, Some(&token)),
                Err(CsrfRefusal::CrossOrigin),
                "{name}: {value}"
            );
        }
    }

    #[test]
    fn a_missing_or_foreign_token_is_refused() {
        let req = signed_in().to_http_request();
        assert_eq!(verify(&req, None), Err(CsrfRefusal::BadToken));
        assert_eq!(
            verify(&req, Some(&token_for("another-session"))),
            Err(CsrfRefusal::BadToken)
        );
        assert_eq!(verify(&req, Some("")), Err(CsrfRefusal::BadToken));
        // No cookie at all: nothing to bind a token to.
        let bare = TestRequest::post().to_http_request();
        assert_eq!(
            verify(&bare, Some(&token_for(""))),
            Err(CsrfRefusal::BadToken)
        );
    }

    #[test]
    fn anonymous_forms_use_the_pre_session_cookie() {
        let req = TestRequest::post()
            .cookie(Cookie::new(CSRF_COOKIE, "pre-session"))
            .to_http_request();
        assert_eq!(verify(&req, Some(&token_for("pre-session"))), Ok(()));
    }

    /// A forged POST without any cookie (what a `SameSite=Strict` browser sends cross-site)
    /// is refused as forged, not sent to sign in; reading pages from anywhere still works.
    #[actix_web::test]
    async fn cross_origin_writes_are_refused_before_the_handler_runs() {
        use actix_web::middleware::from_fn;
        use actix_web::{App, HttpResponse, test, web};

        let app = test::init_service(
            App::new().service(
                web::scope("/console")
                    .wrap(from_fn(refuse_cross_origin))
                    .route("/x", web::to(HttpResponse::Ok)),
            ),
        )
        .await;
        let call = |method: Method, headers: &[(&'static str, &'static str)]| {
            let mut req = TestRequest::default()
                .method(method)
                .uri("/console/x")
                .insert_header((header::HOST, "localhost:8080"));
            for header in headers {
                req = req.insert_header(*header);
            }
            req.to_request()
        };
        let forged = [
            ("origin", "http://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ];
        let status = |req| async { test::call_service(&app, req).await.status().as_u16() };
        assert_eq!(status(call(Method::POST, &forged)).await, 403);
        assert_eq!(status(call(Method::DELETE, &forged)).await, 403);
        assert_eq!(status(call(Method::GET, &forged)).await, 200);
        let own = [("origin", "http://localhost:8080")];
        assert_eq!(status(call(Method::POST, &own)).await, 200);
    }

    #[test]
    fn forwarding_headers_do_not_move_the_expected_origin() {
        let token = token_for("session-secret");
        let req = signed_in()
            .insert_header((header::ORIGIN, "http://evil.example"))
            .insert_header(("x-forwarded-host", "evil.example"))
            .insert_header(("forwarded", "host=evil.example;proto=http"))
            .to_http_request();
        assert_eq!(verify(&req, Some(&token)), Err(CsrfRefusal::CrossOrigin));
        // Behind a TLS-terminating proxy the browser's origin is https to the same host.
        let req = signed_in()
            .insert_header((header::ORIGIN, "https://localhost:8080"))
            .to_http_request();
        assert_eq!(verify(&req, Some(&token)), Ok(()));
    }

    #[test]
    fn the_public_url_is_the_expected_origin() {
        let token = token_for("session-secret");
        let req = signed_in()
            .insert_header((header::ORIGIN, "https://id.example.com"))
            .app_data(Data::new(ConsoleSettings::new(Some(
                "https://id.example.com",
            ))))
            .to_http_request();
        assert_eq!(verify(&req, Some(&token)), Ok(()));
        // The Host header no longer decides.
        let req = signed_in()
            .insert_header((header::ORIGIN, "http://localhost:8080"))
            .app_data(Data::new(ConsoleSettings::new(Some(
                "https://id.example.com",
            ))))
            .to_http_request();
        assert_eq!(verify(&req, Some(&token)), Err(CsrfRefusal::CrossOrigin));
    }
}
