//! The application layer's one error type. `roster-http` maps each variant to a status and a
//! stable problem `code` in a single match.

use crate::model::{FeatureEditError, HashError, PasskeyError, StoreError, TotpError};

/// One invalid input field, reported back to the client as `errors[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The JSON field name, e.g. `email`.
    pub field: String,
    /// Stable machine-readable code, e.g. `invalid_email`.
    pub code: &'static str,
    /// Human-readable explanation; never echoes a secret.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// Why a use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The feature that gates this operation is switched off.
    #[error("feature `{0}` is disabled")]
    FeatureDisabled(&'static str),
    /// One or more fields are invalid.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// An account with this (normalized) email already exists.
    #[error("email already registered")]
    EmailTaken,
    /// Public self-registration for an email whose domain `registration.allowed_domains`
    /// does not allow.
    #[error("email domain not allowed")]
    DomainNotAllowed,
    /// The right password for an account whose email address is not verified yet: no
    /// session until it is.
    #[error("email not verified")]
    EmailUnverified,
    /// Unknown email, wrong password or disabled account: deliberately indistinguishable.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failed logins for this email: refused before any hashing until the delay
    /// has passed.
    #[error("too many failed attempts")]
    TooManyAttempts { retry_after_secs: u64 },
    /// No valid bearer token.
    #[error("unauthenticated")]
    Unauthenticated,
    /// Authenticated, but the principal's grants do not allow this.
    #[error("forbidden")]
    Forbidden,
    /// The addressed resource does not exist (or is not the caller's).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A role with this name exists already.
    #[error("role exists")]
    RoleExists,
    /// The role is still granted to someone.
    #[error("role in use")]
    RoleInUse,
    /// A grant names a role that does not exist.
    #[error("role not found")]
    RoleNotFound,
    /// A role's rules, or where it is held, changed while the request was being checked
    /// (a role edit racing a grant of the role): nothing was written; retrying re-checks.
    #[error("role changed meanwhile")]
    RoleChanged,
    /// The holder has this role on this scope already.
    #[error("grant exists")]
    GrantExists,
    /// The holder would exceed the cap on grants per holder (`grants.max_per_holder`).
    #[error("too many grants (at most {limit} per holder)")]
    TooManyGrants { limit: u32 },
    /// Disabling this account would leave no active super admin.
    #[error("the last active super admin cannot be disabled")]
    LastSuperadmin,
    /// The features file may not be written by the service (its permissions, a read-only
    /// mount): a flag cannot be switched from here; the operator edits the file where it is
    /// managed.
    #[error("features file is read-only")]
    FeaturesFileReadOnly,
    /// The features file cannot be edited safely (it does not parse, cannot be read, or the
    /// state in force is not the file on disk): nothing was written; the operator fixes it by
    /// hand first.
    #[error("features file cannot be edited")]
    FeaturesFileInvalid,
    /// An emailed token (password reset, email verification, invitation) that is unknown,
    /// expired, used or revoked: which of these is deliberately not said.
    #[error("token invalid")]
    TokenInvalid,
    /// An unexpired pending invitation for this (normalized) email exists already.
    #[error("invitation pending")]
    InvitationPending,
    /// The invitation was accepted: its account exists, and the invitation no longer changes.
    #[error("invitation accepted")]
    InvitationAccepted,
    /// The invitation was revoked: it cannot be sent again (invite the address anew).
    #[error("invitation revoked")]
    InvitationRevoked,
    /// A TOTP or recovery code that is wrong, used already, or of a factor the account does
    /// not have.
    #[error("invalid second-factor code")]
    InvalidMfaCode,
    /// The second step's `mfa_token` is unknown, expired, used, or failed out (five wrong
    /// codes): the login starts again from the password.
    #[error("invalid mfa token")]
    InvalidMfaToken,
    /// The account has a confirmed TOTP already: remove it before enrolling another.
    #[error("mfa already enrolled")]
    MfaAlreadyEnrolled,
    /// The account has no second factor, so there is nothing to step up with (or to
    /// renew recovery codes for).
    #[error("no second factor enrolled")]
    MfaNotEnrolled,
    /// The session belongs to an account the MFA policy covers that has no second factor
    /// yet: only enrolment, `me` and logout are open to it.
    #[error("mfa enrolment required")]
    MfaEnrolmentRequired,
    /// The action needs a second factor presented within `mfa.step_up_window`.
    #[error("mfa step-up required")]
    MfaStepUpRequired,
    /// Changing the account's second factors needs a recent sign-in when it has none yet
    /// (the session was opened longer than `mfa.step_up_window` ago): sign in again.
    #[error("recent sign-in required")]
    RecentSignInRequired,
    /// A passkey response that does not parse, does not match its ceremony, or does not
    /// verify.
    #[error("invalid credential: {0}")]
    InvalidCredential(String),
    /// The password-hashing queue is full; retry after the given number of seconds.
    #[error("overloaded")]
    Overloaded { retry_after_secs: u64 },
    /// The database cannot be reached.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected adapter failure; the message is for logs only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(cause) => AppError::Unavailable(cause),
            StoreError::RoleChanged => AppError::RoleChanged,
            StoreError::Missing(what) => AppError::Internal(format!("unexpected missing {what}")),
            StoreError::Duplicate(what) => {
                AppError::Internal(format!("unexpected duplicate {what}"))
            }
            StoreError::Internal(cause) => AppError::Internal(cause),
        }
    }
}

impl From<HashError> for AppError {
    fn from(error: HashError) -> Self {
        match error {
            HashError::Overloaded { retry_after_secs } => AppError::Overloaded { retry_after_secs },
            HashError::Internal(cause) => AppError::Internal(cause),
        }
    }
}

impl From<TotpError> for AppError {
    fn from(error: TotpError) -> Self {
        AppError::Internal(error.to_string())
    }
}

impl From<PasskeyError> for AppError {
    fn from(error: PasskeyError) -> Self {
        match error {
            PasskeyError::Invalid(reason) => AppError::InvalidCredential(reason),
            PasskeyError::Internal(cause) => AppError::Internal(cause),
        }
    }
}

impl From<FeatureEditError> for AppError {
    fn from(error: FeatureEditError) -> Self {
        match error {
            FeatureEditError::ReadOnly(_) => AppError::FeaturesFileReadOnly,
            FeatureEditError::Invalid(_) => AppError::FeaturesFileInvalid,
            FeatureEditError::Failed(cause) => {
                AppError::Internal(format!("cannot write the features file: {cause}"))
            }
        }
    }
}
