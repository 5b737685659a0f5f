//! Account administration: list, read, disable/enable, reset a password.

use roster_domain::{Account, AccountId, AccountStatus, BuiltinAction, Email, PrincipalId};
use secrecy::SecretString;
use tracing::instrument;

use super::caller::Held;
use super::register::account_inputs;
use super::{Authenticated, Roster};
use crate::error::AppError;
use crate::model::{AccountPage, AuditAction, GrantRecord, StatusChange};

/// An account with the grants it holds.
#[derive(Debug, Clone)]
pub struct AccountDetails {
    pub account: Account,
    pub grants: Vec<GrantRecord>,
}

impl Roster {
    /// Lists accounts in creation order (`account-read`). `email` filters by the exact
    /// normalized address; an unparsable filter matches nothing.
    ///
    /// # Errors
    /// `Forbidden`, `Unavailable`.
    pub async fn list_accounts(
        &self,
        caller: &Authenticated,
        email: Option<&str>,
        after: Option<AccountId>,
        limit: u32,
    ) -> Result<AccountPage, AppError> {
        caller.require_global(BuiltinAction::AccountRead)?;
        let canonical = match email.map(Email::parse) {
            None => None,
            Some(Ok(email)) => Some(email.canonical().to_owned()),
            Some(Err(_)) => return Ok(AccountPage::default()),
        };
        Ok(self.ports.accounts.list(canonical, after, limit).await?)
    }

    /// One account with its grants (`account-read`).
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Unavailable`.
    pub async fn account_details(
        &self,
        caller: &Authenticated,
        id: AccountId,
    ) -> Result<AccountDetails, AppError> {
        caller.require_global(BuiltinAction::AccountRead)?;
        let account = self.existing_account(id).await?;
        let grants = self
            .ports
            .grants
            .list_grants(PrincipalId::Account(id))
            .await?;
        Ok(AccountDetails { account, grants })
    }

    /// Disables or enables an account (`account-disable`). Disabling revokes all its sessions
    /// at once; the last active super admin cannot be disabled. The caller must hold every
    /// right the account holds (when disabling, also every right of the keys it created,
    /// which go with it); a super admin is disabled or enabled only by a super admin.
    ///
    /// # Errors
    /// `Forbidden`, `MfaStepUpRequired` (disabling), `NotFound`, `LastSuperadmin`,
    /// `Unavailable`.
    #[instrument(skip_all, fields(account_id = %id, ?status), err(level = "debug"))]
    pub async fn set_account_status(
        &self,
        caller: &Authenticated,
        id: AccountId,
        status: AccountStatus,
    ) -> Result<Account, AppError> {
        caller.require_global(BuiltinAction::AccountDisable)?;
        let held = Held::of_account(&self.account_with_grants(id).await?);
        match status {
            // Disabling revokes the keys the account created, so they are weighed too.
            AccountStatus::Disabled => {
                self.require_may_act_on_with_keys(caller, PrincipalId::Account(id), &held)
                    .await?;
                self.require_step_up(caller)?;
            }
            AccountStatus::Active => caller.require_may_act_on(held.rights())?,
        }
        let now = self.ports.clock.now();
        let action = match status {
            AccountStatus::Active => AuditAction::AccountEnabled,
            AccountStatus::Disabled => AuditAction::AccountDisabled,
        };
        let audit = caller.audit(action, now).target("account", id);
        match self
            .ports
            .accounts
            .set_status(id, status, now, &audit)
            .await?
        {
            StatusChange::Changed(account) => {
                // Disabling revoked the keys the account created.
                self.forget_introspectors();
                tracing::info!(actor = %caller.principal_label(), "account status set");
                Ok(account)
            }
            StatusChange::NotFound => Err(AppError::NotFound("account")),
            StatusChange::LastSuperadmin => Err(AppError::LastSuperadmin),
        }
    }

    /// Sets a new password for another account (`account-password-reset`) and revokes all of
    /// its sessions. Whoever resets a password can sign in as the account, so the caller must
    /// hold every right the account holds; a super admin's only a super admin resets.
    ///
    /// # Errors
    /// `Forbidden`, `MfaStepUpRequired`, `NotFound`, `Validation` (`new_password`),
    /// `Overloaded`, `Unavailable`.
    #[instrument(skip_all, fields(account_id = %id), err(level = "debug"))]
    pub async fn reset_password(
        &self,
        caller: &Authenticated,
        id: AccountId,
        new_password: &SecretString,
    ) -> Result<(), AppError> {
        caller.require_global(BuiltinAction::AccountPasswordReset)?;
        let target = self.account_with_grants(id).await?;
        caller.require_may_act_on(Held::of_account(&target).rights())?;
        self.require_step_up(caller)?;
        let password = self
            .check_new_password(
                "new_password",
                new_password,
                &account_inputs(&target.account),
            )
            .await?;
        let hash = self.ports.hasher.hash(password).await?;
        let now = self.ports.clock.now();
        let audit = caller
            .audit(AuditAction::PasswordReset, now)
            .target("account", id);
        if !self
            .ports
            .accounts
            .set_password(id, &hash, None, now, &audit)
            .await?
        {
            return Err(AppError::NotFound("account"));
        }
        tracing::info!(actor = %caller.principal_label(), "password reset; all sessions revoked");
        Ok(())
    }

    /// The account with this id, or `NotFound`.
    pub(super) async fn existing_account(&self, id: AccountId) -> Result<Account, AppError> {
        self.ports
            .accounts
            .find_by_id(id)
            .await?
            .ok_or(AppError::NotFound("account"))
    }
}

#[cfg(test)]
mod tests;
