//! Password login: one argon2 verify, then a fresh server-side session.

use chrono::{DateTime, Utc};
use roster_domain::{Account, Email, PlainPassword, PrincipalId};
use secrecy::{ExposeSecret, SecretString};
use tracing::instrument;
use uuid::Uuid;

use super::HOUSEKEEPING_BATCH;
use super::Roster;
use crate::error::AppError;
use crate::model::{
    AuditAction, AuditEvent, AuthMethod, AuthMethods, ClientInfo, NewSession, SessionId,
    ThrottleState,
};

/// A session about to be stored, with its token (shown once).
#[derive(Debug)]
pub(super) struct IssuedSession {
    pub token: SecretString,
    pub session: NewSession,
}

/// Failures older than this, with no newer one, are forgotten: the count starts afresh.
const FAILURE_MEMORY: chrono::Duration = chrono::Duration::days(1);

/// What the right password leads to: a session, or, for an account with a second factor,
/// the second step.
#[derive(Debug)]
pub enum LoginOutcome {
    Session(LoginSuccess),
    SecondFactor(SecondFactorPending),
}

/// The second step of a login: `token` (`rmf_`, shown once) lets its holder finish with a
/// second factor until `expires_at`.
#[derive(Debug)]
pub struct SecondFactorPending {
    pub token: SecretString,
    pub expires_at: DateTime<Utc>,
    /// The factors the account can finish with: `otp`, `recovery`, `passkey`.
    pub methods: Vec<AuthMethod>,
}

/// What a successful login hands back. `token` is shown to the client exactly once.
#[derive(Debug)]
pub struct LoginSuccess {
    pub token: SecretString,
    pub session_id: SessionId,
    pub expires_at: DateTime<Utc>,
    pub account: Account,
}

