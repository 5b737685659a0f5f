//! The signed-in account's second factors: TOTP, recovery codes, passkeys, and the step-up
//! that refreshes the current session's second factor. The enrolment routes take
//! [`EnrollingCaller`]: a session the MFA policy holds back until it enrols may use them.

use actix_web::web::Data;
use actix_web::{HttpResponse, Responder};
use roster_app::AppError;
use roster_app::Roster;
use roster_app::model::PasskeyId;
use secrecy::ExposeSecret;

use super::login::{credential_json, webauthn_options};
use crate::dto::{
    MfaCodeRequest, MfaStatusResponse, PasskeyCredentialRequest, PasskeyDto, PasswordConfirmation,
    RecoveryCodesResponse, RegisterPasskeyRequest, TotpEnrolmentResponse,
};
use crate::extract::{ApiJson, Caller, EnrollingCaller, PathId, PathResource};
use crate::problem::{ApiError, problems};
use crate::rate_limit::RateLimited;
use crate::respond::{created, no_store};

impl PathResource for PasskeyId {
    const PARAMETER: &'static str = "id";
    const RESOURCE: &'static str = "passkey";
    fn parse(raw: &str) -> Option<Self> {
        raw.parse().ok().map(PasskeyId::new)
    }
}

problems!(
    /// The problems of the self-service MFA routes besides the shared ones.
    SessionOnlyProblems {
        AppError::Unauthenticated => "no valid session token (an API key has no second factor).",
    }
);

/// `GET /v1/account/me/mfa`.
#[utoipa::path(
    get,
    path = "/v1/account/me/mfa",
    operation_id = "getMyMfa",
    tag = "mfa",
    summary = "My second factors",
    description = "Whether an authenticator app (TOTP) is set up, how many recovery codes are \
        left, and the passkeys with their last use.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account's second factors.", body = MfaStatusResponse),
        SessionOnlyProblems,
    ),
)]
pub async fn status(
    roster: Data<Roster>,
    EnrollingCaller(caller): EnrollingCaller,
) -> Result<impl Responder, ApiError> {
    let status = roster.mfa_status(&caller).await?;
    Ok(no_store().json(MfaStatusResponse::from(&status)))
}

problems!(
    /// The problems of starting TOTP enrolment.
    BeginTotpProblems {
        AppError::MfaStepUpRequired => "the account has a second factor and this session presented none \
            within `mfa.step_up_window`: step up first (`stepUp`).",
        AppError::RecentSignInRequired => "the account has no second factor yet and this session signed \
            in longer than `mfa.step_up_window` ago: sign in again.",
        AppError::MfaAlreadyEnrolled => "an authenticator app is set up already; remove it first.",
        AppError::Unauthenticated => "no valid session token.",
    }
);

/// `POST /v1/account/me/mfa/totp`.
#[utoipa::path(
    post,
    path = "/v1/account/me/mfa/totp",
    operation_id = "beginTotp",
    tag = "mfa",
    summary = "Set up an authenticator app",
    description = "A new TOTP secret (SHA-1, 6 digits, 30 s) and its `otpauth://` URI, shown \
        only in this answer. Pending until confirmed with a first code (`confirmTotp`); \
        asking again replaces a pending secret.",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The secret, pending confirmation.", body = TotpEnrolmentResponse),
        BeginTotpProblems,
    ),
)]
pub async fn begin_totp(
    roster: Data<Roster>,
    EnrollingCaller(caller): EnrollingCaller,
) -> Result<impl Responder, ApiError> {
    let secret = roster.begin_totp(&caller).await?;
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(TotpEnrolmentResponse::from(secret)))
}

problems!(
    /// The problems of confirming TOTP enrolment.
    ConfirmTotpProblems {
        ApiError::RateLimited { retry_after_secs: 1 } => "too many requests from this address.",
        AppError::MfaStepUpRequired => "the account has a second factor and this session presented none \
            within `mfa.step_up_window`: step up first (`stepUp`).",
        AppError::RecentSignInRequired => "the account has no second factor yet and this session signed \
            in longer than `mfa.step_up_window` ago: sign in again.",
        AppError::InvalidMfaCode => "the code is not the secret's current one (or one step either side).",
        ApiError::NotFound => "no enrolment is pending (start one with `beginTotp`).",
        AppError::MfaAlreadyEnrolled => "the authenticator app is confirmed already.",
        AppError::Unauthenticated => "no valid session token.",
    }
);

