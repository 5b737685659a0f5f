//! The pages behind emailed links, and the forms that ask for them: requesting and confirming a
//! password reset (`/console/password-reset`), verifying an email address
//! (`/console/verify-email`) and asking for a new verification link, and the "check your
//! email" page every one of those requests ends on, whatever the address.
//!
//! The token arrives in the link's fragment, which browsers never send to a server: the
//! console's script copies it into the form's `token` field and removes it from the address
//! bar; without script the field is shown for pasting. Nothing is submitted without the
//! user's click.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use roster_app::{AppError, Roster};
use roster_http::Client;
use secrecy::SecretString;
use serde::Deserialize;

use super::over_rate_limit;
use super::sign_in::{anonymous_layout, anonymous_page};
use crate::forms::{FieldErrors, Form};
use crate::layout::Layout;
use crate::render::{ConsoleError, see_other};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/password-reset", web::get().to(show_reset))
        .route("/password-reset", web::post().to(request_reset))
        .route("/password-reset/confirm", web::post().to(confirm_reset))
        .route("/verify-email", web::get().to(show_verify))
        .route("/verify-email", web::post().to(verify))
        .route("/verify-email/resend", web::post().to(resend))
        .route("/check-your-email", web::get().to(check_your_email));
}

/// What was asked for, on the "check your email" page: a closed set, so nothing a link
/// carries is shown back as text.
#[derive(Debug, Deserialize)]
struct Sent {
    sent: Option<String>,
}

fn sent_sentence(sent: Option<&str>) -> &'static str {
    match sent {
        Some("sign-up") => {
            "If the address can be used, we sent it a link to verify it. Follow the link, then \
             sign in. If you already have an account, the email tells you how to get back in."
        }
        Some("password-reset") => {
            "If an account uses this address, we sent it a link to set a new password. The \
             link works once, for 30 minutes."
        }
        Some("verification") => {
            "If an account with this address is waiting for verification, we sent it a new \
             link. The link works for 24 hours."
        }
        _ => "If the address is known, we sent it an email.",
    }
}

#[derive(Template)]
#[template(path = "check_email.html")]
struct CheckEmailPage {
    layout: Layout,
    sentence: &'static str,
}

/// `GET /console/check-your-email`: the same page whatever the address was.
async fn check_your_email(req: HttpRequest, sent: web::Query<Sent>) -> HttpResponse {
    let (layout, cookie) = anonymous_layout(&req);
    let page = CheckEmailPage {
        layout,
        sentence: sent_sentence(sent.sent.as_deref()),
    };
    anonymous_page(StatusCode::OK, &page, cookie)
}

// ---------------------------------------------------------------------------------------------
// password reset
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "password_reset.html")]
struct ResetPage {
    layout: Layout,
    email: String,
    /// Problems of the request form (`email`).
    request_errors: FieldErrors,
    /// Problems of the new-password form (`token`, `new_password`).
    errors: FieldErrors,
    min_length: usize,
    max_length: usize,
}

fn reset_page(
    roster: &Roster,
    layout: Layout,
    email: String,
    request_errors: FieldErrors,
    errors: FieldErrors,
) -> ResetPage {
    let policy = roster.registration_policy();
    ResetPage {
        layout,
        email,
        request_errors,
        errors,
        min_length: policy.password_min_length,
        max_length: policy.password_max_length,
    }
}

/// `GET /console/password-reset`: the request form and, for someone who followed a link, the
/// new-password form.
async fn show_reset(req: HttpRequest, roster: Data<Roster>) -> HttpResponse {
    let (layout, cookie) = anonymous_layout(&req);
    let page = reset_page(
        &roster,
        layout,
        String::new(),
        FieldErrors::default(),
        FieldErrors::default(),
    );
    anonymous_page(StatusCode::OK, &page, cookie)
}

#[derive(Debug, Deserialize)]
struct EmailForm {
    email: String,
}

/// `POST /console/password-reset`: always on to the same "check your email" page.
async fn request_reset(
    req: HttpRequest,
    roster: Data<Roster>,
    Client(client): Client,
    form: Form<EmailForm>,
) -> Result<HttpResponse, ConsoleError> {
    let email = form.fields.email;
    let refused = |status: StatusCode, errors: FieldErrors| {
        let (layout, cookie) = anonymous_layout(&req);
        let page = reset_page(
            &roster,
            layout,
            email.clone(),
            errors,
            FieldErrors::default(),
        );
        anonymous_page(status, &page, cookie)
    };
    if let Some(message) = over_rate_limit(&req) {
        return Ok(refused(
            StatusCode::TOO_MANY_REQUESTS,
            FieldErrors::general(message),
        ));
    }
    match roster
        .request_password_reset(&email, client.source_ip)
        .await
    {
        Ok(()) => Ok(see_other("/console/check-your-email?sent=password-reset")),
        Err(AppError::Validation(errors)) => Ok(refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::from_app(errors),
        )),
        Err(other) => Err(other.into()),
    }
}

