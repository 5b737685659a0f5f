use actix_web::web::Data;
use actix_web::{HttpResponse, Responder};
use roster_app::{AppError, Roster};

use crate::dto::{AccountDto, CheckYourEmailDto, ResendVerificationRequest, VerifyEmailRequest};
use crate::extract::{ApiJson, ClientIp};
use crate::problem::{ApiError, problems};
use crate::rate_limit::RateLimited;

problems!(
    /// The problems `verify_email` answers besides the shared ones.
    VerifyEmailProblems {
        AppError::TokenInvalid => "the token is unknown, expired (24 hours), used already (or \
            another verification link of the account was used), or the account was disabled.",
        ApiError::RateLimited { retry_after_secs: 1 } => "too many requests from this address.",
        AppError::Unavailable(String::new()) => "the database is unreachable.",
    }
);

/// `POST /v1/account/verify-email`: public; the token is the credential.
#[utoipa::path(
    post,
    path = "/v1/account/verify-email",
    operation_id = "verifyEmail",
    tag = "email-verification",
    summary = "Verify an email address with a link's token (public)",
    description = "The account of the `rev_` token becomes `email_verified: true` and can log \
        in. Single use: the account's other verification links end with it. Audit event \
        `account.email_verified`. Links are valid 24 hours.",
    request_body = VerifyEmailRequest,
    responses(
        (status = 200, description = "The account, now verified.", body = AccountDto),
        VerifyEmailProblems,
    ),
)]
pub async fn verify(
    _: RateLimited,
    ClientIp(source_ip): ClientIp,
    roster: Data<Roster>,
    ApiJson(body): ApiJson<VerifyEmailRequest>,
) -> Result<impl Responder, ApiError> {
    let account = roster.verify_email(&body.token, source_ip).await?;
    Ok(HttpResponse::Ok().json(AccountDto::from(&account)))
}

problems!(
    /// The problems `resend_verification` answers besides the shared ones.
    ResendVerificationProblems {
        ApiError::RateLimited { retry_after_secs: 1 } => "too many requests from this address.",
        AppError::Validation(Vec::new()) => "`errors[]`: `email` with `invalid_email` (the \
            address cannot be an email address at all; says nothing about accounts).",
        AppError::Unavailable(String::new()) => "the database is unreachable.",
    }
);

/// `POST /v1/account/verify-email/resend`: public; 202 whatever the email.
#[utoipa::path(
    post,
    path = "/v1/account/verify-email/resend",
    operation_id = "resendVerification",
    tag = "email-verification",
    summary = "Ask for a new verification link (public)",
    description = "Always 202 with the same body, and the same work, whatever the email: only \
        an active account that is not verified yet gets a new link \
        (`{public_url}/console/verify-email#rev_...`, valid 24 hours). Links sent before stay \
        valid until they expire or one of them is used. At most `password_reset.max_per_hour` \
        (default 3) verification emails per address per hour, counted for every address \
        asked about: further requests are answered the same and send nothing. Rate-limited \
        per client IP (shared with login and registration).",
    request_body = ResendVerificationRequest,
    responses(
        (status = 202, description = "Check your email.", body = CheckYourEmailDto),
        ResendVerificationProblems,
    ),
)]
pub async fn resend(
    _: RateLimited,
    ClientIp(source_ip): ClientIp,
    roster: Data<Roster>,
    ApiJson(body): ApiJson<ResendVerificationRequest>,
) -> Result<impl Responder, ApiError> {
    roster.resend_verification(&body.email, source_ip).await?;
    Ok(HttpResponse::Accepted().json(CheckYourEmailDto::ANSWER))
}
