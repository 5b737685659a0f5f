//! The MFA policy applied to callers: who must enrol before doing anything else, which
//! actions need a recent second factor, and refreshing one on the current session.

use roster_domain::mfa::second_factor_is_fresh;
use tracing::instrument;

use super::{Authenticated, CallerKind, Roster};
use crate::error::AppError;
use crate::model::{AuditAction, AuthMethod};

impl Roster {
    /// Whether the policy covers this session's account and it has no second factor yet,
    /// so that the session may only enrol one. API keys are machine credentials: never.
    pub(super) fn must_enrol(&self, caller: &Authenticated) -> bool {
        let Some(account) = caller.account() else {
            return false;
        };
        !account.has_second_factor
            && !self.mfa.policy.is_off()
            && self
                .mfa
                .policy
                .covers(account.is_superadmin, &caller.principal.grants)
    }

    /// `MfaStepUpRequired` unless the caller's second factor is recent enough
    /// (`mfa.step_up_window`) for one of the most dangerous actions. Callers without a
    /// second factor, and API keys, pass: there is nothing to step up with (the policy
    /// decides who must have one).
    pub(super) fn require_step_up(&self, caller: &Authenticated) -> Result<(), AppError> {
        let CallerKind::Session {
            account,
            second_factor_at,
            ..
        } = &caller.kind
        else {
            return Ok(());
        };
        if !account.has_second_factor
            || second_factor_is_fresh(
                *second_factor_at,
                self.ports.clock.now(),
                self.mfa.step_up_window,
            )
        {
            Ok(())
        } else {
            Err(AppError::MfaStepUpRequired)
        }
    }

    /// How many active super admins have no second factor: the start-up log warns while
    /// any exist and the policy does not make them enrol.
    ///
    /// # Errors
    /// `Unavailable`.
    pub async fn superadmins_without_second_factor(&self) -> Result<i64, AppError> {
        Ok(self.ports.mfa.superadmins_without_second_factor().await?)
    }

    /// Proof of presence before the account's second factors change (adding, removing,
    /// new recovery codes), so that a stolen, stale session can neither plant a factor of
    /// its own (and step up with it) nor strip the owner's: an account with a second factor
    /// must have presented one within `mfa.step_up_window` (`MfaStepUpRequired`), one
    /// without must have signed in within it (`RecentSignInRequired`).
    pub(super) fn require_recent_authentication(
        &self,
        caller: &Authenticated,
    ) -> Result<(), AppError> {
        let CallerKind::Session {
            account,
            second_factor_at,
            signed_in_at,
            ..
        } = &caller.kind
        else {
            return Err(AppError::Unauthenticated);
        };
        let now = self.ports.clock.now();
        let window = self.mfa.step_up_window;
        if account.has_second_factor {
            if second_factor_is_fresh(*second_factor_at, now, window) {
                return Ok(());
            }
            return Err(AppError::MfaStepUpRequired);
        }
        if second_factor_is_fresh(Some(*signed_in_at), now, window) {
            Ok(())
        } else {
            Err(AppError::RecentSignInRequired)
        }
    }

    /// Refreshes the current session's second factor with a TOTP or recovery code. Wrong
    /// codes count toward the account's login throttle, as at sign-in.
    ///
    /// # Errors
    /// `MfaNotEnrolled`, `InvalidMfaCode`, `TooManyAttempts`, `Unauthenticated` (an API key,
    /// or the session ended meanwhile), `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn step_up(&self, caller: &Authenticated, code: &str) -> Result<(), AppError> {
        let (account, _) = caller.require_session()?;
        if !account.has_second_factor {
            return Err(AppError::MfaNotEnrolled);
        }
        let throttle = self
            .ports
            .login_throttle
            .state(account.email.canonical())
            .await?;
        self.refuse_while_throttled(throttle.as_ref())?;
        let now = self.ports.clock.now();
        let audit_recovery = caller
            .audit(AuditAction::MfaRecoveryCodeUsed, now)
            .target("account", account.id)
            .detail("at step-up");
        let Some(method) = self.check_code(account, code, audit_recovery).await? else {
            self.count_second_factor_failure(account, caller.source_ip, "wrong code at step-up")
                .await?;
            return Err(AppError::InvalidMfaCode);
        };
        if throttle.is_some() {
            self.ports
                .login_throttle
                .clear(account.email.canonical())
                .await?;
        }
        self.record_step_up(caller, method).await
    }

    /// Marks the caller's session as having presented `method` just now.
    pub(super) async fn record_step_up(
        &self,
        caller: &Authenticated,
        method: AuthMethod,
    ) -> Result<(), AppError> {
        let (account, session_id) = caller.require_session()?;
        let now = self.ports.clock.now();
        let audit = caller
            .audit(AuditAction::MfaStepUp, now)
            .target("session", session_id)
            .detail(format!("with {}", method.as_str()));
        if !self
            .ports
            .sessions
            .record_second_factor(session_id, method, now, &audit)
            .await?
        {
            return Err(AppError::Unauthenticated);
        }
        tracing::info!(account_id = %account.id, %session_id, method = method.as_str(), "step-up");
        Ok(())
    }
}
