//! The second step of a login: after the right password, a TOTP code, a recovery code or a
//! passkey opens the session. No password hashing here: the step is a digest lookup and an
//! HMAC, so wrong codes are cheap to refuse and are throttled by count instead.

use std::net::IpAddr;

use chrono::Duration;
use roster_domain::Account;
use tracing::instrument;
use uuid::Uuid;

use super::HOUSEKEEPING_BATCH;
use super::Roster;
use super::login::{LoginSuccess, SecondFactorPending};
use crate::error::AppError;
use crate::model::{AuditAction, AuditEvent, AuthMethod, AuthMethods, ClientInfo, MfaChallenge};

/// How long the second step may take.
pub const MFA_CHALLENGE_TTL: Duration = Duration::minutes(5);
/// Codes (or passkey answers) a second step's token may try; after as many wrong ones it
/// dies and the login starts again from the password.
pub const MFA_CHALLENGE_MAX_ATTEMPTS: u32 = 5;

impl Roster {
    /// Opens the second step for `account`, whose password was just verified.
    pub(super) async fn open_second_step(
        &self,
        account: &Account,
    ) -> Result<SecondFactorPending, AppError> {
        let now = self.ports.clock.now();
        let issued = self.ports.tokens.new_mfa_token();
        let challenge = MfaChallenge {
            id: Uuid::now_v7(),
            account_id: account.id,
            expires_at: now + MFA_CHALLENGE_TTL,
            failures: 0,
        };
        self.ports
            .mfa
            .open_mfa_challenge(&challenge, &issued.digest, now)
            .await?;
        let factors = self.factors_of(account.id).await?;
        let methods = [
            (factors.totp, AuthMethod::Otp),
            (factors.recovery_codes_left > 0, AuthMethod::Recovery),
            (!factors.passkeys.is_empty(), AuthMethod::Passkey),
        ]
        .into_iter()
        .filter_map(|(has, method)| has.then_some(method))
        .collect();
        tracing::info!(account_id = %account.id, outcome = "mfa_required", "password accepted; second factor required");
        Ok(SecondFactorPending {
            token: issued.token,
            expires_at: challenge.expires_at,
            methods,
        })
    }

    /// The live second step behind `mfa_token` and its account, refused while the account's
    /// login throttle holds.
    ///
    /// # Errors
    /// `InvalidMfaToken`, `TooManyAttempts`, `Unavailable`.
    pub(super) async fn second_step(
        &self,
        mfa_token: &str,
    ) -> Result<(MfaChallenge, Account), AppError> {
        if !self.ports.tokens.looks_like_mfa_token(mfa_token) {
            return Err(AppError::InvalidMfaToken);
        }
        let digest = self.ports.tokens.digest(mfa_token);
        let now = self.ports.clock.now();
        let challenge = self
            .ports
            .mfa
            .find_mfa_challenge(&digest, now, MFA_CHALLENGE_MAX_ATTEMPTS)
            .await?
            .ok_or(AppError::InvalidMfaToken)?;
        let account = self
            .ports
            .accounts
            .find_by_id(challenge.account_id)
            .await?
            .filter(Account::can_log_in)
            .ok_or(AppError::InvalidMfaToken)?;
        let throttle = self
            .ports
            .login_throttle
            .state(account.email.canonical())
            .await?;
        self.refuse_while_throttled(throttle.as_ref())?;
        Ok((challenge, account))
    }

