//! A signed-in account managing its second factors: TOTP enrolment and removal, recovery
//! codes, and what it has. Also the one check of a typed code (TOTP or recovery code) that
//! the login's second step and the step-up share.

use roster_domain::{Account, AccountId, Email};
use secrecy::SecretString;
use tracing::instrument;

use super::{Authenticated, Roster};
use crate::error::AppError;
use crate::model::{
    AuditAction, AuditEvent, AuthMethod, Conflict, Passkey, StoreError, TokenDigest,
};

/// How many recovery codes a set holds.
pub const RECOVERY_CODES: usize = 10;

/// A new set of recovery codes, in clear for the one response that shows them.
#[derive(Debug)]
pub struct RecoveryCodes(pub Vec<SecretString>);

/// A new TOTP secret for the person enrolling: shown once, until confirmed with a code.
#[derive(Debug)]
pub struct TotpSecret {
    /// Base32, for typing into an authenticator app.
    pub secret: SecretString,
    /// `otpauth://totp/...`, for a QR code.
    pub otpauth_uri: SecretString,
}

/// What second factors an account has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaStatus {
    /// A confirmed TOTP.
    pub totp: bool,
    pub recovery_codes_left: u32,
    /// Oldest first.
    pub passkeys: Vec<Passkey>,
}

