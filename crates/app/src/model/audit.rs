//! Audit events: who did what to which target, when and from where. Each is written in the
//! same database transaction as the change it records, so a change without its event (or an
//! event without its change) cannot exist. Events never carry a secret. Read back newest first,
//! by [`AuditQuery`].

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use roster_domain::PrincipalId;
use uuid::Uuid;

/// What happened. The string forms (`account.registered`, ...) are stable: clients filter
/// on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    AccountRegistered,
    AccountCreated,
    SuperadminCreated,
    LoginSucceeded,
    LoginFailed,
    Logout,
    SessionRevoked,
    PasswordChanged,
    PasswordReset,
    AccountDisabled,
    AccountEnabled,
    RoleCreated,
    RoleUpdated,
    RoleDeleted,
    GrantCreated,
    GrantDeleted,
    ApiKeyCreated,
    ApiKeyRevoked,
    FeaturesReloaded,
    FeaturesRejected,
    FeatureChanged,
    PasswordResetByEmail,
    EmailVerified,
    MailGaveUp,
    InvitationCreated,
    InvitationResent,
    InvitationRevoked,
    InvitationAccepted,
    MfaTotpEnrolled,
    MfaTotpRemoved,
    MfaRecoveryCodesRenewed,
    MfaRecoveryCodeUsed,
    MfaFailed,
    MfaStepUp,
    PasskeyAdded,
    PasskeyRemoved,
    MfaReset,
    AuditPruned,
}

