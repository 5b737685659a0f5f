//! "Sign in with a passkey" on the sign-in page: passwordless, with a discoverable passkey
//! that names its account (the API's `POST /v1/auth/passkey/start` and `.../finish`). The
//! passkey with its user verification is both factors, so the session needs no second step.

use super::over_rate_limit;
use super::second_step::{SignInAnswer, options_reply, signed_in};
use crate::json::{self, Empty, JsonRequest, credential_json};
use crate::render::ConsoleError;
use actix_web::http::StatusCode;
use actix_web::web::{self, Data, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use roster_app::{AppError, Roster};
use roster_http::Client;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/login/passkey/start", web::post().to(start))
        .route("/login/passkey/finish", web::post().to(finish));
}

/// `POST /console/login/passkey/start`: options for any passkey of this site.
async fn start(
    req: HttpRequest,
    roster: Data<Roster>,
    _body: JsonRequest<Empty>,
) -> Result<HttpResponse, ConsoleError> {
    if let Some(message) = over_rate_limit(&req) {
        return Ok(json::refusal(StatusCode::TOO_MANY_REQUESTS, &message, None));
    }
    options_reply(&roster.start_passwordless().await?)
}

/// `POST /console/login/passkey/finish`: the browser's answer; a session.
async fn finish(
    req: HttpRequest,
    roster: Data<Roster>,
    Client(client): Client,
    JsonRequest(answer): JsonRequest<SignInAnswer>,
) -> Result<HttpResponse, ConsoleError> {
    if let Some(message) = over_rate_limit(&req) {
        return Ok(json::refusal(StatusCode::TOO_MANY_REQUESTS, &message, None));
    }
    match roster
        .finish_passwordless(&credential_json(answer.credential), &client)
        .await
    {
        Ok(success) => Ok(signed_in(&req, answer.next.as_deref(), &success)),
        // One answer for an unknown passkey, a disabled account and a response that does
        // not verify, as the API gives.
        Err(AppError::InvalidCredential(_)) => Ok(json::refusal(
            StatusCode::BAD_REQUEST,
            "This passkey did not sign you in. Try again, or sign in with your email and \
             password.",
            None,
        )),
        Err(other) => Err(other.into()),
    }
}