impl Roster {
    /// Starts TOTP enrolment: a new secret, pending until [`Roster::confirm_totp`] sees a
    /// code of it. Starting again replaces a pending secret. Like every change to the
    /// factors it needs a recent sign-in, or a recent second factor when the account has one
    /// (see `require_recent_authentication`).
    ///
    /// # Errors
    /// `MfaAlreadyEnrolled` when a confirmed TOTP exists; `MfaStepUpRequired`,
    /// `RecentSignInRequired`; `Unauthenticated` for an API key; `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn begin_totp(&self, caller: &Authenticated) -> Result<TotpSecret, AppError> {
        let account = caller.require_session()?.0;
        // The state first: an enrolled app is 409 whatever the session.
        if self
            .ports
            .mfa
            .totp(account.id)
            .await?
            .is_some_and(|totp| totp.confirmed)
        {
            return Err(AppError::MfaAlreadyEnrolled);
        }
        self.require_recent_authentication(caller)?;
        let enrolment = self.ports.totp.new_secret(account);
        let now = self.ports.clock.now();
        self.ports
            .mfa
            .begin_totp(account.id, &enrolment.sealed, now)
            .await
            .map_err(|error| match error {
                StoreError::Duplicate(Conflict::TotpEnrolled) => AppError::MfaAlreadyEnrolled,
                other => other.into(),
            })?;
        tracing::info!(account_id = %account.id, "totp enrolment started");
        Ok(TotpSecret {
            secret: enrolment.secret,
            otpauth_uri: enrolment.otpauth_uri,
        })
    }

    /// Confirms the pending TOTP with a first code, and hands out a new set of recovery
    /// codes (replacing any older set). The code's time step counts as used.
    ///
    /// # Errors
    /// `InvalidMfaCode`; `NotFound("totp enrolment")` when none is pending;
    /// `MfaAlreadyEnrolled`; `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn confirm_totp(
        &self,
        caller: &Authenticated,
        code: &str,
    ) -> Result<RecoveryCodes, AppError> {
        let account = caller.require_session()?.0;
        self.require_recent_authentication(caller)?;
        let record = self
            .ports
            .mfa
            .totp(account.id)
            .await?
            .ok_or(AppError::NotFound("totp enrolment"))?;
        if record.confirmed {
            return Err(AppError::MfaAlreadyEnrolled);
        }
        let now = self.ports.clock.now();
        let Some(step) = self
            .ports
            .totp
            .matching_step(account, &record.sealed, code, now)?
        else {
            return Err(AppError::InvalidMfaCode);
        };
        let (codes, digests) = self.new_recovery_codes();
        let audit = caller
            .audit(AuditAction::MfaTotpEnrolled, now)
            .target("account", account.id);
        if !self
            .ports
            .mfa
            .confirm_totp(account.id, &record.sealed, step, &digests, now, &audit)
            .await?
        {
            return Err(AppError::NotFound("totp enrolment"));
        }
        tracing::info!(account_id = %account.id, "totp enrolled");
        Ok(codes)
    }

    /// Removes the caller's TOTP (confirmed or pending) after checking its password.
    ///
    /// # Errors
    /// `InvalidCredentials` for a wrong password (counted like a failed login);
    /// `TooManyAttempts`; `NotFound("totp")`; `Overloaded`; `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn remove_totp(
        &self,
        caller: &Authenticated,
        password: &SecretString,
    ) -> Result<(), AppError> {
        let account = caller.require_session()?.0;
        self.require_recent_authentication(caller)?;
        if !self.own_password_matches(caller, account, password).await? {
            return Err(AppError::InvalidCredentials);
        }
        let audit = caller
            .audit(AuditAction::MfaTotpRemoved, self.ports.clock.now())
            .target("account", account.id);
        if !self.ports.mfa.remove_totp(account.id, &audit).await? {
            return Err(AppError::NotFound("totp"));
        }
        tracing::info!(account_id = %account.id, "totp removed");
        Ok(())
    }

    /// A new set of recovery codes after checking the password; the old set stops working.
    ///
    /// # Errors
    /// `InvalidCredentials` for a wrong password; `TooManyAttempts`; `MfaNotEnrolled` when
    /// the account has no second factor to recover; `Overloaded`; `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn renew_recovery_codes(
        &self,
        caller: &Authenticated,
        password: &SecretString,
    ) -> Result<RecoveryCodes, AppError> {
        let account = caller.require_session()?.0;
        if !account.has_second_factor {
            return Err(AppError::MfaNotEnrolled);
        }
        self.require_recent_authentication(caller)?;
        if !self.own_password_matches(caller, account, password).await? {
            return Err(AppError::InvalidCredentials);
        }
        if !account.has_second_factor {
            return Err(AppError::MfaNotEnrolled);
        }
        let (codes, digests) = self.new_recovery_codes();
        let now = self.ports.clock.now();
        let audit = caller
            .audit(AuditAction::MfaRecoveryCodesRenewed, now)
            .target("account", account.id);
        self.ports
            .mfa
            .replace_recovery_codes(account.id, &digests, now, &audit)
            .await?;
        tracing::info!(account_id = %account.id, "recovery codes renewed");
        Ok(codes)
    }

    /// The caller's second factors.
    ///
    /// # Errors
    /// `Unauthenticated` for an API key; `Unavailable`.
    pub async fn mfa_status(&self, caller: &Authenticated) -> Result<MfaStatus, AppError> {
        self.factors_of(caller.require_session()?.0.id).await
    }

    /// The second factors an account has (its status page, and the methods a login's
    /// second step offers).
    pub(super) async fn factors_of(&self, account_id: AccountId) -> Result<MfaStatus, AppError> {
        let totp = self.ports.mfa.totp(account_id).await?;
        let recovery_codes_left = self.ports.mfa.recovery_codes_left(account_id).await?;
        let passkeys = self.ports.passkeys.list_passkeys(account_id).await?;
        Ok(MfaStatus {
            totp: totp.is_some_and(|totp| totp.confirmed),
            recovery_codes_left,
            passkeys: passkeys.into_iter().map(|stored| stored.passkey).collect(),
        })
    }

    /// The operator's recovery of an account that lost every second factor (`roster mfa
    /// reset`): removes them all and ends the account's sessions, audited as `mfa.reset`
    /// with the operator's `reason`. Run from the command line only: no request reaches it.
    ///
    /// # Errors
    /// `NotFound("account")`, `Validation` (`reason` empty), `Unavailable`.
    pub async fn reset_second_factors(
        &self,
        email: &str,
        reason: &str,
    ) -> Result<Account, AppError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::Validation(vec![crate::error::FieldError::new(
                "reason",
                "required",
                "Say why (a ticket, who confirmed the person's identity); it goes into the audit trail.",
            )]));
        }
        let email = Email::parse(email).map_err(|_| AppError::NotFound("account"))?;
        let account = self
            .ports
            .accounts
            .find_by_email(email.canonical())
            .await?
            .ok_or(AppError::NotFound("account"))?
            .account;
        let audit = AuditEvent::new(AuditAction::MfaReset, self.ports.clock.now())
            .target("account", account.id)
            .detail(format!("by an operator: {reason}"));
        self.ports
            .mfa
            .remove_all_factors(account.id, &audit)
            .await?;
        tracing::warn!(account_id = %account.id, "every second factor removed by an operator");
        Ok(account)
    }

    /// Checks a typed second-factor code for `account`: six digits are a TOTP code (of the
    /// current step or one either side, newer than the last one accepted), anything else a
    /// recovery code (used up by this check, with `audit_recovery`). `None` when it is
    /// neither; nothing is recorded then, the caller counts the failure.
    pub(super) async fn check_code(
        &self,
        account: &Account,
        code: &str,
        audit_recovery: AuditEvent,
    ) -> Result<Option<AuthMethod>, AppError> {
        let typed: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if typed.len() == 6 && typed.bytes().all(|b| b.is_ascii_digit()) {
            let Some(record) = self.ports.mfa.totp(account.id).await? else {
                return Ok(None);
            };
            if !record.confirmed {
                return Ok(None);
            }
            let now = self.ports.clock.now();
            let Some(step) = self
                .ports
                .totp
                .matching_step(account, &record.sealed, &typed, now)?
            else {
                return Ok(None);
            };
            if record.last_used_step.is_some_and(|last| step <= last) {
                return Ok(None);
            }
            // The store re-checks under its lock: two requests with the same code cannot both
            // pass.
            let fresh = self.ports.mfa.use_totp_step(account.id, step).await?;
            return Ok(fresh.then_some(AuthMethod::Otp));
        }
        let Some(digest) = self.ports.tokens.recovery_code_digest(code) else {
            return Ok(None);
        };
        let used = self
            .ports
            .mfa
            .use_recovery_code(account.id, &digest, audit_recovery.at, &audit_recovery)
            .await?;
        if used {
            tracing::info!(account_id = %account.id, "recovery code used");
        }
        Ok(used.then_some(AuthMethod::Recovery))
    }

    fn new_recovery_codes(&self) -> (RecoveryCodes, Vec<TokenDigest>) {
        let issued: Vec<_> = (0..RECOVERY_CODES)
            .map(|_| self.ports.tokens.new_recovery_code())
            .collect();
        let digests = issued.iter().map(|code| code.digest.clone()).collect();
        let codes = issued.into_iter().map(|code| code.token).collect();
        (RecoveryCodes(codes), digests)
    }
}
