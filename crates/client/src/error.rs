//! What can go wrong when talking to Roster: the service answered with a problem (RFC 9457,
//! with a stable `code`), it could not be reached, or its answer could not be read.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// Every failure of a [`Client`](crate::Client) call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Roster answered with an error status and a problem body.
    #[error("{problem}")]
    Problem {
        /// The problem Roster answered.
        problem: Box<Problem>,
        /// From `Retry-After` on 429 and 503 answers.
        retry_after: Option<Duration>,
    },
    /// Roster could not be reached, or did not answer within the timeout (after the retries
    /// that were safe to make). Nothing is known about whether a write happened.
    #[error("Roster is unreachable: {0}")]
    Unreachable(#[source] reqwest::Error),
    /// Roster answered something this client cannot read (a proxy's error page, a newer or
    /// older server): the status and what went wrong.
    #[error("unexpected answer from Roster (HTTP {status}): {message}")]
    UnexpectedAnswer {
        /// The HTTP status of the answer.
        status: u16,
        /// What could not be read.
        message: String,
    },
    /// The client was configured wrongly (a base URL that does not parse, say).
    #[error("invalid client configuration: {0}")]
    Configuration(String),
}

impl Error {
    /// The problem's code when Roster answered one, e.g. to `match` on
    /// [`ProblemCode::EmailTaken`].
    pub fn code(&self) -> Option<&ProblemCode> {
        match self {
            Error::Problem { problem, .. } => Some(&problem.code),
            _ => None,
        }
    }

    /// The HTTP status Roster answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Problem { problem, .. } => Some(problem.status),
            Error::UnexpectedAnswer { status, .. } => Some(*status),
            Error::Unreachable(_) | Error::Configuration(_) => None,
        }
    }

    /// Whether Roster refused the bearer token (401 `unauthenticated`): it is unknown,
    /// expired, revoked or of a disabled account.
    pub fn is_unauthenticated(&self) -> bool {
        self.code() == Some(&ProblemCode::Unauthenticated)
    }

    /// Whether the failure says nothing about the request itself: Roster was unreachable,
    /// overloaded or its database unavailable. Callers decide whether to retry later.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Unreachable(_) => true,
            Error::Problem { problem, .. } => matches!(
                problem.code,
                ProblemCode::Unavailable
                    | ProblemCode::Overloaded
                    | ProblemCode::TooManyConnections
                    | ProblemCode::RequestTimeout
            ),
            Error::UnexpectedAnswer { status, .. } => matches!(status, 502..=504),
            Error::Configuration(_) => false,
        }
    }
}

/// An RFC 9457 problem, the body of every error Roster answers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Problem {
    /// The stable, machine-readable code.
    pub code: ProblemCode,
    /// The HTTP status.
    pub status: u16,
    /// A short summary of the problem type.
    pub title: String,
    /// What happened in this occurrence.
    pub detail: String,
    /// For `validation_failed`, every invalid field; for `invalid_query`, the parameter.
    #[serde(default)]
    pub errors: Vec<FieldError>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.title, self.code, self.detail)?;
        for error in &self.errors {
            write!(f, "; {}: {}", error.field, error.message)?;
        }
        Ok(())
    }
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FieldError {
    /// The field's path in the request, e.g. `grants[1].scope`.
    pub field: String,
    /// A stable code for what is wrong with it, e.g. `too_weak`.
    pub code: String,
    /// A human-readable message.
    pub message: String,
}

