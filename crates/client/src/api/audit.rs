//! The audit trail: who changed what, newest first, filtered by actor and action (needs
//! `audit-read` on `*`).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::client::Client;
use crate::error::Error;
use crate::types::{Page, PageRequest};

/// One audit event: never a password, token, key or hash.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuditEvent {
    /// Its id.
    pub id: Uuid,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// `account:<uuid>` or `api_key:<uuid>`; `None` for anonymous requests and the system.
    pub actor: Option<String>,
    /// What happened.
    pub action: AuditAction,
    /// What it happened to: `account:<uuid>`, `role:<name>`, `grant:<uuid>`,
    /// `email:<address>`, ...
    pub target: Option<String>,
    /// The client's address, when a request caused it.
    pub source_ip: Option<String>,
    /// Names only: a role's rules, a grant's `role@scope`, a key's name.
    pub detail: Option<String>,
}

/// `GET /v1/admin/audit-events`: a page of events, newest first, optionally only one
/// actor's or one action's.
///
/// ```
/// use roster_client::{AuditAction, AuditQuery, PageRequest};
///
/// let failed_logins = AuditQuery::default()
///     .action(AuditAction::LoginFailed)
///     .page(PageRequest::default().limit(100));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditQuery {
    /// Which page.
    #[serde(flatten)]
    pub page: PageRequest,
    /// Only events by this actor (an exact label such as `account:<uuid>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Only events of this action (an unknown one is 400 `invalid_query`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<AuditAction>,
}

impl AuditQuery {
    /// Only events by this actor.
    #[must_use]
    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(actor.into());
        self
    }

    /// Only events of this action.
    #[must_use]
    pub fn action(mut self, action: AuditAction) -> Self {
        self.action = Some(action);
        self
    }

    /// This page of the list.
    #[must_use]
    pub fn page(mut self, page: PageRequest) -> Self {
        self.page = page;
        self
    }
}

macro_rules! audit_actions {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// What an audit event records: every action Roster documents, and
        /// [`AuditAction::Other`] for one this client does not know yet (a newer server
        /// records new kinds of events; reading them must not fail).
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum AuditAction {
            $($(#[$doc])* $variant,)*
            /// An action this version of the client does not know.
            Other(String),
        }

        impl AuditAction {
            /// The action as Roster writes it, e.g. `login.failed`.
            pub fn as_str(&self) -> &str {
                match self {
                    $(AuditAction::$variant => $name,)*
                    AuditAction::Other(name) => name,
                }
            }
        }

        impl From<&str> for AuditAction {
            fn from(name: &str) -> AuditAction {
                match name {
                    $($name => AuditAction::$variant,)*
                    other => AuditAction::Other(other.to_owned()),
                }
            }
        }
    };
}

audit_actions! {
    /// Someone registered themselves.
    AccountRegistered = "account.registered",
    /// An administrator created an account.
    AccountCreated = "account.created",
    /// The bootstrap created a super admin.
    AccountSuperadminCreated = "account.superadmin_created",
    /// A login succeeded.
    LoginSucceeded = "login.succeeded",
    /// A login failed.
    LoginFailed = "login.failed",
    /// A session logged out.
    SessionLogout = "session.logout",
    /// A session was revoked by its account.
    SessionRevoked = "session.revoked",
    /// An account changed its own password.
    PasswordChanged = "password.changed",
    /// An administrator set an account's password.
    PasswordReset = "password.reset",
    /// An account was disabled.
    AccountDisabled = "account.disabled",
    /// An account was enabled.
    AccountEnabled = "account.enabled",
    /// A role was created.
    RoleCreated = "role.created",
    /// A role's description or rules were replaced.
    RoleUpdated = "role.updated",
    /// A role was deleted.
    RoleDeleted = "role.deleted",
    /// A grant was given.
    GrantCreated = "grant.created",
    /// A grant was taken away.
    GrantDeleted = "grant.deleted",
    /// An API key was created.
    ApiKeyCreated = "api_key.created",
    /// An API key was revoked.
    ApiKeyRevoked = "api_key.revoked",
    /// A node applied a new features file.
    FeaturesReloaded = "features.reloaded",
    /// A node refused a features file.
    FeaturesRejected = "features.rejected",
    /// A flag was switched from the console.
    FeatureChanged = "feature.changed",
    /// A password was set through an emailed reset link.
    PasswordResetByEmail = "password.reset_by_email",
    /// An address was verified through its emailed link.
    AccountEmailVerified = "account.email_verified",
    /// An email could not be delivered and was given up.
    MailGaveUp = "mail.gave_up",
    /// An invitation was created.
    InvitationCreated = "invitation.created",
    /// An invitation was sent again with a new link.
    InvitationResent = "invitation.resent",
    /// An invitation was revoked.
    InvitationRevoked = "invitation.revoked",
    /// An invitation was accepted.
    InvitationAccepted = "invitation.accepted",
    /// An authenticator app was set up.
    MfaTotpEnrolled = "mfa.totp_enrolled",
    /// An authenticator app was removed.
    MfaTotpRemoved = "mfa.totp_removed",
    /// New recovery codes were made.
    MfaRecoveryCodesRenewed = "mfa.recovery_codes_renewed",
    /// A recovery code was used.
    MfaRecoveryCodeUsed = "mfa.recovery_code_used",
    /// A second-factor code was wrong.
    MfaFailed = "mfa.failed",
    /// A session stepped up.
    MfaStepUp = "mfa.step_up",
    /// A passkey was registered.
    PasskeyAdded = "passkey.added",
    /// A passkey was removed.
    PasskeyRemoved = "passkey.removed",
    /// An operator removed an account's second factors.
    MfaReset = "mfa.reset",
    /// Old audit events were deleted (retention).
    AuditPruned = "audit.pruned",
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AuditAction {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AuditAction {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(AuditAction::from(name.as_str()))
    }
}

impl Client {
    /// `GET /v1/admin/audit-events`: a page of events, newest first.
    pub async fn audit_events(&self, query: &AuditQuery) -> Result<Page<AuditEvent>, Error> {
        self.get_query("/v1/admin/audit-events", query).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_actions_read_back_to_their_variant_and_unknown_ones_are_kept() {
        for name in ["login.failed", "password.reset_by_email", "mfa.reset"] {
            let action = AuditAction::from(name);
            assert!(!matches!(action, AuditAction::Other(_)), "{name}");
            assert_eq!(action.as_str(), name);
        }
        let event: AuditEvent = serde_json::from_str(
            r#"{"id": "0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c07", "at": "2026-11-28T10:00:00Z",
                "actor": null, "action": "brand.new", "target": null, "source_ip": null,
                "detail": null}"#,
        )
        .unwrap();
        assert_eq!(event.action, AuditAction::Other("brand.new".to_owned()));
    }

    #[test]
    fn the_filters_are_encoded_as_values() {
        let client = Client::builder("http://roster").build().unwrap();
        let query = AuditQuery::default()
            .actor("account:0190b3e4 &action=role.deleted")
            .action(AuditAction::PasswordResetByEmail)
            .page(PageRequest::default().after("0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c07"));
        assert_eq!(
            client
                .url_with_query("/v1/admin/audit-events", &query)
                .unwrap(),
            "http://roster/v1/admin/audit-events\
             ?cursor=0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c07\
             &actor=account%3A0190b3e4+%26action%3Drole.deleted\
             &action=password.reset_by_email"
        );
    }
}
