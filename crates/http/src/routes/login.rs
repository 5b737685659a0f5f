use actix_web::Responder;
use actix_web::web::Data;
use roster_app::AppError;
use roster_app::Roster;
use roster_app::model::WebAuthnOptions;
use secrecy::ExposeSecret;

use crate::dto::{
    Credential, LoginAnswer, LoginMfaPasskeyRequest, LoginMfaRequest, LoginRequest, LoginResponse,
    MfaTokenRequest, PasskeyCredentialRequest,
};
use crate::extract::{ApiJson, Client};
use crate::problem::{ApiError, problems};
use crate::rate_limit::RateLimited;
use crate::respond::no_store;

problems!(
    /// The problems `login` answers besides the shared ones.
    LoginProblems {
        AppError::InvalidCredentials => "unknown email, wrong password or disabled account (one body for all \
            three).",
        AppError::EmailUnverified => "the right password for an account whose email address is not \
            verified yet (a wrong one is `invalid_credentials`, as for any account).",
        ApiError::RateLimited { retry_after_secs: 1 } => "too many requests from this address.",
        AppError::TooManyAttempts { retry_after_secs: 1 } => "too many failed logins for this email (no lookup or hashing is done \
            while it waits).",
        AppError::Overloaded { retry_after_secs: 1 } => "too much password-hashing work is queued.",
        AppError::Unavailable(String::new()) => "the database is unreachable.",
    }
);

/// `POST /v1/auth/login`, rate-limited per client IP before the body is read.
#[utoipa::path(
    post,
    path = "/v1/auth/login",
    operation_id = "login",
    tag = "authentication",
    summary = "Log in",
    description = "Exchanges email and password for a new session token (absolute lifetime \
        12 h and idle timeout 1 h by default). Unknown email, wrong password and disabled \
        account give the same answer after the same work; the right password for an account \
        whose email address is not verified yet answers 403 `email_unverified`. Rate-limited per client IP \
        (shared with public registration) and throttled per account after repeated failures. \
        The session records the client's address and `User-Agent` (see `listMySessions`). \
        For an account with a second factor the right password opens no session but answers \
        `mfa_required` with a short-lived `mfa_token` for `loginSecondFactor` (or the passkey \
        variant); failures of that step count toward the same per-account throttle.",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in, or the second step is required.", body = LoginAnswer),
        LoginProblems,
    ),
)]
pub async fn login(
    _: RateLimited,
    Client(client): Client,
    roster: Data<Roster>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<impl Responder, ApiError> {
    let outcome = roster.login(&body.email, &body.password, &client).await?;
    Ok(no_store().json(LoginAnswer::from(outcome)))
}

problems!(
    /// The problems of the login's second step besides the shared ones.
    SecondStepProblems {
        AppError::InvalidMfaToken => "the `mfa_token` is unknown, expired (5 minutes), used, or failed out \
            (5 wrong codes): log in with the password again.",
        AppError::InvalidMfaCode => "the code is wrong, used already (a TOTP code works once), or of a \
            factor the account does not have. Counts toward the account's login throttle.",
        ApiError::RateLimited { retry_after_secs: 1 } => "too many requests from this address.",
        AppError::TooManyAttempts { retry_after_secs: 1 } => "too many failed logins or codes for this \
            account.",
        AppError::Unavailable(String::new()) => "the database is unreachable.",
    }
);

/// `POST /v1/auth/login/mfa`: the second step with a TOTP or recovery code.
#[utoipa::path(
    post,
    path = "/v1/auth/login/mfa",
    operation_id = "loginSecondFactor",
    tag = "authentication",
    summary = "Finish a login with a code",
    description = "Finishes a login that answered `mfa_required`, with a six-digit TOTP code \
        (the current one, or one 30-second step either side; each code works once) or a \
        recovery code (single use). Answers exactly what a password-only login answers. No \
        password hashing: wrong codes are refused cheaply and counted by the account's login \
        throttle.",
    request_body = LoginMfaRequest,
    responses(
        (status = 200, description = "Logged in.", body = LoginResponse),
        SecondStepProblems,
    ),
)]
pub async fn login_second_factor(
    _: RateLimited,
    Client(client): Client,
    roster: Data<Roster>,
    ApiJson(body): ApiJson<LoginMfaRequest>,
) -> Result<impl Responder, ApiError> {
    let success = roster
        .login_second_factor(
            body.mfa_token.expose_secret(),
            body.code.expose_secret(),
            &client,
        )
        .await?;
    Ok(no_store().json(LoginResponse::from(success)))
}

problems!(
    /// The problems of starting the second step with a passkey.
    PasskeyStepStartProblems {
        AppError::InvalidMfaToken => "the `mfa_token` is unknown, expired, used or failed out.",
        AppError::MfaNotEnrolled => "the account has no passkey.",
        ApiError::RateLimited { retry_after_secs: 1 } => "too many requests from this address.",
        AppError::TooManyAttempts { retry_after_secs: 1 } => "too many failed logins or codes for this \
            account.",
    }
);