#[derive(Debug, Deserialize)]
struct ConfirmResetForm {
    token: String,
    new_password: String,
}

/// `POST /console/password-reset/confirm`: on to the sign-in page with a notice.
async fn confirm_reset(
    req: HttpRequest,
    roster: Data<Roster>,
    Client(client): Client,
    form: Form<ConfirmResetForm>,
) -> Result<HttpResponse, ConsoleError> {
    let ConfirmResetForm {
        token,
        new_password,
    } = form.fields;
    let refused = |status: StatusCode, errors: FieldErrors| {
        let (layout, cookie) = anonymous_layout(&req);
        let page = reset_page(
            &roster,
            layout,
            String::new(),
            FieldErrors::default(),
            errors,
        );
        anonymous_page(status, &page, cookie)
    };
    if let Some(message) = over_rate_limit(&req) {
        return Ok(refused(
            StatusCode::TOO_MANY_REQUESTS,
            FieldErrors::general(message),
        ));
    }
    let token = SecretString::from(token.trim().to_owned());
    let new_password = SecretString::from(new_password);
    match roster
        .confirm_password_reset(&token, &new_password, client.source_ip)
        .await
    {
        Ok(()) => Ok(see_other("/console/login?done=password-set")),
        Err(AppError::TokenInvalid) => Ok(refused(
            StatusCode::GONE,
            FieldErrors::field(
                "token",
                "This reset link is no longer valid: it was used, it expired (links work for \
                 30 minutes), or a newer one was used. Ask for a new link below.",
            ),
        )),
        Err(AppError::Validation(errors)) => Ok(refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::from_app(errors),
        )),
        Err(other) => Err(other.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// email verification
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "verify_email.html")]
struct VerifyPage {
    layout: Layout,
    /// The link was dead: the page says so and leads with the resend form.
    expired: bool,
    email: String,
    errors: FieldErrors,
    resend_errors: FieldErrors,
}

fn verify_page(
    req: &HttpRequest,
    status: StatusCode,
    page: impl FnOnce(Layout) -> VerifyPage,
) -> HttpResponse {
    let (layout, cookie) = anonymous_layout(req);
    anonymous_page(status, &page(layout), cookie)
}

/// `GET /console/verify-email`: one button; the token comes from the link's fragment.
async fn show_verify(req: HttpRequest) -> HttpResponse {
    verify_page(&req, StatusCode::OK, |layout| VerifyPage {
        layout,
        expired: false,
        email: String::new(),
        errors: FieldErrors::default(),
        resend_errors: FieldErrors::default(),
    })
}

#[derive(Debug, Deserialize)]
struct VerifyForm {
    token: String,
}

/// `POST /console/verify-email`: on to the sign-in page with a notice; a dead link gets a page
/// that says so, with the form for a new one.
async fn verify(
    req: HttpRequest,
    roster: Data<Roster>,
    Client(client): Client,
    form: Form<VerifyForm>,
) -> Result<HttpResponse, ConsoleError> {
    if let Some(message) = over_rate_limit(&req) {
        return Ok(verify_page(&req, StatusCode::TOO_MANY_REQUESTS, |layout| {
            VerifyPage {
                layout,
                expired: false,
                email: String::new(),
                errors: FieldErrors::general(message),
                resend_errors: FieldErrors::default(),
            }
        }));
    }
    let token = SecretString::from(form.fields.token.trim().to_owned());
    match roster.verify_email(&token, client.source_ip).await {
        Ok(_) => Ok(see_other("/console/login?done=email-verified")),
        Err(AppError::TokenInvalid) => {
            Ok(verify_page(&req, StatusCode::GONE, |layout| VerifyPage {
                layout,
                expired: true,
                email: String::new(),
                errors: FieldErrors::default(),
                resend_errors: FieldErrors::default(),
            }))
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /console/verify-email/resend`: always on to the same "check your email" page.
async fn resend(
    req: HttpRequest,
    roster: Data<Roster>,
    Client(client): Client,
    form: Form<EmailForm>,
) -> Result<HttpResponse, ConsoleError> {
    let email = form.fields.email;
    let refused = |status: StatusCode, errors: FieldErrors| {
        verify_page(&req, status, |layout| VerifyPage {
            layout,
            expired: false,
            email: email.clone(),
            errors: FieldErrors::default(),
            resend_errors: errors,
        })
    };
    if let Some(message) = over_rate_limit(&req) {
        return Ok(refused(
            StatusCode::TOO_MANY_REQUESTS,
            FieldErrors::general(message),
        ));
    }
    match roster.resend_verification(&email, client.source_ip).await {
        Ok(()) => Ok(see_other("/console/check-your-email?sent=verification")),
        Err(AppError::Validation(errors)) => Ok(refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::from_app(errors),
        )),
        Err(other) => Err(other.into()),
    }
}
