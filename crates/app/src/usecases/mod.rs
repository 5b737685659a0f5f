//! The use cases. [`Roster`] holds the ports and the policies from settings; each use case is
//! a method on it, in a module of its own.

mod admin_accounts;
mod api_keys;
mod audit;
mod audit_retention;
mod authenticate;
mod authz;
mod bootstrap;
mod caller;
mod feature_reloads;
mod features;
mod grants;
mod introspect;
mod invitations;
mod login;
mod mail;
mod mfa;
mod mfa_login;
mod passkeys;
mod password_reset;
mod register;
mod registration_policy;
mod roles;
mod sessions;
mod step_up;
mod verify_email;
mod who_may;

use std::sync::Arc;

use chrono::Duration;
use roster_domain::PasswordPolicy;
use roster_domain::mfa::MfaPolicy;

use crate::error::AppError;
use crate::model::{Feature, FeatureReport};
use crate::ports::{
    AccountRepository, ApiKeyStore, AuditLog, Clock, EmailTokenStore, FeatureManager, GrantStore,
    InvitationStore, LoginThrottle, MailSignal, Mailer, MfaStore, Outbox, PasskeyStore,
    PasswordHasher, PasswordStrength, Readiness, RoleStore, SessionStore, TokenSource, Totp,
    WebAuthn,
};

/// Rows one housekeeping chore deletes per call at most (the server's job runs every 5
/// minutes): bounded work, so that a backlog is worked down over several passes without a
/// write lock held long.
const HOUSEKEEPING_BATCH: i64 = 1000;

pub use admin_accounts::AccountDetails;
pub use api_keys::{ApiKeyDetails, CreatedApiKey};
pub use audit::{AuditTrail, AuditTrailForm, PrincipalNames};
pub use audit_retention::AuditSettings;
pub use authz::{CheckForm, CheckOutcome};
pub use bootstrap::BootstrapOutcome;
pub use caller::{Authenticated, CallerKind};
pub use feature_reloads::ReloadEvent;
pub use features::FeatureOverview;
pub use grants::{GrantForm, GrantOptions};
pub use introspect::{ActiveToken, Introspection, TokenHolder};
pub use invitations::{AcceptedInvitation, InvitationForm};
pub use login::{LoginOutcome, LoginSuccess, SecondFactorPending};
pub use mail::{MailRetryPolicy, MailSenderSettings};
pub use mfa::{MfaStatus, RECOVERY_CODES, RecoveryCodes, TotpSecret};
pub use password_reset::PasswordResetSettings;
pub use register::{RegistrationForm, SelfRegistration};
pub use registration_policy::{EmailVerification, RegistrationPolicy, RegistrationPolicyView};
pub use roles::{MAX_RULES, RoleForm, RuleForm};
pub use sessions::OwnSession;
pub use verify_email::VERIFICATION_TTL;
pub use who_may::{CHECK_CHOICE_LIMIT, CheckChoices, CheckSubject, SubjectCheck, SubjectCheckForm};

/// Session lifetimes, from settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSettings {
    /// Absolute lifetime from login.
    pub ttl: Duration,
    /// A session unused for this long stops working.
    pub idle_timeout: Duration,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            ttl: Duration::hours(12),
            idle_timeout: Duration::hours(1),
        }
    }
}

/// Per-account login throttling, from settings: after `free_failures` consecutive failures
/// for one email, logins wait `base_delay`, doubling with each further failure up to
/// `max_delay`. Never a permanent lock, so an attacker cannot lock a user out for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottlePolicy {
    pub free_failures: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for LoginThrottlePolicy {
    fn default() -> Self {
        Self {
            free_failures: 5,
            base_delay: Duration::minutes(1),
            max_delay: Duration::minutes(15),
        }
    }
}

impl LoginThrottlePolicy {
    /// How long logins wait after the `failures`-th consecutive failure; `None` while
    /// failures are still free.
    ///
    /// ```
    /// use chrono::Duration;
    /// use roster_app::LoginThrottlePolicy;
    ///
    /// let policy = LoginThrottlePolicy::default();
    /// assert_eq!(policy.delay_after(4), None);
    /// assert_eq!(policy.delay_after(5), Some(Duration::minutes(1)));
    /// assert_eq!(policy.delay_after(7), Some(Duration::minutes(4)));
    /// assert_eq!(policy.delay_after(40), Some(Duration::minutes(15)));
    /// ```
    pub fn delay_after(&self, failures: u32) -> Option<Duration> {
        let doublings = failures.checked_sub(self.free_failures)?;
        let factor = 1i32.checked_shl(doublings.min(30)).unwrap_or(i32::MAX);
        let delay = self
            .base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay);
        Some(delay.min(self.max_delay))
    }
}

/// Limits on grants, from settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantLimits {
    /// The most grants one account or API key may hold (`grants.max_per_holder`). Every
    /// authenticated request of the holder loads and evaluates them all, and `/me` lists them.
    pub max_per_holder: u32,
}

impl Default for GrantLimits {
    fn default() -> Self {
        Self {
            max_per_holder: 1000,
        }
    }
}