/// `POST /v1/account/me/mfa/totp/confirm`.
#[utoipa::path(
    post,
    path = "/v1/account/me/mfa/totp/confirm",
    operation_id = "confirmTotp",
    tag = "mfa",
    summary = "Confirm the authenticator app",
    description = "Confirms the pending secret with a code from the app. From now on a login \
        takes two steps. Answers ten recovery codes, shown only here (any older set stops \
        working).",
    request_body = MfaCodeRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Enrolled; the recovery codes.", body = RecoveryCodesResponse),
        ConfirmTotpProblems,
    ),
)]
pub async fn confirm_totp(
    _: RateLimited,
    roster: Data<Roster>,
    EnrollingCaller(caller): EnrollingCaller,
    ApiJson(body): ApiJson<MfaCodeRequest>,
) -> Result<impl Responder, ApiError> {
    let codes = roster
        .confirm_totp(&caller, body.code.expose_secret())
        .await?;
    Ok(no_store().json(RecoveryCodesResponse::from(codes)))
}

problems!(
    /// The problems of removing TOTP.
    RemoveTotpProblems {
        AppError::MfaStepUpRequired => "the account has a second factor and this session presented none \
            within `mfa.step_up_window`: step up first (`stepUp`).",
        AppError::RecentSignInRequired => "the account has no second factor yet and this session signed \
            in longer than `mfa.step_up_window` ago: sign in again.",
        AppError::InvalidCredentials => "the password is wrong (counted like a failed login).",
        AppError::TooManyAttempts { retry_after_secs: 1 } => "too many failed logins for this account.",
        ApiError::NotFound => "no authenticator app is set up.",
        AppError::Unauthenticated => "no valid session token.",
    }
);

problems!(
    /// The problems of renewing recovery codes.
    RenewCodesProblems {
        AppError::MfaStepUpRequired => "the account has a second factor and this session presented none \
            within `mfa.step_up_window`: step up first (`stepUp`).",
        AppError::RecentSignInRequired => "the account has no second factor yet and this session signed \
            in longer than `mfa.step_up_window` ago: sign in again.",
        AppError::InvalidCredentials => "the password is wrong (counted like a failed login).",
        AppError::TooManyAttempts { retry_after_secs: 1 } => "too many failed logins for this account.",
        AppError::MfaNotEnrolled => "the account has no second factor to recover.",
        AppError::Unauthenticated => "no valid session token.",
    }
);

