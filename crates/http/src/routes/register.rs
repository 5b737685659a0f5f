use actix_web::web::Data;
use actix_web::{HttpResponse, Responder};
use roster_app::AppError;
use roster_app::{RegistrationForm, Roster, SelfRegistration};

use crate::dto::{
    AccountDto, AccountWithGrantsDto, AdminRegisterRequest, CheckYourEmailDto, GrantDto,
    RegisterRequest, RegistrationPolicyDto,
};
use crate::extract::{ApiJson, Caller, ClientIp};
use crate::problem::{ApiError, problems};
use crate::rate_limit::RateLimited;
use crate::respond::created;

/// Where a created account can be read back (by an administrator).
fn account_location(account: &AccountDto) -> String {
    format!("/v1/admin/accounts/{}", account.id)
}

problems!(
    /// The problems `register_self` answers besides the shared ones.
    RegisterSelfProblems {
        AppError::FeatureDisabled("account-registration") => "public registration is switched off (checked before the body is \
            validated).",
        AppError::DomainNotAllowed => "the email's domain is not in `registration.allowed_domains` \
            (checked before any password work; see `getRegistrationPolicy`).",
        AppError::EmailTaken => "an account with this email exists (never in the \
            enumeration-safe mode).",
        AppError::TooManyGrants { limit: 0 } => "more grants than `grants.max_per_holder` (default 1000).",
        AppError::Validation(Vec::new()) => "`errors[].code`: `invalid_email`, `invalid_name`, \
            `password_too_short`, `password_too_long`, `weak_password`.",
        ApiError::RateLimited { retry_after_secs: 1 } => "too many requests from this address.",
        AppError::Overloaded { retry_after_secs: 1 } => "too much password-hashing work is queued.",
        AppError::Unavailable(String::new()) => "the database is unreachable.",
    }
);

/// `POST /v1/account/register`: public, only while `account-registration` is on;
/// rate-limited per client IP before anything else.
#[utoipa::path(
    post,
    path = "/v1/account/register",
    operation_id = "register",
    tag = "registration",
    summary = "Register an account (public)",
    description = "Public self-registration, only while the `account-registration` feature \
        flag is on, and only for email domains the registration policy allows (see \
        `getRegistrationPolicy`). The account gets no roles and no grants. While the server \
        requires email verification it is created with `email_verified: false` and cannot log \
        in until it follows the link emailed to it (`{public_url}/console/verify-email#rev_...`, \
        valid 24 hours; see `verifyEmail`). With `registration.enumeration_safe` the answer is \
        202 `{\"status\": \"check_your_email\"}` for a new and a taken email alike, with the \
        same work: a new email gets its (unverified) account and the link, the owner of a \
        taken one an email saying someone tried to register it, with where to reset the \
        password; the existing account is not changed. Rate-limited per client IP (shared \
        with login) before anything else.",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "The account was created.", body = AccountDto,
            headers(("Location" = String, description = "`/v1/admin/accounts/{id}`"))),
        (status = 202, description = "Enumeration-safe mode: check your email (the same \
            answer whether or not the email had an account).", body = CheckYourEmailDto),
        RegisterSelfProblems,
    ),
)]
pub async fn register_self(
    _: RateLimited,
    ClientIp(source_ip): ClientIp,
    roster: Data<Roster>,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<impl Responder, ApiError> {
    match roster.register_self(body.into(), source_ip).await? {
        SelfRegistration::Created(account) => {
            let account = AccountDto::from(&account);
            Ok(created(account_location(&account), account))
        }
        SelfRegistration::CheckYourEmail => {
            Ok(HttpResponse::Accepted().json(CheckYourEmailDto::ANSWER))
        }
    }
}

/// `GET /v1/account/registration-policy`: public, whatever the flags say.
#[utoipa::path(
    get,
    path = "/v1/account/registration-policy",
    operation_id = "getRegistrationPolicy",
    tag = "registration",
    summary = "What a sign-up form needs to know",
    description = "Public, whatever the feature flags say: whether public self-registration \
        is open right now, which email domains may register (empty: any), whether a new \
        account must verify its email address, and the password length bounds. Accounts \
        created by administrators are exempt from the domain rules and are verified.",
    responses(
        (status = 200, description = "The registration policy in force.",
            body = RegistrationPolicyDto),
    ),
)]
pub async fn registration_policy(roster: Data<Roster>) -> HttpResponse {
    HttpResponse::Ok().json(RegistrationPolicyDto::from(roster.registration_policy()))
}

problems!(
    /// The problems `register_by_admin` answers besides the shared ones.
    RegisterByAdminProblems {
        AppError::Forbidden => "no `account-create` on `*`, or a grant the caller may not give.",
        AppError::RoleNotFound => "a grant names an unknown role.",
        AppError::EmailTaken => "an account with this email exists.",
        AppError::TooManyGrants { limit: 0 } => "more grants than `grants.max_per_holder` (default 1000).",
        AppError::Validation(Vec::new()) => "`errors[].code`: `invalid_email`, `invalid_name`, \
            `password_too_short`, `password_too_long`, `weak_password`, \
            `invalid_role_name` and `invalid_scope` (as `grants[i].role`, \
            `grants[i].scope`), `duplicate_grant`.",
        AppError::Overloaded { retry_after_secs: 1 } => "too much password-hashing work is queued.",
        AppError::Unavailable(String::new()) => "the database is unreachable.",
    }
);

/// `POST /v1/admin/account/register`: `account-create` on `*`, plus the rights to give
/// each of `grants`; the account and its grants are created together or not at all.
#[utoipa::path(
    post,
    path = "/v1/admin/account/register",
    operation_id = "registerByAdmin",
    tag = "registration",
    summary = "Create an account with grants",
    description = "Needs `account-create` on `*`, and for each grant what creating it later \
        would need. Works whatever the `account-registration` flag says. The account, its \
        grants and the audit event are written together: all or nothing.",
    request_body = AdminRegisterRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The account was created with its grants.",
            body = AccountWithGrantsDto,
            headers(("Location" = String, description = "`/v1/admin/accounts/{id}`"))),
        RegisterByAdminProblems,
    ),
)]
pub async fn register_by_admin(
    roster: Data<Roster>,
    Caller(caller): Caller,
    ApiJson(body): ApiJson<AdminRegisterRequest>,
) -> Result<impl Responder, ApiError> {
    let form = RegistrationForm::new(body.email, body.password, body.name);
    let grants = body.grants.into_iter().map(Into::into).collect();
    let (account, grants) = roster.register_by_admin(&caller, form, grants).await?;
    let account = AccountDto::from(&account);
    let location = account_location(&account);
    Ok(created(
        location,
        AccountWithGrantsDto {
            account,
            grants: grants.iter().map(GrantDto::from).collect(),
        },
    ))
}
