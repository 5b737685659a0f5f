//! Who is calling, and the guards every use case calls before it acts.
//!
//! One module for the caller's identity ([`Authenticated`], built here from a session or an
//! API key), the audit actor it signs events with, and the guards: the built-in action a
//! caller needs, and the privilege principle of [`roster_domain::delegation`] (no
//! administrative permission short of super admin yields more rights than its holder has, or
//! works against a principal who holds more than the caller).

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use roster_domain::{
    Account, AccountId, BuiltinAction, Grant, Principal, PrincipalId, Rights, Role, ScopePath,
    may_act_on, may_change_grant, may_manage_grants_on,
};

use super::Roster;
use crate::error::AppError;
use crate::model::{
    AccountWithGrants, ApiKey, AuditAction, AuditEvent, AuthMethods, SessionId, SessionRecord,
};

/// Who is calling: the principal (with its grants, for permission checks), what it signed in
/// with, and from where.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub principal: Principal,
    pub kind: CallerKind,
    /// The client's address, for the audit trail.
    pub source_ip: Option<IpAddr>,
    /// The MFA policy covers the account and it has no second factor yet: this caller may
    /// only enrol one (and read `me`, and log out). Only
    /// [`Roster::authenticate_for_enrolment`] hands out such a caller.
    pub mfa_enrolment_required: bool,
}

/// What a caller signed in with: a session of an account, or an API key.
#[derive(Debug, Clone)]
pub enum CallerKind {
    Session {
        account: Account,
        session_id: SessionId,
        /// How the session was opened and stepped up since.
        auth_methods: AuthMethods,
        /// When a second factor was last presented on the session.
        second_factor_at: Option<DateTime<Utc>>,
        /// When the session was opened (its sign-in).
        signed_in_at: DateTime<Utc>,
    },
    ApiKey {
        key: ApiKey,
    },
}

impl Authenticated {
    /// An account calling through one of its sessions; its grants as loaded with the session.
    pub(super) fn by_session(session: SessionRecord, source_ip: Option<IpAddr>) -> Self {
        Self {
            principal: principal_of_account(&session.account, session.grants),
            kind: CallerKind::Session {
                account: session.account,
                session_id: session.id,
                auth_methods: session.auth_methods,
                second_factor_at: session.second_factor_at,
                signed_in_at: session.created_at,
            },
            source_ip,
            mfa_enrolment_required: false,
        }
    }

    /// An API key calling; it holds exactly its own grants, never its creator's rights.
    pub(super) fn by_api_key(key: ApiKey, grants: Arc<[Grant]>, source_ip: Option<IpAddr>) -> Self {
        Self {
            principal: principal_of_api_key(&key, grants),
            kind: CallerKind::ApiKey { key },
            source_ip,
            mfa_enrolment_required: false,
        }
    }

    /// The account behind a session; `None` for an API key.
    pub fn account(&self) -> Option<&Account> {
        match &self.kind {
            CallerKind::Session { account, .. } => Some(account),
            CallerKind::ApiKey { .. } => None,
        }
    }

    /// The API key calling; `None` for a session.
    pub fn api_key(&self) -> Option<&ApiKey> {
        match &self.kind {
            CallerKind::Session { .. } => None,
            CallerKind::ApiKey { key } => Some(key),
        }
    }

    /// A short label for logs: `account:<id>` or `api_key:<id>`. Never the token.
    pub fn principal_label(&self) -> String {
        self.principal.id.to_string()
    }

    /// An audit event of `action` at `at`, acted by this caller from its address.
    pub(super) fn audit(&self, action: AuditAction, at: DateTime<Utc>) -> AuditEvent {
        AuditEvent::new(action, at)
            .actor(self.principal.id)
            .from_ip(self.source_ip)
    }

    /// The account and session behind the call, or `Unauthenticated` for an API key.
    pub(super) fn require_session(&self) -> Result<(&Account, SessionId), AppError> {
        match &self.kind {
            CallerKind::Session {
                account,
                session_id,
                ..
            } => Ok((account, *session_id)),
            CallerKind::ApiKey { .. } => Err(AppError::Unauthenticated),
        }
    }

    /// Whether the caller may perform the built-in `action` on `*`.
    pub(super) fn may_global(&self, action: BuiltinAction) -> bool {
        self.principal.allows(&action.action(), &ScopePath::root())
    }

    /// Whether the caller is an API key usable at `now` (unrevoked, unexpired).
    pub(super) fn api_key_usable(&self, now: DateTime<Utc>) -> bool {
        matches!(&self.kind, CallerKind::ApiKey { key } if key.is_usable(now))
    }

    /// `Forbidden` unless the caller may perform the built-in `action` on `*`.
    pub(super) fn require_global(&self, action: BuiltinAction) -> Result<(), AppError> {
        if self.may_global(action) {
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

/// The principal of an account holding `grants`.
pub(super) fn principal_of_account(account: &Account, grants: Arc<[Grant]>) -> Principal {
    Principal {
        id: PrincipalId::Account(account.id),
        is_superadmin: account.is_superadmin,
        grants,
    }
}

/// The principal of an API key holding `grants` (never a super admin).
pub(super) fn principal_of_api_key(key: &ApiKey, grants: Arc<[Grant]>) -> Principal {
    Principal {
        id: PrincipalId::ApiKey(key.id),
        is_superadmin: false,
        grants,
    }
}

/// What an existing account or API key holds, for the guards above.
#[derive(Debug, Clone)]
pub(super) struct Held {
    is_superadmin: bool,
    grants: Arc<[Grant]>,
}

impl Held {
    /// What an account holds.
    pub(super) fn of_account(found: &AccountWithGrants) -> Self {
        Self {
            is_superadmin: found.account.is_superadmin,
            grants: Arc::clone(&found.grants),
        }
    }

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
            PrincipalId::Account(id) => Ok(Held::of_account(&self.account_with_grants(id).await?)),
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

    /// The account with this id and every grant it holds now, or `NotFound`: one lookup,
    /// through the same grant loading (and cache) as a session's.
    pub(super) async fn account_with_grants(
        &self,
        id: AccountId,
    ) -> Result<AccountWithGrants, AppError> {
        self.ports
            .accounts
            .find_with_grants(id)
            .await?
            .ok_or(AppError::NotFound("account"))
    }
}
