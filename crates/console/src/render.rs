//! Turning a page or a failure into a response. Failures map through the API's one table
//! ([`roster_http::ApiError::describe`]) for their status and wording, so a refusal reads the
//! same in both adapters; the console only decides what a person sees: a signed-out person
//! is sent to sign in, everything else is a page that says what happened and what to do.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use roster_app::AppError;
use roster_http::ApiError;

use crate::csrf::CsrfRefusal;
use crate::session::ENROLMENT_PAGE;

/// An HTML page.
pub fn html(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(error) => {
            // A template that compiled renders unless a value's Display fails: a bug.
            tracing::error!(%error, "a console page failed to render");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("The page could not be shown. Please try again.")
        }
    }
}

/// `303 See Other` to a console path: where a posted form leads (post, redirect, get), so a
/// reload never posts twice.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// What a console request may end in besides its page.
#[derive(Debug)]
pub enum ConsoleError {
    /// Nobody is signed in (or the session ended): sign in, then come back to `return_to`.
    SignedOut {
        return_to: Option<String>,
        /// A session cookie came but opens no session any more.
        session_ended: bool,
    },
    /// A forged or stale form.
    Csrf(CsrfRefusal),
    /// A form that is not a form of this console (wrong type, too large, missing a field).
    BadForm(&'static str),
    /// A link this console did not make (a list's cursor from elsewhere, edited by hand).
    BadLink(&'static str),
    /// A use case refused or failed (held as the API's error, to map through its table).
    App(ApiError),
}

impl From<AppError> for ConsoleError {
    fn from(error: AppError) -> Self {
        ConsoleError::App(ApiError::App(error))
    }
}

impl std::fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConsoleError::SignedOut { .. } => f.write_str("signed out"),
            ConsoleError::Csrf(refusal) => write!(f, "cross-site request refused: {refusal:?}"),
            ConsoleError::BadForm(message) | ConsoleError::BadLink(message) => f.write_str(message),
            ConsoleError::App(error) => error.fmt(f),
        }
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: String,
    status: u16,
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignedOut { .. }
            | ConsoleError::App(ApiError::App(AppError::MfaEnrolmentRequired)) => {
                StatusCode::SEE_OTHER
            }
            ConsoleError::Csrf(_) => StatusCode::FORBIDDEN,
            ConsoleError::BadForm(_) | ConsoleError::BadLink(_) => StatusCode::BAD_REQUEST,
            ConsoleError::App(error) => error.describe().0,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (title, message) = match self {
            ConsoleError::SignedOut {
                return_to,
                session_ended,
            } => {
                let mut query = Vec::new();
                if let Some(path) = return_to {
                    query.push(format!("next={}", encode_component(path)));
                }
                if *session_ended {
                    query.push("done=session-ended".to_owned());
                }
                let location = if query.is_empty() {
                    "/console/login".to_owned()
                } else {
                    format!("/console/login?{}", query.join("&"))
                };
                return see_other(&location);
            }
            ConsoleError::Csrf(_) => (
                "Request refused",
                "This form came from another site, or it is out of date (you may have signed \
                 in or out in another tab). Nothing was changed. Go back, reload the page and \
                 try again."
                    .to_owned(),
            ),
            ConsoleError::BadForm(message) => ("Form not understood", (*message).to_owned()),
            ConsoleError::BadLink(message) => ("Link not understood", (*message).to_owned()),
            // A session held back by the MFA policy: its one page is the two-step set-up,
            // which says why.
            ConsoleError::App(ApiError::App(AppError::MfaEnrolmentRequired)) => {
                return see_other(ENROLMENT_PAGE);
            }
            ConsoleError::App(error) => {
                error.log_cause();
                let (_, _, title, detail) = error.describe();
                let message = match error {
                    ApiError::App(AppError::Forbidden) => {
                        "Your grants do not allow this. Ask an administrator if you need it."
                            .to_owned()
                    }
                    // The pages that may meet it ask for the second factor themselves
                    // (pages/step_up.rs); this is the wording should another ever meet it.
                    ApiError::App(AppError::MfaStepUpRequired) => {
                        "This action needs a recent second factor. Go back and send the form \
                         again: you will be asked for a code or a passkey."
                            .to_owned()
                    }
                    ApiError::App(AppError::Unavailable(_)) => {
                        "The service cannot reach its database right now. Please try again in \
                         a moment."
                            .to_owned()
                    }
                    _ => detail,
                };
                (title, message)
            }
        };
        let mut response = html(
            status,
            &ErrorPage {
                title,
                message,
                status: status.as_u16(),
            },
        );
        let retry_after = match self {
            ConsoleError::App(ApiError::App(
                AppError::Overloaded { retry_after_secs }
                | AppError::TooManyAttempts { retry_after_secs },
            )) => Some(*retry_after_secs),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
pub fn encode_component(value: &str) -> String {
    serde_urlencoded::to_string([("", value)])
        .map(|encoded| encoded.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}