/// `DELETE /v1/account/me/mfa/totp`.
#[utoipa::path(
    delete,
    path = "/v1/account/me/mfa/totp",
    operation_id = "removeTotp",
    tag = "mfa",
    summary = "Remove the authenticator app",
    description = "Removes the TOTP secret (confirmed or pending) after checking the password. \
        When no second factor is left, the recovery codes go too and logins take one step \
        again.",
    request_body = PasswordConfirmation,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed."),
        RemoveTotpProblems,
    ),
)]
pub async fn remove_totp(
    roster: Data<Roster>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<PasswordConfirmation>,
) -> Result<impl Responder, ApiError> {
    roster.remove_totp(&caller, &body.password).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /v1/account/me/mfa/recovery-codes`.
#[utoipa::path(
    post,
    path = "/v1/account/me/mfa/recovery-codes",
    operation_id = "renewRecoveryCodes",
    tag = "mfa",
    summary = "New recovery codes",
    description = "Ten new single-use recovery codes, shown only here, after checking the \
        password; the old ones stop working. 409 `mfa_not_enrolled` for an account without a \
        second factor.",
    request_body = PasswordConfirmation,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The new codes.", body = RecoveryCodesResponse),
        RenewCodesProblems,
    ),
)]
pub async fn renew_recovery_codes(
    roster: Data<Roster>,
    EnrollingCaller(caller): EnrollingCaller,
    ApiJson(body): ApiJson<PasswordConfirmation>,
) -> Result<impl Responder, ApiError> {
    let codes = roster.renew_recovery_codes(&caller, &body.password).await?;
    Ok(no_store().json(RecoveryCodesResponse::from(codes)))
}

problems!(
    /// The problems of starting a passkey registration.
    StartPasskeyRegistrationProblems {
        AppError::MfaStepUpRequired => "the account has a second factor and this session presented none \
            within `mfa.step_up_window`: step up first (`stepUp`).",
        AppError::RecentSignInRequired => "the account has no second factor yet and this session signed \
            in longer than `mfa.step_up_window` ago: sign in again.",
        AppError::Unauthenticated => "no valid session token.",
    }
);

/// `POST /v1/account/me/passkeys/register/start`.
#[utoipa::path(
    post,
    path = "/v1/account/me/passkeys/register/start",
    operation_id = "startPasskeyRegistration",
    tag = "mfa",
    summary = "Start adding a passkey",
    description = "WebAuthn creation options (`publicKey`) for `navigator.credentials.create`: \
        a discoverable credential with user verification, excluding the account's passkeys. \
        Valid 5 minutes, for one answer, from this session only.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "WebAuthn creation options.", body = Object),
        StartPasskeyRegistrationProblems,
    ),
)]
pub async fn start_passkey_registration(
    roster: Data<Roster>,
    EnrollingCaller(caller): EnrollingCaller,
) -> Result<impl Responder, ApiError> {
    let options = roster.start_passkey_registration(&caller).await?;
    Ok(no_store().json(webauthn_options(&options)?))
}

problems!(
    /// The problems of finishing a passkey registration.
    FinishPasskeyProblems {
        AppError::MfaStepUpRequired => "the account has a second factor and this session presented none \
            within `mfa.step_up_window`: step up first (`stepUp`).",
        AppError::RecentSignInRequired => "the account has no second factor yet and this session signed \
            in longer than `mfa.step_up_window` ago: sign in again.",
        AppError::Validation(Vec::new()) => "`errors[].code`: `invalid_name` (`name`: empty, or more \
            than 64 characters).",
        AppError::InvalidCredential(String::new()) => "the response does not verify, answers no \
            ceremony of this session, or the passkey is registered already.",
        AppError::Unauthenticated => "no valid session token.",
    }
);

/// `POST /v1/account/me/passkeys/register/finish`.
#[utoipa::path(
    post,
    path = "/v1/account/me/passkeys/register/finish",
    operation_id = "finishPasskeyRegistration",
    tag = "mfa",
    summary = "Add the passkey",
    description = "Verifies the browser's `PublicKeyCredential` and stores the passkey under \
        `name`. From now on a login takes two steps (the passkey, a TOTP code or a recovery \
        code finish it), and the passkey alone signs in (`startPasskeySignIn`).",
    request_body = RegisterPasskeyRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The passkey.", body = PasskeyDto),
        FinishPasskeyProblems,
    ),
)]
pub async fn finish_passkey_registration(
    roster: Data<Roster>,
    EnrollingCaller(caller): EnrollingCaller,
    ApiJson(body): ApiJson<RegisterPasskeyRequest>,
) -> Result<impl Responder, ApiError> {
    let passkey = roster
        .finish_passkey_registration(&caller, &body.name, &credential_json(body.credential))
        .await?;
    Ok(created(
        "/v1/account/me/mfa".to_owned(),
        PasskeyDto::from(&passkey),
    ))
}

problems!(
    /// The problems of removing a passkey.
    RemovePasskeyProblems {
        AppError::MfaStepUpRequired => "the account has a second factor and this session presented none \
            within `mfa.step_up_window`: step up first (`stepUp`).",
        AppError::RecentSignInRequired => "the account has no second factor yet and this session signed \
            in longer than `mfa.step_up_window` ago: sign in again.",
        ApiError::NotFound => "no such passkey of the caller.",
        AppError::Unauthenticated => "no valid session token.",
    }
);

/// `DELETE /v1/account/me/passkeys/{id}`.
#[utoipa::path(
    delete,
    path = "/v1/account/me/passkeys/{id}",
    operation_id = "removePasskey",
    tag = "mfa",
    summary = "Remove a passkey",
    description = "Removes one of the caller's passkeys. When no second factor is left, the \
        recovery codes go too.",
    params(("id" = String, Path, format = "uuid", description = "The passkey's id.")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed."),
        RemovePasskeyProblems,
    ),
)]
pub async fn remove_passkey(
    roster: Data<Roster>,
    Caller(caller): Caller,
    PathId(id): PathId<PasskeyId>,
) -> Result<impl Responder, ApiError> {
    roster.remove_passkey(&caller, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

problems!(
    /// The problems of a step-up with a code.
    StepUpProblems {
        ApiError::RateLimited { retry_after_secs: 1 } => "too many requests from this address.",
        AppError::InvalidMfaCode => "the code is wrong or used already (counts toward the login throttle).",
        AppError::MfaNotEnrolled => "the account has no second factor.",
        AppError::TooManyAttempts { retry_after_secs: 1 } => "too many failed logins or codes for this account.",
        AppError::Unauthenticated => "no valid session token (API keys need no step-up).",
    }
);

/// `POST /v1/auth/step-up`.
#[utoipa::path(
    post,
    path = "/v1/auth/step-up",
    operation_id = "stepUp",
    tag = "mfa",
    summary = "Confirm it is you",
    description = "Refreshes the current session's second factor with a TOTP or recovery \
        code, for the actions that need a recent one (`mfa.step_up_window`, default 15 \
        minutes): creating API keys, granting roles that allow `grant-manage`, disabling \
        accounts, resetting passwords.",
    request_body = MfaCodeRequest,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The session's second factor is fresh."),
        StepUpProblems,
    ),
)]
pub async fn step_up(
    _: RateLimited,
    roster: Data<Roster>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<MfaCodeRequest>,
) -> Result<impl Responder, ApiError> {
    roster.step_up(&caller, body.code.expose_secret()).await?;
    Ok(HttpResponse::NoContent().finish())
}

problems!(
    /// The problems of starting a step-up with a passkey.
    StepUpPasskeyStartProblems {
        AppError::MfaNotEnrolled => "the account has no passkey.",
        AppError::Unauthenticated => "no valid session token.",
    }
);

/// `POST /v1/auth/step-up/passkey/start`.
#[utoipa::path(
    post,
    path = "/v1/auth/step-up/passkey/start",
    operation_id = "startStepUpPasskey",
    tag = "mfa",
    summary = "Start a step-up with a passkey",
    description = "WebAuthn request options allowing the account's passkeys, for this session.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "WebAuthn request options.", body = Object),
        StepUpPasskeyStartProblems,
    ),
)]
pub async fn start_step_up_passkey(
    roster: Data<Roster>,
    Caller(caller): Caller,
) -> Result<impl Responder, ApiError> {
    let options = roster.start_passkey_step_up(&caller).await?;
    Ok(no_store().json(webauthn_options(&options)?))
}

problems!(
    /// The problems of finishing a step-up with a passkey.
    StepUpPasskeyFinishProblems {
        ApiError::RateLimited { retry_after_secs: 1 } => "too many requests from this address.",
        AppError::InvalidCredential(String::new()) => "the response does not verify or answers no \
            step-up of this session (counts toward the login throttle).",
        AppError::TooManyAttempts { retry_after_secs: 1 } => "too many failed logins or codes for this account.",
        AppError::Unauthenticated => "no valid session token.",
    }
);

/// `POST /v1/auth/step-up/passkey/finish`.
#[utoipa::path(
    post,
    path = "/v1/auth/step-up/passkey/finish",
    operation_id = "finishStepUpPasskey",
    tag = "mfa",
    summary = "Confirm it is you with a passkey",
    description = "Verifies the assertion and refreshes the current session's second factor.",
    request_body = PasskeyCredentialRequest,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The session's second factor is fresh."),
        StepUpPasskeyFinishProblems,
    ),
)]
pub async fn finish_step_up_passkey(
    _: RateLimited,
    roster: Data<Roster>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<PasskeyCredentialRequest>,
) -> Result<impl Responder, ApiError> {
    roster
        .finish_passkey_step_up(&caller, &credential_json(body.credential))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