impl AuditAction {
    /// Every action, for validating filters.
    pub const ALL: [AuditAction; 38] = [
        AuditAction::AccountRegistered,
        AuditAction::AccountCreated,
        AuditAction::SuperadminCreated,
        AuditAction::LoginSucceeded,
        AuditAction::LoginFailed,
        AuditAction::Logout,
        AuditAction::SessionRevoked,
        AuditAction::PasswordChanged,
        AuditAction::PasswordReset,
        AuditAction::AccountDisabled,
        AuditAction::AccountEnabled,
        AuditAction::RoleCreated,
        AuditAction::RoleUpdated,
        AuditAction::RoleDeleted,
        AuditAction::GrantCreated,
        AuditAction::GrantDeleted,
        AuditAction::ApiKeyCreated,
        AuditAction::ApiKeyRevoked,
        AuditAction::FeaturesReloaded,
        AuditAction::FeaturesRejected,
        AuditAction::FeatureChanged,
        AuditAction::PasswordResetByEmail,
        AuditAction::EmailVerified,
        AuditAction::MailGaveUp,
        AuditAction::InvitationCreated,
        AuditAction::InvitationResent,
        AuditAction::InvitationRevoked,
        AuditAction::InvitationAccepted,
        AuditAction::MfaTotpEnrolled,
        AuditAction::MfaTotpRemoved,
        AuditAction::MfaRecoveryCodesRenewed,
        AuditAction::MfaRecoveryCodeUsed,
        AuditAction::MfaFailed,
        AuditAction::MfaStepUp,
        AuditAction::PasskeyAdded,
        AuditAction::PasskeyRemoved,
        AuditAction::MfaReset,
        AuditAction::AuditPruned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::AccountRegistered => "account.registered",
            AuditAction::AccountCreated => "account.created",
            AuditAction::SuperadminCreated => "account.superadmin_created",
            AuditAction::LoginSucceeded => "login.succeeded",
            AuditAction::LoginFailed => "login.failed",
            AuditAction::Logout => "session.logout",
            AuditAction::SessionRevoked => "session.revoked",
            AuditAction::PasswordChanged => "password.changed",
            AuditAction::PasswordReset => "password.reset",
            AuditAction::AccountDisabled => "account.disabled",
            AuditAction::AccountEnabled => "account.enabled",
            AuditAction::RoleCreated => "role.created",
            AuditAction::RoleUpdated => "role.updated",
            AuditAction::RoleDeleted => "role.deleted",
            AuditAction::GrantCreated => "grant.created",
            AuditAction::GrantDeleted => "grant.deleted",
            AuditAction::ApiKeyCreated => "api_key.created",
            AuditAction::ApiKeyRevoked => "api_key.revoked",
            AuditAction::FeaturesReloaded => "features.reloaded",
            AuditAction::FeaturesRejected => "features.rejected",
            AuditAction::FeatureChanged => "feature.changed",
            AuditAction::PasswordResetByEmail => "password.reset_by_email",
            AuditAction::EmailVerified => "account.email_verified",
            AuditAction::MailGaveUp => "mail.gave_up",
            AuditAction::InvitationCreated => "invitation.created",
            AuditAction::InvitationResent => "invitation.resent",
            AuditAction::InvitationRevoked => "invitation.revoked",
            AuditAction::InvitationAccepted => "invitation.accepted",
            AuditAction::MfaTotpEnrolled => "mfa.totp_enrolled",
            AuditAction::MfaTotpRemoved => "mfa.totp_removed",
            AuditAction::MfaRecoveryCodesRenewed => "mfa.recovery_codes_renewed",
            AuditAction::MfaRecoveryCodeUsed => "mfa.recovery_code_used",
            AuditAction::MfaFailed => "mfa.failed",
            AuditAction::MfaStepUp => "mfa.step_up",
            AuditAction::PasskeyAdded => "passkey.added",
            AuditAction::PasskeyRemoved => "passkey.removed",
            AuditAction::MfaReset => "mfa.reset",
            AuditAction::AuditPruned => "audit.pruned",
        }
    }

    pub fn parse(text: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One audit record. `actor` and `target` are `kind:id` labels (`account:<uuid>`,
/// `api_key:<uuid>`, `role:<name>`, `grant:<uuid>`, `email:<canonical>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// Who acted; `None` for anonymous requests (self-registration, login) and the system.
    pub actor: Option<String>,
    pub action: AuditAction,
    pub target: Option<String>,
    /// The client's address (the TCP peer), when the event came from a request.
    pub source_ip: Option<IpAddr>,
    /// A short, secret-free description (a role's rules, a grant's role and scope, ...).
    pub detail: Option<String>,
}

impl AuditEvent {
    pub fn new(action: AuditAction, at: DateTime<Utc>) -> AuditEvent {
        AuditEvent {
            id: Uuid::now_v7(),
            at,
            actor: None,
            action,
            target: None,
            source_ip: None,
            detail: None,
        }
    }

    #[must_use]
    pub fn actor(mut self, actor: impl fmt::Display) -> Self {
        self.actor = Some(actor.to_string());
        self
    }

    #[must_use]
    pub fn target(mut self, kind: &str, id: impl fmt::Display) -> Self {
        self.target = Some(format!("{kind}:{id}"));
        self
    }

    #[must_use]
    pub fn from_ip(mut self, ip: Option<IpAddr>) -> Self {
        self.source_ip = ip;
        self
    }

    /// Adds to the detail how many API keys the change revoked along with it (the keys an
    /// account or a key created, transitively). The store calls this inside the transaction
    /// that revokes them, where the number is known.
    ///
    /// ```
    /// use chrono::Utc;
    /// use roster_app::model::{AuditAction, AuditEvent};
    ///
    /// let event = AuditEvent::new(AuditAction::AccountDisabled, Utc::now()).revoked_api_keys(2);
    /// assert_eq!(event.detail.as_deref(), Some("revoked 2 API keys it created (directly or through its keys)"));
    /// ```
    #[must_use]
    pub fn revoked_api_keys(mut self, count: usize) -> Self {
        let keys = if count == 1 { "key" } else { "keys" };
        let note = format!("revoked {count} API {keys} it created (directly or through its keys)");
        self.detail = Some(match self.detail.take() {
            Some(detail) => format!("{detail}; {note}"),
            None => note,
        });
        self
    }

    #[must_use]
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        // Details may quote operator input (a features file's error); PostgreSQL text cannot
        // hold NUL, so it is replaced rather than failing the write.
        self.detail = Some(detail.into().replace('\0', "\u{fffd}"));
        self
    }
}
/// What the detail of a `grant.created` or `grant.deleted` event says: the grant's role and
/// scope and its holder, written by the grants use cases as `role@scope to holder` (created)
/// and `role@scope from holder` (deleted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantChange<'a> {
    pub role: &'a str,
    pub scope: &'a str,
    /// The account or API key that was given (or lost) the grant.
    pub holder: PrincipalId,
}