    /// Finishes a login with a TOTP code or a recovery code.
    ///
    /// A wrong code counts against the second step (it dies after
    /// [`MFA_CHALLENGE_MAX_ATTEMPTS`]) and against the account's login throttle, and is
    /// audited as `mfa.failed`.
    ///
    /// # Errors
    /// `InvalidMfaToken`, `InvalidMfaCode`, `TooManyAttempts`, `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn login_second_factor(
        &self,
        mfa_token: &str,
        code: &str,
        client: &ClientInfo,
    ) -> Result<LoginSuccess, AppError> {
        let (challenge, account) = self.second_step(mfa_token).await?;
        self.reserve_attempt(&challenge).await?;
        let audit_recovery =
            AuditEvent::new(AuditAction::MfaRecoveryCodeUsed, self.ports.clock.now())
                .actor(roster_domain::PrincipalId::Account(account.id))
                .target("account", account.id)
                .from_ip(client.source_ip)
                .detail("at sign-in");
        if let Some(method) = self.check_code(&account, code, audit_recovery).await? {
            return self
                .finish_second_step(&challenge, account, method, client)
                .await;
        }
        self.count_second_factor_failure(&account, client.source_ip, "wrong code at sign-in")
            .await?;
        Err(AppError::InvalidMfaCode)
    }

    /// Ends the second step with a session opened by the password and `method`.
    pub(super) async fn finish_second_step(
        &self,
        challenge: &MfaChallenge,
        account: Account,
        method: AuthMethod,
        client: &ClientInfo,
    ) -> Result<LoginSuccess, AppError> {
        let methods = AuthMethods::of(AuthMethod::Password).with(method);
        let (issued, audit) = self.new_session(&account, client, methods);
        let now = self.ports.clock.now();
        if !self
            .ports
            .mfa
            .finish_mfa_challenge(challenge.id, now, &issued.session, &audit)
            .await?
        {
            return Err(AppError::InvalidMfaToken);
        }
        self.ports
            .login_throttle
            .clear(account.email.canonical())
            .await?;
        tracing::info!(account_id = %account.id, session_id = %issued.session.id, method = method.as_str(), "login succeeded with a second factor");
        Ok(LoginSuccess {
            token: issued.token,
            session_id: issued.session.id,
            expires_at: issued.session.expires_at,
            account,
        })
    }

    /// Counts an attempt against the second step before its code or passkey is checked;
    /// `InvalidMfaToken` when it has none left (or expired meanwhile).
    pub(super) async fn reserve_attempt(&self, challenge: &MfaChallenge) -> Result<(), AppError> {
        let now = self.ports.clock.now();
        if self
            .ports
            .mfa
            .reserve_mfa_attempt(challenge.id, now, MFA_CHALLENGE_MAX_ATTEMPTS)
            .await?
        {
            Ok(())
        } else {
            Err(AppError::InvalidMfaToken)
        }
    }

    /// A wrong second factor: counted by the account's login throttle (so guessing codes
    /// locks like guessing passwords) and audited as `mfa.failed`.
    pub(super) async fn count_second_factor_failure(
        &self,
        account: &Account,
        source_ip: Option<IpAddr>,
        what: &str,
    ) -> Result<(), AppError> {
        let now = self.ports.clock.now();
        let canonical = account.email.canonical();
        let audit = AuditEvent::new(AuditAction::MfaFailed, now)
            .actor(roster_domain::PrincipalId::Account(account.id))
            .target("account", account.id)
            .from_ip(source_ip)
            .detail(what);
        let state = self
            .ports
            .login_throttle
            .record_failure(canonical, now, &self.login_throttle, &audit)
            .await?;
        tracing::info!(
            account_id = %account.id,
            outcome = "invalid_mfa_code",
            failures = state.failures,
            throttled = state.locked_until.is_some(),
            "second factor refused"
        );
        Ok(())
    }

    /// Forgets second steps that expired (bounded work per call; the periodic cleanup calls
    /// it). Returns how many went.
    ///
    /// # Errors
    /// `Unavailable`.
    pub async fn forget_expired_second_steps(&self) -> Result<usize, AppError> {
        let now = self.ports.clock.now();
        let steps = self
            .ports
            .mfa
            .forget_expired_challenges(now, HOUSEKEEPING_BATCH)
            .await?;
        let ceremonies = self
            .ports
            .passkeys
            .forget_expired_ceremonies(now, HOUSEKEEPING_BATCH)
            .await?;
        Ok(steps + ceremonies)
    }
}
