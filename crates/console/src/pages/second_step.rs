//! The second step of a sign-in, for an account with a second factor: after the right
//! password, a code from the authenticator app, a recovery code or a passkey opens the
//! session (the API's `POST /v1/auth/login/mfa` and its passkey variant).
//!
//! The step's token (`rmf_...`) waits in a cookie of its own ([`ConsoleCookie::SecondStep`]:
//! `HttpOnly`, `SameSite=Strict`, five minutes), never in the page or its address, so it is
//! not in the history, the logs of a proxy, or the reach of a script. Whichever way the step
//! ends (a session, or the token dead), the cookie is removed.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use roster_app::model::AuthMethod;
use roster_app::{AppError, LoginSuccess, Roster, SecondFactorPending};
use roster_http::Client;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::Value;

use super::factors::{CodeField, PasskeyButton, passkey_refusal, too_many_failures, wrong_code};
use super::over_rate_limit;
use super::sign_in::{anonymous_layout, anonymous_page, destination, with_session};
use crate::forms::{FieldErrors, Form};
use crate::json::{self, Credential, Empty, JsonRequest, credential_json};
use crate::layout::Layout;
use crate::render::{ConsoleError, encode_component, see_other};
use crate::session::{ConsoleCookie, is_console_path, settings_of};

const PATH: &str = "/console/login/second-step";
/// Where a dead second step sends the person: sign in again, with a notice saying why.
const EXPIRED: &str = "/console/login?done=sign-in-expired";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/login/second-step", web::get().to(show))
        .route("/login/second-step", web::post().to(finish_with_code))
        .route(
            "/login/second-step/passkey/start",
            web::post().to(start_passkey),
        )
        .route(
            "/login/second-step/passkey/finish",
            web::post().to(finish_with_passkey),
        );
}

/// The factors the account can finish with, as the password step said (`?methods=`). A
/// hint for the page only: the use case decides what it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Methods {
    app: bool,
    recovery: bool,
    passkey: bool,
}

impl Methods {
    /// Every factor: what a page reached without the hint offers.
    const ALL: Methods = Methods {
        app: true,
        recovery: true,
        passkey: true,
    };

    fn of(methods: &[AuthMethod]) -> Methods {
        Methods {
            app: methods.contains(&AuthMethod::Otp),
            recovery: methods.contains(&AuthMethod::Recovery),
            passkey: methods.contains(&AuthMethod::Passkey),
        }
    }

    /// `otp,recovery,passkey`, for the page's address.
    fn to_query(self) -> String {
        [
            (self.app, "otp"),
            (self.recovery, "recovery"),
            (self.passkey, "passkey"),
        ]
        .iter()
        .filter(|(has, _)| *has)
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join(",")
    }

    /// The hint read back; unknown names are ignored, and no hint at all means every factor.
    fn parse(query: Option<&str>) -> Methods {
        let Some(query) = query else {
            return Methods::ALL;
        };
        let names: Vec<&str> = query.split(',').collect();
        Methods {
            app: names.contains(&"otp"),
            recovery: names.contains(&"recovery"),
            passkey: names.contains(&"passkey"),
        }
    }
}

/// The address of the second step's page, keeping where to go afterwards.
fn page_path(methods: Methods, next: Option<&str>) -> String {
    let mut path = format!("{PATH}?methods={}", methods.to_query());
    if let Some(next) = next.filter(|path| is_console_path(path)) {
        path.push_str("&next=");
        path.push_str(&encode_component(next));
    }
    path
}

/// The answer to the right password of an account with a second factor: the step's token
/// into its cookie, and on to the step's page.
pub(super) fn begin(
    req: &HttpRequest,
    pending: &SecondFactorPending,
    next: Option<&str>,
) -> HttpResponse {
    let mut response = see_other(&page_path(Methods::of(&pending.methods), next));
    let cookie = ConsoleCookie::SecondStep
        .with_value(pending.token.expose_secret().to_owned(), &settings_of(req));
    // A cookie built by `ConsoleCookie` always encodes into a header value.
    let _ = response.add_cookie(&cookie);
    response
}