/// Multi-factor settings: who must enrol, and how long a second factor counts for the most
/// dangerous actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaSettings {
    pub policy: MfaPolicy,
    /// `mfa.step_up_window`: how recent a session's last second factor must be for the
    /// actions that ask for one.
    pub step_up_window: Duration,
}

impl Default for MfaSettings {
    fn default() -> Self {
        Self {
            policy: MfaPolicy::default(),
            step_up_window: Duration::minutes(15),
        }
    }
}

/// The policies the use cases apply, from settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterSettings {
    pub password_policy: PasswordPolicy,
    pub sessions: SessionSettings,
    pub login_throttle: LoginThrottlePolicy,
    pub grants: GrantLimits,
    pub registration: RegistrationPolicy,
    /// Where people reach the service (`server.public_url`, no trailing slash): emailed
    /// links start with it.
    pub public_url: String,
    pub password_reset: PasswordResetSettings,
    pub mail_sender: MailSenderSettings,
    pub mfa: MfaSettings,
    pub audit: AuditSettings,
}

impl Default for RosterSettings {
    fn default() -> Self {
        Self {
            password_policy: PasswordPolicy::default(),
            sessions: SessionSettings::default(),
            login_throttle: LoginThrottlePolicy::default(),
            grants: GrantLimits::default(),
            public_url: "http://localhost:8080".to_owned(),
            password_reset: PasswordResetSettings::default(),
            mail_sender: MailSenderSettings::default(),
            registration: RegistrationPolicy::default(),
            mfa: MfaSettings::default(),
            audit: AuditSettings::default(),
        }
    }
}

/// Every port the use cases need, as trait objects chosen by the composition root.
#[derive(Clone)]
pub struct RosterPorts {
    pub accounts: Arc<dyn AccountRepository>,
    pub sessions: Arc<dyn SessionStore>,
    pub api_keys: Arc<dyn ApiKeyStore>,
    pub login_throttle: Arc<dyn LoginThrottle>,
    pub roles: Arc<dyn RoleStore>,
    pub grants: Arc<dyn GrantStore>,
    pub audit: Arc<dyn AuditLog>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub strength: Arc<dyn PasswordStrength>,
    pub features: Arc<dyn FeatureManager>,
    pub readiness: Arc<dyn Readiness>,
    pub clock: Arc<dyn Clock>,
    pub tokens: Arc<dyn TokenSource>,
    pub mailer: Arc<dyn Mailer>,
    pub outbox: Arc<dyn Outbox>,
    pub email_tokens: Arc<dyn EmailTokenStore>,
    pub invitations: Arc<dyn InvitationStore>,
    pub mail_queued: Arc<dyn MailSignal>,
    pub mfa: Arc<dyn MfaStore>,
    pub totp: Arc<dyn Totp>,
    pub passkeys: Arc<dyn PasskeyStore>,
    pub webauthn: Arc<dyn WebAuthn>,
}

impl std::fmt::Debug for RosterPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RosterPorts").finish_non_exhaustive()
    }
}

/// The application: ports plus policies. Cheap to clone (everything is behind `Arc`).
#[derive(Debug, Clone)]
pub struct Roster {
    ports: RosterPorts,
    password_policy: PasswordPolicy,
    sessions: SessionSettings,
    login_throttle: LoginThrottlePolicy,
    grant_limits: GrantLimits,
    registration: Arc<RegistrationPolicy>,
    public_url: Arc<str>,
    password_reset: PasswordResetSettings,
    mail_sender: MailSenderSettings,
    mfa: Arc<MfaSettings>,
    introspectors: Arc<introspect::Introspectors>,
    audit: AuditSettings,
}

impl Roster {
    pub fn new(ports: RosterPorts, settings: RosterSettings) -> Self {
        let mut public_url = settings.public_url;
        public_url.truncate(public_url.trim_end_matches('/').len());
        Self {
            ports,
            password_policy: settings.password_policy,
            sessions: settings.sessions,
            login_throttle: settings.login_throttle,
            grant_limits: settings.grants,
            registration: Arc::new(settings.registration),
            public_url: public_url.into(),
            password_reset: settings.password_reset,
            mail_sender: settings.mail_sender,
            mfa: Arc::new(settings.mfa),
            introspectors: Arc::new(introspect::Introspectors::new()),
            audit: settings.audit,
        }
    }

    /// Whether `feature` is on right now, for adapters that gate whole routes
    /// (`GET /v1/features`, the health probes, ...). An in-memory read.
    pub fn is_enabled(&self, feature: Feature) -> bool {
        self.ports.features.is_enabled(feature)
    }

    /// Every flag's state and the features file's, for `GET /v1/features`.
    pub fn feature_report(&self) -> FeatureReport {
        self.ports.features.report()
    }

    /// Whether the database answers and its schema is current (`GET /readyz`).
    ///
    /// # Errors
    /// `Unavailable` with the reason otherwise.
    pub async fn check_ready(&self) -> Result<(), AppError> {
        Ok(self.ports.readiness.check_ready().await?)
    }

    /// The password policy in force.
    pub fn password_policy(&self) -> &PasswordPolicy {
        &self.password_policy
    }
}

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