macro_rules! problem_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal,)*) => {
        /// The `code` of a [`Problem`]: every code Roster documents, and [`ProblemCode::Other`]
        /// for one this client does not know yet (a newer server).
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ProblemCode {
            $($(#[$doc])* $variant,)*
            /// A code this version of the client does not know.
            Other(String),
        }

        impl ProblemCode {
            /// The code as Roster writes it, e.g. `email_taken`.
            pub fn as_str(&self) -> &str {
                match self {
                    $(ProblemCode::$variant => $code,)*
                    ProblemCode::Other(code) => code,
                }
            }
        }

        impl From<&str> for ProblemCode {
            fn from(code: &str) -> ProblemCode {
                match code {
                    $($code => ProblemCode::$variant,)*
                    other => ProblemCode::Other(other.to_owned()),
                }
            }
        }
    };
}

problem_codes! {
    /// One or more fields are invalid; see [`Problem::errors`].
    ValidationFailed = "validation_failed",
    /// The body is not JSON of the documented shape.
    InvalidBody = "invalid_body",
    /// A query parameter is invalid.
    InvalidQuery = "invalid_query",
    /// The body is larger than the service accepts.
    PayloadTooLarge = "payload_too_large",
    /// The body is not `application/json`.
    UnsupportedMediaType = "unsupported_media_type",
    /// The route does not take this method.
    MethodNotAllowed = "method_not_allowed",
    /// A valid bearer token is required.
    Unauthenticated = "unauthenticated",
    /// The caller's grants do not allow the operation.
    Forbidden = "forbidden",
    /// No such resource.
    NotFound = "not_found",
    /// The email or password is incorrect.
    InvalidCredentials = "invalid_credentials",
    /// A passkey answer was refused.
    InvalidCredential = "invalid_credential",
    /// Too many failed logins for this account.
    TooManyAttempts = "too_many_attempts",
    /// Too many requests from this client address.
    RateLimited = "rate_limited",
    /// The feature behind this route is switched off.
    FeatureDisabled = "feature_disabled",
    /// An account with this email exists already.
    EmailTaken = "email_taken",
    /// The email's domain may not self-register.
    DomainNotAllowed = "domain_not_allowed",
    /// The account's email address is not verified yet.
    EmailUnverified = "email_unverified",
    /// A role with this name exists already.
    RoleExists = "role_exists",
    /// The role is still granted.
    RoleInUse = "role_in_use",
    /// No role with this name exists.
    RoleNotFound = "role_not_found",
    /// The role or its grants changed while the request was checked; retry.
    RoleChanged = "role_changed",
    /// This role is already granted on this scope.
    GrantExists = "grant_exists",
    /// The holder has the most grants it may hold.
    TooManyGrants = "too_many_grants",
    /// The last active super admin cannot be disabled.
    LastSuperadmin = "last_superadmin",
    /// The service may not write the features file.
    FeaturesFileReadOnly = "features_file_read_only",
    /// The features file cannot be edited safely.
    FeaturesFileInvalid = "features_file_invalid",
    /// An emailed link's token is invalid, expired or used.
    TokenInvalid = "token_invalid",
    /// A pending invitation for this address exists already.
    InvitationPending = "invitation_pending",
    /// The invitation was accepted.
    InvitationAccepted = "invitation_accepted",
    /// The invitation was revoked.
    InvitationRevoked = "invitation_revoked",
    /// A second-factor code is wrong, expired or used.
    InvalidMfaCode = "invalid_mfa_code",
    /// A sign-in in progress (`rmf_` token) is unknown, expired or used up.
    InvalidMfaToken = "invalid_mfa_token",
    /// An authenticator app is set up already.
    MfaAlreadyEnrolled = "mfa_already_enrolled",
    /// The account has no second factor of this kind.
    MfaNotEnrolled = "mfa_not_enrolled",
    /// The account must set up a second factor first.
    MfaEnrolmentRequired = "mfa_enrolment_required",
    /// The action needs a recent second factor (`POST /v1/auth/step-up`).
    MfaStepUpRequired = "mfa_step_up_required",
    /// The action needs a recent sign-in.
    RecentSignInRequired = "recent_sign_in_required",
    /// The request took too long.
    RequestTimeout = "request_timeout",
    /// The service is overloaded; retry later.
    Overloaded = "overloaded",
    /// Too many connections are open.
    TooManyConnections = "too_many_connections",
    /// The database is unavailable.
    Unavailable = "unavailable",
    /// An unexpected server failure.
    InternalError = "internal_error",
}

impl fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProblemCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Ok(ProblemCode::from(code.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_read_back_to_their_variant_and_unknown_ones_are_kept() {
        for code in ["email_taken", "mfa_step_up_required", "unavailable"] {
            let parsed = ProblemCode::from(code);
            assert!(!matches!(parsed, ProblemCode::Other(_)), "{code}");
            assert_eq!(parsed.as_str(), code);
        }
        assert_eq!(
            ProblemCode::from("brand_new_code"),
            ProblemCode::Other("brand_new_code".to_owned())
        );
    }

    #[test]
    fn a_problem_body_reads_with_its_field_errors() {
        let problem: Problem = serde_json::from_str(
            r#"{"type":"urn:roster:problem:validation_failed","title":"Validation failed",
                "status":422,"detail":"One or more fields are invalid; see `errors`.",
                "code":"validation_failed",
                "errors":[{"field":"password","code":"too_weak","message":"Too weak."}]}"#,
        )
        .unwrap();
        assert_eq!(problem.code, ProblemCode::ValidationFailed);
        assert_eq!(problem.errors[0].field, "password");
        assert!(problem.to_string().contains("password: Too weak."));
    }
}