#[derive(Template)]
#[template(path = "second_step.html")]
struct SecondStepPage {
    layout: Layout,
    next: Option<String>,
    /// The factors as the address names them, kept by the form for its answer.
    methods: String,
    /// `None`: the account has only passkeys.
    code: Option<CodeField>,
    passkey: Option<PasskeyButton>,
    errors: FieldErrors,
}

#[derive(Debug, Default, Deserialize)]
struct SecondStepQuery {
    methods: Option<String>,
    next: Option<String>,
}

/// The page, for the factors `methods` names.
fn render(
    req: &HttpRequest,
    status: StatusCode,
    methods: Methods,
    next: Option<String>,
    errors: FieldErrors,
) -> HttpResponse {
    let (layout, cookie) = anonymous_layout(req);
    let next = next.filter(|path| is_console_path(path));
    let passkey = methods.passkey.then(|| PasskeyButton {
        ceremony: "get",
        start: "/console/login/second-step/passkey/start",
        finish: "/console/login/second-step/passkey/finish",
        next: next.clone(),
        label: "Use a passkey",
    });
    let page = SecondStepPage {
        layout,
        next,
        methods: methods.to_query(),
        code: CodeField::for_factors(methods.app, methods.recovery),
        passkey,
        errors,
    };
    anonymous_page(status, &page, cookie)
}

/// The step is over without a session: forget its cookie and sign in again.
fn expired(req: &HttpRequest) -> HttpResponse {
    let mut response = see_other(EXPIRED);
    let _ = response.add_cookie(&ConsoleCookie::SecondStep.expired(&settings_of(req)));
    response
}

/// `GET /console/login/second-step`. Without the step's cookie there is no step: sign in.
async fn show(req: HttpRequest, query: web::Query<SecondStepQuery>) -> HttpResponse {
    if ConsoleCookie::SecondStep.read(&req).is_none() {
        return see_other(EXPIRED);
    }
    let query = query.into_inner();
    render(
        &req,
        StatusCode::OK,
        Methods::parse(query.methods.as_deref()),
        query.next,
        FieldErrors::default(),
    )
}

#[derive(Debug, Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
    next: Option<String>,
    methods: Option<String>,
}

/// `POST /console/login/second-step`: a code from the app or a recovery code.
async fn finish_with_code(
    req: HttpRequest,
    roster: Data<Roster>,
    Client(client): Client,
    form: Form<CodeForm>,
) -> Result<HttpResponse, ConsoleError> {
    let CodeForm {
        code,
        next,
        methods,
    } = form.fields;
    let methods = Methods::parse(methods.as_deref());
    if let Some(message) = over_rate_limit(&req) {
        let errors = FieldErrors::general(message);
        return Ok(render(
            &req,
            StatusCode::TOO_MANY_REQUESTS,
            methods,
            next,
            errors,
        ));
    }
    let Some(token) = ConsoleCookie::SecondStep.read(&req) else {
        return Ok(expired(&req));
    };
    match roster.login_second_factor(&token, &code, &client).await {
        Ok(success) => {
            let response = see_other(destination(next.as_deref()));
            Ok(with_session(&req, response, &success))
        }
        Err(AppError::InvalidMfaCode) => Ok(render(
            &req,
            StatusCode::UNAUTHORIZED,
            methods,
            next,
            wrong_code(&code),
        )),
        Err(AppError::InvalidMfaToken) => Ok(expired(&req)),
        Err(AppError::TooManyAttempts { retry_after_secs }) => Ok(render(
            &req,
            StatusCode::TOO_MANY_REQUESTS,
            methods,
            next,
            FieldErrors::general(too_many_failures(retry_after_secs)),
        )),
        Err(other) => Err(other.into()),
    }
}

/// The script's answer when the step is dead: where to sign in again.
fn expired_json(req: &HttpRequest) -> HttpResponse {
    let mut response = json::go_to(
        StatusCode::UNAUTHORIZED,
        EXPIRED,
        Some("This sign-in has expired. Sign in again."),
    );
    let _ = response.add_cookie(&ConsoleCookie::SecondStep.expired(&settings_of(req)));
    response
}

