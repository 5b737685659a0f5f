//! The guards the use cases call before they act: the built-in action a caller needs, and
//! the privilege principle of [`roster_domain::delegation`] (no administrative permission
//! short of super admin yields more rights than its holder has, or works against a principal
//! who holds more than the caller).

use std::sync::Arc;

use roster_domain::{
    Account, BuiltinAction, Grant, PrincipalId, Rights, Role, ScopePath, may_act_on,
    may_change_grant, may_manage_grants_on,
};

use super::{Authenticated, Roster};
use crate::error::AppError;

impl Authenticated {
    /// `Forbidden` unless the caller may perform the built-in `action` on `*`.
    pub(super) fn require_global(&self, action: BuiltinAction) -> Result<(), AppError> {
        if self.principal.allows(&action.action(), &ScopePath::root()) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// `Forbidden` unless the caller holds `grant-manage` throughout `scope` (a deny anywhere
    /// the scope may reach binds). Checked before the role is looked up, so a caller who may
    /// not grant there learns nothing about roles.
    pub(super) fn require_grant_manage(&self, scope: &ScopePath) -> Result<(), AppError> {
        if self.principal.is_superadmin || may_manage_grants_on(&self.principal.grants, scope) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// `Forbidden` unless the caller may give `role` on `scope` to a principal holding
    /// `holder`, or take it away (see [`may_change_grant`]).
    pub(super) fn require_grant_change(
        &self,
        holder: Rights<'_>,
        role: &Role,
        scope: &ScopePath,
    ) -> Result<(), AppError> {
        if may_change_grant(&self.principal, holder, role, scope) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// `Forbidden` unless the caller holds every right of the principal it acts on (a super
    /// admin's only if it is one; see [`may_act_on`]).
    pub(super) fn require_may_act_on(&self, target: Rights<'_>) -> Result<(), AppError> {
        if may_act_on(&self.principal, target) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// What an existing account or API key holds, for the guards above.
#[derive(Debug, Clone)]
pub(super) struct Held {
    is_superadmin: bool,
    grants: Arc<[Grant]>,
}

impl Held {
    pub(super) fn rights(&self) -> Rights<'_> {
        Rights {
            is_superadmin: self.is_superadmin,
            grants: &self.grants,
        }
    }
}

impl Roster {
    /// What `holder` holds now; `NotFound` (account or API key) when it does not exist.
    pub(super) async fn held_by(&self, holder: PrincipalId) -> Result<Held, AppError> {
        match holder {
            PrincipalId::Account(id) => {
                let account = self.existing_account(id).await?;
                self.held_by_account(&account).await
            }
            PrincipalId::ApiKey(id) => {
                let stored = self
                    .ports
                    .api_keys
                    .find_api_key(id)
                    .await?
                    .ok_or(AppError::NotFound("api key"))?;
                Ok(Held {
                    is_superadmin: false,
                    grants: stored.grants,
                })
            }
        }
    }

    /// `Forbidden` unless the caller may act on `target` (holding `held`) and on every live
    /// key it created, transitively: disabling an account or revoking a key revokes those
    /// keys with it, and a key can hold more than its creator (grants given to it later, or
    /// taken from its creator since).
    pub(super) async fn require_may_act_on_with_keys(
        &self,
        caller: &Authenticated,
        target: PrincipalId,
        held: &Held,
    ) -> Result<(), AppError> {
        caller.require_may_act_on(held.rights())?;
        let now = self.ports.clock.now();
        for id in self.ports.api_keys.live_keys_created_by(target).await? {
            let Some(key) = self.ports.api_keys.find_api_key(id).await? else {
                continue;
            };
            if key.key.is_usable(now) {
                caller.require_may_act_on(Rights {
                    is_superadmin: false,
                    grants: &key.grants,
                })?;
            }
        }
        Ok(())
    }

    /// What `account` holds now.
    pub(super) async fn held_by_account(&self, account: &Account) -> Result<Held, AppError> {
        Ok(Held {
            is_superadmin: account.is_superadmin,
            grants: self.ports.accounts.grants_of(account.id).await?.into(),
        })
    }
}