/// `POST /v1/auth/login/mfa/passkey/start`.
#[utoipa::path(
    post,
    path = "/v1/auth/login/mfa/passkey/start",
    operation_id = "startLoginPasskey",
    tag = "authentication",
    summary = "Start the second step with a passkey",
    description = "The WebAuthn request options (`publicKey`) for `navigator.credentials.get`, \
        allowing the account's passkeys. Valid 5 minutes, for one answer.",
    request_body = MfaTokenRequest,
    responses(
        (status = 200, description = "WebAuthn request options.", body = Object),
        PasskeyStepStartProblems,
    ),
)]
pub async fn start_login_passkey(
    _: RateLimited,
    roster: Data<Roster>,
    ApiJson(body): ApiJson<MfaTokenRequest>,
) -> Result<impl Responder, ApiError> {
    let options = roster
        .start_passkey_second_factor(body.mfa_token.expose_secret())
        .await?;
    Ok(no_store().json(webauthn_options(&options)?))
}

problems!(
    /// The problems of finishing the second step with a passkey.
    PasskeyStepFinishProblems {
        AppError::InvalidMfaToken => "the `mfa_token` is unknown, expired, used or failed out.",
        AppError::InvalidCredential(String::new()) => "the passkey response does not verify, answers \
            another ceremony, or names another account's passkey. Counts like a wrong code.",
        ApiError::RateLimited { retry_after_secs: 1 } => "too many requests from this address.",
        AppError::TooManyAttempts { retry_after_secs: 1 } => "too many failed logins or codes for this \
            account.",
    }
);

/// `POST /v1/auth/login/mfa/passkey/finish`.
#[utoipa::path(
    post,
    path = "/v1/auth/login/mfa/passkey/finish",
    operation_id = "finishLoginPasskey",
    tag = "authentication",
    summary = "Finish the second step with a passkey",
    description = "Verifies the browser's `PublicKeyCredential` against the ceremony started \
        by `startLoginPasskey` and answers what a password-only login answers.",
    request_body = LoginMfaPasskeyRequest,
    responses(
        (status = 200, description = "Logged in.", body = LoginResponse),
        PasskeyStepFinishProblems,
    ),
)]
pub async fn finish_login_passkey(
    _: RateLimited,
    Client(client): Client,
    roster: Data<Roster>,
    ApiJson(body): ApiJson<LoginMfaPasskeyRequest>,
) -> Result<impl Responder, ApiError> {
    let success = roster
        .finish_passkey_second_factor(
            body.mfa_token.expose_secret(),
            &credential_json(body.credential),
            &client,
        )
        .await?;
    Ok(no_store().json(LoginResponse::from(success)))
}

/// `POST /v1/auth/passkey/start`: passwordless sign-in.
#[utoipa::path(
    post,
    path = "/v1/auth/passkey/start",
    operation_id = "startPasskeySignIn",
    tag = "authentication",
    summary = "Start a passwordless sign-in",
    description = "WebAuthn request options for a discoverable passkey (the browser offers \
        the passkeys it holds for this site). Valid 5 minutes, for one answer.",
    responses(
        (status = 200, description = "WebAuthn request options.", body = Object),
        RateLimitProblems,
    ),
)]
pub async fn start_passkey_sign_in(
    _: RateLimited,
    roster: Data<Roster>,
) -> Result<impl Responder, ApiError> {
    let options = roster.start_passwordless().await?;
    Ok(no_store().json(webauthn_options(&options)?))
}

problems!(
    /// The problems of rate-limited anonymous passkey routes.
    RateLimitProblems {
        ApiError::RateLimited { retry_after_secs: 1 } => "too many requests from this address.",
    }
);

problems!(
    /// The problems of finishing a passwordless sign-in.
    PasskeySignInProblems {
        AppError::InvalidCredential(String::new()) => "an unknown passkey, a disabled or unverified \
            account, a ceremony that is unknown or expired, or a response that does not verify \
            (one answer for all).",
        ApiError::RateLimited { retry_after_secs: 1 } => "too many requests from this address.",
    }
);

/// `POST /v1/auth/passkey/finish`.
#[utoipa::path(
    post,
    path = "/v1/auth/passkey/finish",
    operation_id = "finishPasskeySignIn",
    tag = "authentication",
    summary = "Finish a passwordless sign-in",
    description = "Verifies a discoverable passkey's assertion (user verification required) \
        and opens a session: the passkey is both factors, so the session counts as having \
        presented a second factor (`auth_methods` is `[\"passkey\"]`).",
    request_body = PasskeyCredentialRequest,
    responses(
        (status = 200, description = "Logged in.", body = LoginResponse),
        PasskeySignInProblems,
    ),
)]
pub async fn finish_passkey_sign_in(
    _: RateLimited,
    Client(client): Client,
    roster: Data<Roster>,
    ApiJson(body): ApiJson<PasskeyCredentialRequest>,
) -> Result<impl Responder, ApiError> {
    let success = roster
        .finish_passwordless(&credential_json(body.credential), &client)
        .await?;
    Ok(no_store().json(LoginResponse::from(success)))
}

/// The browser's credential as the JSON text the relying party reads.
pub(crate) fn credential_json(credential: Credential) -> String {
    serde_json::Value::Object(credential).to_string()
}

/// The adapter's options text as JSON for the response.
pub(crate) fn webauthn_options(options: &WebAuthnOptions) -> Result<serde_json::Value, ApiError> {
    serde_json::from_str(&options.0).map_err(|e| {
        ApiError::App(AppError::Internal(format!(
            "WebAuthn options are not JSON: {e}"
        )))
    })
}