/// `POST /console/login/second-step/passkey/start`: the options for
/// `navigator.credentials.get`, allowing the account's passkeys.
async fn start_passkey(
    req: HttpRequest,
    roster: Data<Roster>,
    _body: JsonRequest<Empty>,
) -> Result<HttpResponse, ConsoleError> {
    if let Some(message) = over_rate_limit(&req) {
        return Ok(json::refusal(StatusCode::TOO_MANY_REQUESTS, &message, None));
    }
    let Some(token) = ConsoleCookie::SecondStep.read(&req) else {
        return Ok(expired_json(&req));
    };
    match roster.start_passkey_second_factor(&token).await {
        Ok(options) => Ok(options_reply(&options)?),
        Err(AppError::InvalidMfaToken) => Ok(expired_json(&req)),
        Err(other) => passkey_refusal(&other).ok_or_else(|| other.into()),
    }
}

/// The browser's answer to a passkey sign-in (passwordless or a second step): the
/// credential, and the console page the person was going to.
#[derive(Debug, Deserialize)]
pub(super) struct SignInAnswer {
    pub(super) credential: Credential,
    pub(super) next: Option<String>,
}

/// A passkey sign-in that opened `success`'s session: the session cookie, and the script
/// sent on to `next`.
pub(super) fn signed_in(
    req: &HttpRequest,
    next: Option<&str>,
    success: &LoginSuccess,
) -> HttpResponse {
    let response = json::go_to(StatusCode::OK, destination(next), None);
    with_session(req, response, success)
}

/// `POST /console/login/second-step/passkey/finish`: the browser's answer; a session.
async fn finish_with_passkey(
    req: HttpRequest,
    roster: Data<Roster>,
    Client(client): Client,
    JsonRequest(answer): JsonRequest<SignInAnswer>,
) -> Result<HttpResponse, ConsoleError> {
    if let Some(message) = over_rate_limit(&req) {
        return Ok(json::refusal(StatusCode::TOO_MANY_REQUESTS, &message, None));
    }
    let Some(token) = ConsoleCookie::SecondStep.read(&req) else {
        return Ok(expired_json(&req));
    };
    let response = credential_json(answer.credential);
    match roster
        .finish_passkey_second_factor(&token, &response, &client)
        .await
    {
        Ok(success) => Ok(signed_in(&req, answer.next.as_deref(), &success)),
        Err(AppError::InvalidMfaToken) => Ok(expired_json(&req)),
        Err(other) => passkey_refusal(&other).ok_or_else(|| other.into()),
    }
}

/// The relying party's options (JSON text) as the answer to a ceremony's start.
pub(super) fn options_reply(
    options: &roster_app::model::WebAuthnOptions,
) -> Result<HttpResponse, ConsoleError> {
    let options: Value = serde_json::from_str(&options.0).map_err(|e| {
        ConsoleError::from(AppError::Internal(format!(
            "WebAuthn options are not JSON: {e}"
        )))
    })?;
    Ok(json::reply(StatusCode::OK, &options))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_methods_survive_the_address() {
        let methods = Methods::of(&[AuthMethod::Otp, AuthMethod::Passkey]);
        assert_eq!(methods.to_query(), "otp,passkey");
        assert_eq!(Methods::parse(Some(&methods.to_query())), methods);
        assert_eq!(Methods::parse(None), Methods::ALL);
        assert_eq!(
            Methods::parse(Some("<script>,recovery")),
            Methods {
                app: false,
                recovery: true,
                passkey: false
            }
        );
    }

    #[test]
    fn the_page_keeps_only_a_console_path_to_return_to() {
        let methods = Methods::ALL;
        assert_eq!(
            page_path(methods, Some("/console/admin/audit?limit=5")),
            "/console/login/second-step?methods=otp,recovery,passkey&next=%2Fconsole%2Fadmin%2Faudit%3Flimit%3D5"
        );
        assert_eq!(
            page_path(methods, Some("https://evil.example/")),
            "/console/login/second-step?methods=otp,recovery,passkey"
        );
    }
}