impl Roster {
    /// Checks email and password and opens a session.
    ///
    /// Unknown email, wrong password and disabled account all fail with the same
    /// `InvalidCredentials` after the same amount of hashing work (an unknown email is
    /// verified against a dummy hash), so responses do not reveal which accounts exist.
    ///
    /// Repeated failures for one email throttle further attempts (see
    /// [`LoginThrottlePolicy`](super::LoginThrottlePolicy)); a throttled attempt is refused
    /// before any hashing. A success forgets the failures.
    ///
    /// The session keeps where it was opened from: the client's address and its `User-Agent`
    /// (cleaned and cut, see [`ClientInfo::stored_user_agent`]), so that its owner can tell
    /// their sessions apart.
    ///
    /// The right password for an account whose email address is not verified yet opens no
    /// session: `EmailUnverified`, decided only after the password was verified.
    ///
    /// The right password for an account with a second factor opens no session either, but
    /// the second step ([`LoginOutcome::SecondFactor`], finished by
    /// [`Roster::login_second_factor`]); the throttle's count is kept until that step
    /// succeeds, so that wrong codes add up across attempts.
    ///
    /// # Errors
    /// `TooManyAttempts`, `InvalidCredentials`, `EmailUnverified`, `Overloaded`, `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn login(
        &self,
        email: &str,
        password: &SecretString,
        client: &ClientInfo,
    ) -> Result<LoginOutcome, AppError> {
        let source_ip = client.source_ip;
        // A password longer than any policy allows cannot be any account's: it fails like a
        // wrong one, after the same hashing work (against the dummy hash), and is never
        // normalized past a bounded prefix.
        let (password, over_long) = match PlainPassword::bounded(password.expose_secret()) {
            Some(password) => (password, false),
            None => (PlainPassword::new(""), true),
        };
        let Ok(email) = Email::parse(email) else {
            // Nothing to find or throttle, but the same hashing work as any other failure.
            self.ports.hasher.verify(password, None).await?;
            tracing::info!(outcome = "invalid_credentials", "login failed");
            return Err(AppError::InvalidCredentials);
        };
        let canonical = email.canonical();
        let throttle = self.ports.login_throttle.state(canonical).await?;
        self.refuse_while_throttled(throttle.as_ref())?;
        let stored = self.ports.accounts.find_by_email(canonical).await?;
        let (account, hash) = match stored {
            Some(stored) if !over_long => (Some(stored.account), Some(stored.password_hash)),
            Some(stored) => (Some(stored.account), None),
            None => (None, None),
        };
        let verified = self.ports.hasher.verify(password, hash).await?;
        let account = match account {
            Some(account) if verified && account.can_log_in() => account,
            _ => {
                let now = self.ports.clock.now();
                let audit = AuditEvent::new(AuditAction::LoginFailed, now)
                    .target("email", canonical)
                    .from_ip(source_ip);
                let state = self
                    .ports
                    .login_throttle
                    .record_failure(canonical, now, &self.login_throttle, &audit)
                    .await?;
                tracing::info!(
                    outcome = "invalid_credentials",
                    failures = state.failures,
                    throttled = state.locked_until.is_some(),
                    "login failed"
                );
                return Err(AppError::InvalidCredentials);
            }
        };
        if !account.email_verified {
            // Only after the password was verified, so the answer reveals nothing to whoever
            // does not know it. Not a failure: the throttle neither counts nor clears it.
            tracing::info!(account_id = %account.id, outcome = "email_unverified", "login refused");
            return Err(AppError::EmailUnverified);
        }
        if account.has_second_factor {
            return Ok(LoginOutcome::SecondFactor(
                self.open_second_step(&account).await?,
            ));
        }
        if throttle.is_some() {
            self.ports.login_throttle.clear(canonical).await?;
        }
        let (session, audit) =
            self.new_session(&account, client, AuthMethods::of(AuthMethod::Password));
        self.ports.sessions.create(&session.session, &audit).await?;
        tracing::info!(account_id = %account.id, session_id = %session.session.id, "login succeeded");
        Ok(LoginOutcome::Session(LoginSuccess {
            token: session.token,
            session_id: session.session.id,
            expires_at: session.session.expires_at,
            account,
        }))
    }

    /// A new session of `account` opened by `client` with `methods` (a second factor among
    /// them makes `second_factor_at` now), and its `login.succeeded` event.
    pub(super) fn new_session(
        &self,
        account: &Account,
        client: &ClientInfo,
        methods: AuthMethods,
    ) -> (IssuedSession, AuditEvent) {
        let issued = self.ports.tokens.new_session_token();
        let now = self.ports.clock.now();
        let second_factor = methods.iter().any(|method| method != AuthMethod::Password);
        let session = NewSession {
            id: SessionId::new(Uuid::now_v7()),
            account_id: account.id,
            token_digest: issued.digest,
            created_at: now,
            expires_at: now + self.sessions.ttl,
            user_agent: client.stored_user_agent(),
            source_ip: client.source_ip,
            second_factor_at: second_factor.then_some(now),
            auth_methods: methods,
        };
        let audit = AuditEvent::new(AuditAction::LoginSucceeded, now)
            .actor(PrincipalId::Account(account.id))
            .target("session", session.id)
            .from_ip(client.source_ip)
            .detail(format!("with {}", session.auth_methods));
        (
            IssuedSession {
                token: issued.token,
                session,
            },
            audit,
        )
    }

    /// Forgets failure records untouched for a day (bounded work per call; the periodic
    /// cleanup calls it). Returns how many went.
    ///
    /// # Errors
    /// `Unavailable`.
    pub async fn forget_old_login_failures(&self) -> Result<usize, AppError> {
        let before = self.ports.clock.now() - FAILURE_MEMORY;
        Ok(self
            .ports
            .login_throttle
            .forget_stale(before, HOUSEKEEPING_BATCH)
            .await?)
    }

    /// `TooManyAttempts` while the email's lock lasts, with the seconds left (at least 1).
    pub(super) fn refuse_while_throttled(
        &self,
        state: Option<&ThrottleState>,
    ) -> Result<(), AppError> {
        let Some(locked_until) = state.and_then(|state| state.locked_until) else {
            return Ok(());
        };
        let left = locked_until - self.ports.clock.now();
        if left <= chrono::Duration::zero() {
            return Ok(());
        }
        let retry_after_secs = u64::try_from(left.num_seconds()).unwrap_or(0) + 1;
        tracing::info!(
            outcome = "too_many_attempts",
            retry_after_secs,
            "login throttled"
        );
        Err(AppError::TooManyAttempts { retry_after_secs })
    }
}

#[cfg(test)]
mod tests;
