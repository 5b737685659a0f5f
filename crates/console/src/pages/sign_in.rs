//! Signing in and out. Sign-in is the API's login (the same throttling, the same one answer
//! for unknown email, wrong password and disabled account); the session token goes into the
//! console's cookie instead of a response body.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use roster_app::{AppError, Feature, LoginOutcome, Roster};
use roster_http::Client;
use secrecy::SecretString;
use serde::Deserialize;

use super::{Landing, notice, over_rate_limit};
use crate::csrf::{new_pre_session_secret, request_secret};
use crate::forms::{FieldErrors, Form, NoFields};
use crate::layout::Layout;
use crate::render::{ConsoleError, html, see_other};
use crate::session::{ConsoleCookie, Viewer, is_console_path, settings_of};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/login", web::get().to(show))
        .route("/login", web::post().to(sign_in))
        .route("/logout", web::post().to(sign_out));
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    email: String,
    next: Option<String>,
    errors: FieldErrors,
    registration_open: bool,
    /// The account's address is not verified yet: the page offers a new link.
    unverified: bool,
    /// Problems of the "send a new link" form (always none here: it posts elsewhere).
    resend_errors: FieldErrors,
}

/// The frame of an anonymous page: its forms are bound to the pre-session cookie, which is
/// created (and returned, to be set) when the browser has none yet.
pub(crate) fn anonymous_layout(
    req: &HttpRequest,
) -> (Layout, Option<actix_web::cookie::Cookie<'static>>) {
    if let Some(secret) = request_secret(req) {
        return (Layout::anonymous(&secret), None);
    }
    let secret = new_pre_session_secret();
    let cookie = ConsoleCookie::PreSession.with_value(secret.clone(), &settings_of(req));
    (Layout::anonymous(&secret), Some(cookie))
}

/// Renders an anonymous page, setting the pre-session cookie when it was just created.
pub(crate) fn anonymous_page(
    status: StatusCode,
    page: &impl Template,
    cookie: Option<actix_web::cookie::Cookie<'static>>,
) -> HttpResponse {
    let mut response = html(status, page);
    if let Some(cookie) = cookie {
        // A cookie built by `ConsoleCookie` always encodes into a header value.
        let _ = response.add_cookie(&cookie);
    }
    response
}

/// Where to go after signing in: the page asked for, if it is a console page.
fn destination(next: Option<&str>) -> &str {
    next.filter(|path| is_console_path(path))
        .unwrap_or("/console/account")
}

/// `GET /console/login`. Someone already signed in goes straight on.
async fn show(
    req: HttpRequest,
    roster: Data<Roster>,
    landing: web::Query<Landing>,
    viewer: Option<Viewer>,
) -> HttpResponse {
    if viewer.is_some() {
        return see_other(destination(landing.next.as_deref()));
    }
    let (layout, cookie) = anonymous_layout(&req);
    let page = LoginPage {
        layout: layout.with_notice(notice(landing.done.as_deref())),
        email: String::new(),
        next: landing.next.clone().filter(|path| is_console_path(path)),
        errors: FieldErrors::default(),
        registration_open: roster.is_enabled(Feature::AccountRegistration),
        unverified: false,
        resend_errors: FieldErrors::default(),
    };
    anonymous_page(StatusCode::OK, &page, cookie)
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

/// `POST /console/login`.
async fn sign_in(
    req: HttpRequest,
    roster: Data<Roster>,
    Client(client): Client,
    form: Form<LoginForm>,
) -> Result<HttpResponse, ConsoleError> {
    let LoginForm {
        email,
        password,
        next,
    } = form.fields;
    let page = |message: String, unverified: bool| {
        let (layout, cookie) = anonymous_layout(&req);
        let page = LoginPage {
            layout,
            email: email.clone(),
            next: next.clone().filter(|path| is_console_path(path)),
            errors: FieldErrors::general(message),
            registration_open: roster.is_enabled(Feature::AccountRegistration),
            unverified,
            resend_errors: FieldErrors::default(),
        };
        (page, cookie)
    };
    let refused = |status: StatusCode, message: String| {
        let (page, cookie) = page(message, false);
        anonymous_page(status, &page, cookie)
    };
    if let Some(message) = over_rate_limit(&req) {
        return Ok(refused(StatusCode::TOO_MANY_REQUESTS, message));
    }
    let password = SecretString::from(password);
    match roster.login(&email, &password, &client).await {
        Ok(LoginOutcome::SecondFactor(_)) => Ok(refused(
            StatusCode::CONFLICT,
            "INTERIM: two-step sign-in pages are being built".to_owned(),
        )),
        Ok(LoginOutcome::Session(success)) => {
            let mut response = see_other(destination(next.as_deref()));
            let token = secrecy::ExposeSecret::expose_secret(&success.token).to_owned();
            let cookie = ConsoleCookie::Session.with_value(token, &settings_of(&req));
            let _ = response.add_cookie(&cookie);
            Ok(response)
        }
        Err(AppError::InvalidCredentials) => Ok(refused(
            StatusCode::UNAUTHORIZED,
            "The email or password is incorrect.".to_owned(),
        )),
        Err(AppError::EmailUnverified) => {
            let (page, cookie) = page(
                "Your email address is not verified yet, so you cannot sign in. Follow the \
                 verification link sent to it, then sign in again. No link, or it expired? \
                 Send a new one below."
                    .to_owned(),
                true,
            );
            Ok(anonymous_page(StatusCode::FORBIDDEN, &page, cookie))
        }
        Err(AppError::TooManyAttempts { retry_after_secs }) => Ok(refused(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed sign-ins for this account. Try again in {retry_after_secs} seconds."
            ),
        )),
        Err(other) => Err(other.into()),
    }
}

/// `POST /console/logout`: ends the server-side session and forgets the cookie.
async fn sign_out(
    req: HttpRequest,
    roster: Data<Roster>,
    viewer: Viewer,
    _form: Form<NoFields>,
) -> Result<HttpResponse, ConsoleError> {
    roster.logout(&viewer.caller).await?;
    let mut response = see_other("/console/login?done=signed-out");
    let _ = response.add_cookie(&ConsoleCookie::Session.expired(&settings_of(&req)));
    Ok(response)
}