impl AuditEvent {
    /// The grant a `grant.created` / `grant.deleted` event is about, read back from its
    /// detail; `None` for other events and for a detail of another shape (an event written
    /// by an older version).
    ///
    /// ```
    /// use chrono::Utc;
    /// use roster_app::model::{AuditAction, AuditEvent};
    ///
    /// let event = AuditEvent::new(AuditAction::GrantCreated, Utc::now())
    ///     .detail("viewer@acme.berlin to account:0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c07");
    /// let change = event.grant_change().unwrap();
    /// assert_eq!((change.role, change.scope), ("viewer", "acme.berlin"));
    /// assert_eq!(change.holder.to_string(), "account:0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c07");
    /// ```
    pub fn grant_change(&self) -> Option<GrantChange<'_>> {
        let joint = match self.action {
            AuditAction::GrantCreated => " to ",
            AuditAction::GrantDeleted => " from ",
            _ => return None,
        };
        let (grant, holder) = self.detail.as_deref()?.split_once(joint)?;
        // Role names and scopes hold no `@`.
        let (role, scope) = grant.split_once('@')?;
        Some(GrantChange {
            role,
            scope,
            holder: PrincipalId::parse(holder)?,
        })
    }

    /// The accounts and API keys the event names: its actor, its target and, for a grant
    /// change, the grant's holder (each once, in that order).
    pub fn principals(&self) -> Vec<PrincipalId> {
        let mut named = Vec::with_capacity(3);
        let labelled = [self.actor.as_deref(), self.target.as_deref()]
            .into_iter()
            .flatten()
            .filter_map(PrincipalId::parse);
        let holder = self.grant_change().map(|change| change.holder);
        for id in labelled.chain(holder) {
            if !named.contains(&id) {
                named.push(id);
            }
        }
        named
    }
}

/// Which events to list: newest first, before the cursor, optionally one actor or action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<AuditAction>,
    pub before: Option<Uuid>,
    pub limit: u32,
}

/// Which events an export streams: recorded at `since` or later and before `until`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditRange {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// One page of events, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// The id to continue before, when older events follow.
    pub next_before: Option<Uuid>,
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use roster_domain::{AccountId, ApiKeyId};

    use super::*;

    fn account(n: u128) -> PrincipalId {
        PrincipalId::Account(AccountId::new(Uuid::from_u128(n)))
    }

    fn key(n: u128) -> PrincipalId {
        PrincipalId::ApiKey(ApiKeyId::new(Uuid::from_u128(n)))
    }

    #[test]
    fn a_grant_change_is_read_back_from_what_the_grant_use_cases_write() {
        // The shapes `create_grant` and `delete_grant` write (see their tests).
        let created = AuditEvent::new(AuditAction::GrantCreated, Utc::now())
            .detail(format!("issuer-admin@acme.*.issuer to {}", key(2)));
        assert_eq!(
            created.grant_change(),
            Some(GrantChange {
                role: "issuer-admin",
                scope: "acme.*.issuer",
                holder: key(2),
            })
        );
        let deleted = AuditEvent::new(AuditAction::GrantDeleted, Utc::now())
            .detail(format!("viewer@* from {}", account(3)));
        assert_eq!(
            deleted.grant_change(),
            Some(GrantChange {
                role: "viewer",
                scope: "*",
                holder: account(3),
            })
        );
        // Another action, or a detail of another shape, says nothing about a grant.
        let role = AuditEvent::new(AuditAction::RoleCreated, Utc::now())
            .detail(format!("viewer@* to {}", account(3)));
        assert_eq!(role.grant_change(), None);
        for detail in [
            "viewer@acme".to_owned(),
            format!("viewer to {}", account(3)),
            "viewer@acme to someone".to_owned(),
            format!("viewer@acme from {}", account(3)),
        ] {
            let event = AuditEvent::new(AuditAction::GrantCreated, Utc::now()).detail(&detail);
            assert_eq!(event.grant_change(), None, "{detail}");
        }
    }

    #[test]
    fn the_principals_an_event_names_are_listed_once_each() {
        let event = AuditEvent::new(AuditAction::GrantCreated, Utc::now())
            .actor(account(1))
            .target("grant", Uuid::from_u128(9))
            .detail(format!("viewer@acme to {}", key(2)));
        assert_eq!(event.principals(), [account(1), key(2)]);
        let own = AuditEvent::new(AuditAction::PasswordChanged, Utc::now())
            .actor(account(1))
            .target("account", AccountId::new(Uuid::from_u128(1)));
        assert_eq!(own.principals(), [account(1)]);
        let anonymous = AuditEvent::new(AuditAction::LoginFailed, Utc::now())
            .target("email", "ada@example.com");
        assert!(anonymous.principals().is_empty());
    }
}
