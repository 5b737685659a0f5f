use actix_web::web::Data;
use actix_web::{HttpResponse, Responder};
use roster_app::{AppError, Roster};

use crate::dto::{CheckYourEmailDto, PasswordResetConfirmRequest, PasswordResetRequest};
use crate::extract::{ApiJson, ClientIp};
use crate::problem::{ApiError, problems};
use crate::rate_limit::RateLimited;

problems!(
    /// The problems `request_password_reset` answers besides the shared ones.
    RequestPasswordResetProblems {
        ApiError::RateLimited { retry_after_secs: 1 } => "too many requests from this address.",
        AppError::Validation(Vec::new()) => "`errors[]`: `email` with `invalid_email` (the \
            address cannot be an email address at all; says nothing about accounts).",
        AppError::Unavailable(String::new()) => "the database is unreachable.",
    }
);

/// `POST /v1/account/password-reset`: public; 202 whatever the email.
#[utoipa::path(
    post,
    path = "/v1/account/password-reset",
    operation_id = "requestPasswordReset",
    tag = "password-reset",
    summary = "Ask for a password-reset link by email (public)",
    description = "Always 202 with the same body, and the same work, whether or not an account \
        has this email. An active account gets an email with the link \
        `{public_url}/console/password-reset#rpr_...`, valid 30 minutes and once; a disabled \
        one gets nothing. At most `password_reset.max_per_hour` (default 3) emails per account \
        per hour: further requests are answered the same and send nothing. Older links stay \
        valid until one of them is used, which ends them all. Rate-limited per client IP \
        (shared with login and registration).",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "Check your email.", body = CheckYourEmailDto),
        RequestPasswordResetProblems,
    ),
)]
pub async fn request_password_reset(
    _: RateLimited,
    ClientIp(source_ip): ClientIp,
    roster: Data<Roster>,
    ApiJson(body): ApiJson<PasswordResetRequest>,
) -> Result<impl Responder, ApiError> {
    roster
        .request_password_reset(&body.email, source_ip)
        .await?;
    Ok(HttpResponse::Accepted().json(CheckYourEmailDto::ANSWER))
}

problems!(
    /// The problems `confirm_password_reset` answers besides the shared ones.
    ConfirmPasswordResetProblems {
        AppError::TokenInvalid => "the token is unknown, expired, used already (or another \
            link of the account was used), or the account was disabled.",
        AppError::Validation(Vec::new()) => "`errors[]`: `new_password` with \
            `password_too_short`, `password_too_long`, `weak_password`.",
        ApiError::RateLimited { retry_after_secs: 1 } => "too many requests from this address.",
        AppError::Overloaded { retry_after_secs: 1 } => "too much password-hashing or password-strength work is queued.",
        AppError::Unavailable(String::new()) => "the database is unreachable.",
    }
);

/// `POST /v1/account/password-reset/confirm`: public; the token is the credential.
#[utoipa::path(
    post,
    path = "/v1/account/password-reset/confirm",
    operation_id = "confirmPasswordReset",
    tag = "password-reset",
    summary = "Set a new password with a reset link's token (public)",
    description = "In one transaction: the new password, every reset link of the account \
        used up, every session revoked, the login throttle cleared, the audit event \
        `password.reset_by_email`. The token is checked before the password.",
    request_body = PasswordResetConfirmRequest,
    responses(
        (status = 204, description = "The password was changed; sign in with it."),
        ConfirmPasswordResetProblems,
    ),
)]
pub async fn confirm_password_reset(
    _: RateLimited,
    ClientIp(source_ip): ClientIp,
    roster: Data<Roster>,
    ApiJson(body): ApiJson<PasswordResetConfirmRequest>,
) -> Result<impl Responder, ApiError> {
    roster
        .confirm_password_reset(&body.token, &body.new_password, source_ip)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
