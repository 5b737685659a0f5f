//! Signing in and out. Sign-in is the API's login (the same throttling, the same one answer
//! for unknown email, wrong password and disabled account); the session token goes into the
//! console's cookie instead of a response body.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use roster_app::{AppError, Feature, LoginOutcome, LoginSuccess, Roster};
use roster_http::Client;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::factors::{PasskeyButton, too_many_failures};
use super::{Landing, notice, over_rate_limit, second_step};
use crate::csrf::{new_pre_session_secret, request_secret};
use crate::forms::{FieldErrors, Form};
use crate::layout::Layout;
use crate::render::{ConsoleError, encode_component, html, see_other};
use crate::session::{
    ConsoleCookie, ENROLMENT_PAGE, EnrollingViewer, is_console_path, settings_of,
};

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
    /// "Sign in with a passkey" (an `Option` for the template the second step shares).
    passkey: Option<PasskeyButton>,
}

/// The sign-in page's passkey button, coming back to `next` afterwards.
fn passkey_button(next: Option<String>) -> PasskeyButton {
    PasskeyButton {
        ceremony: "get",
        start: "/console/login/passkey/start",
        finish: "/console/login/passkey/finish",
        next,
        label: "Sign in with a passkey",
    }
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
pub(super) fn destination(next: Option<&str>) -> &str {
    next.filter(|path| is_console_path(path))
        .unwrap_or("/console/account")
}

/// `response` signing the browser in with `success`'s session: the session cookie set, and
/// the second step's cookie, if any, removed (that step is over).
pub(super) fn with_session(
    req: &HttpRequest,
    mut response: HttpResponse,
    success: &LoginSuccess,
) -> HttpResponse {
    let settings = settings_of(req);
    let token = success.token.expose_secret().to_owned();
    // Cookies built by `ConsoleCookie` always encode into a header value.
    let _ = response.add_cookie(&ConsoleCookie::Session.with_value(token, &settings));
    if ConsoleCookie::SecondStep.read(req).is_some() {
        let _ = response.add_cookie(&ConsoleCookie::SecondStep.expired(&settings));
    }
    response
}

/// Where a password sign-in goes: the page asked for, unless the MFA policy holds the new
/// session back until it sets up a second factor; then to that set-up, which says why.
async fn landing(
    req: &HttpRequest,
    roster: &Roster,
    success: &LoginSuccess,
    next: Option<&str>,
) -> String {
    let held = roster
        .authenticate_for_enrolment(success.token.expose_secret(), roster_http::client_ip(req))
        .await
        .is_ok_and(|caller| caller.mfa_enrolment_required);
    if held {
        ENROLMENT_PAGE.to_owned()
    } else {
        destination(next).to_owned()
    }
}

/// `GET /console/login`. Someone already signed in goes straight on.
async fn show(
    req: HttpRequest,
    roster: Data<Roster>,
    landing: web::Query<Landing>,
    viewer: Option<EnrollingViewer>,
) -> HttpResponse {
    if viewer.is_some() {
        return see_other(destination(landing.next.as_deref()));
    }
    let (layout, cookie) = anonymous_layout(&req);
    let next = landing.next.clone().filter(|path| is_console_path(path));
    let page = LoginPage {
        layout: layout.with_notice(notice(landing.done.as_deref())),
        email: String::new(),
        passkey: Some(passkey_button(next.clone())),
        next,
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
        let next = next.clone().filter(|path| is_console_path(path));
        let page = LoginPage {
            layout,
            email: email.clone(),
            passkey: Some(passkey_button(next.clone())),
            next,
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
        Ok(LoginOutcome::SecondFactor(pending)) => {
            Ok(second_step::begin(&req, &pending, next.as_deref()))
        }
        Ok(LoginOutcome::Session(success)) => {
            let location = landing(&req, &roster, &success, next.as_deref()).await;
            Ok(with_session(&req, see_other(&location), &success))
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
            too_many_failures(retry_after_secs),
        )),
        Err(other) => Err(other.into()),
    }
}

#[derive(Debug, Deserialize)]
struct SignOutForm {
    /// Sign in again at once, then come back here ("Sign in again").
    next: Option<String>,
}

/// `POST /console/logout`: ends the server-side session and forgets the cookie. Open to a
/// session the MFA policy holds back, too. With `next` (a console path), the sign-in page
/// asks to sign in again and comes back there.
async fn sign_out(
    req: HttpRequest,
    roster: Data<Roster>,
    EnrollingViewer(viewer): EnrollingViewer,
    form: Form<SignOutForm>,
) -> Result<HttpResponse, ConsoleError> {
    roster.logout(&viewer.caller).await?;
    let location = match form.fields.next.filter(|next| is_console_path(next)) {
        Some(next) => format!(
            "/console/login?done=sign-in-again&next={}",
            encode_component(&next)
        ),
        None => "/console/login?done=signed-out".to_owned(),
    };
    let mut response = see_other(&location);
    let _ = response.add_cookie(&ConsoleCookie::Session.expired(&settings_of(&req)));
    Ok(response)
}
