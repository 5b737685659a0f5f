use async_trait::async_trait;
use chrono::{DateTime, Utc};
use roster_domain::Account;

use crate::model::{
    AuditEvent, Invitation, InvitationChange, InvitationId, InvitationPage, InvitationStatus,
    NewGrant, PasswordHash, SealedMail, StoreError, TokenDigest,
};

/// Port: invitations, each with the digest of its current link's token. Every write that
/// sends a link queues its message (the outbox) in the same transaction.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait InvitationStore: Send + Sync {
    /// Stores a new invitation (with `grants`, each checked against its role's current
    /// rules), its token's digest, its message and `audit`, in one transaction. An open
    /// invitation for the same canonical email that expired before `invitation.created_at`
    /// stops blocking the address.
    ///
    /// # Errors
    /// `Duplicate(Email)` when an account has the email; `Duplicate(InvitationPending)` when
    /// an unexpired pending invitation has it; `Missing(Role)`; `RoleChanged`; `Unavailable`.
    async fn insert_invitation(
        &self,
        invitation: &Invitation,
        digest: &TokenDigest,
        grants: &[NewGrant],
        mail: &SealedMail,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;

    /// The invitation with this id.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn find_invitation(&self, id: InvitationId) -> Result<Option<Invitation>, StoreError>;

    /// The invitation whose current link has this digest, if it is pending at `now`.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn find_pending_invitation(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
    ) -> Result<Option<Invitation>, StoreError>;

    /// Invitations newest first, before `before`, optionally only those with `status` at
    /// `now`.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn list_invitations(
        &self,
        status: Option<InvitationStatus>,
        now: DateTime<Utc>,
        before: Option<InvitationId>,
        limit: u32,
    ) -> Result<InvitationPage, StoreError>;

    /// Revokes a pending or expired invitation (its link stops working) and records `audit`.
    /// `Revoked` for one revoked already (nothing written), `Accepted`, `NotFound`.
    ///
    /// # Errors
    /// `Unavailable`.
    async fn revoke_invitation(
        &self,
        id: InvitationId,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<InvitationChange, StoreError>;

    /// Gives a pending or expired invitation a new link (the old one stops working) and a
    /// new `expires_at`, queues `mail` and records `audit`, in one transaction.
    ///
    /// # Errors
    /// `Duplicate(Email)` when an account has the email now; `Duplicate(InvitationPending)`
    /// when another invitation for the email is pending; `Unavailable`.
    async fn resend_invitation(
        &self,
        id: InvitationId,
        digest: &TokenDigest,
        expires_at: DateTime<Utc>,
        mail: &SealedMail,
        audit: &AuditEvent,
    ) -> Result<InvitationChange, StoreError>;

    /// Accepts the invitation whose link has `digest`, if it is still pending at
    /// `account.created_at` and is invitation `id` (checked again under the write lock, so two
    /// acceptances cannot both pass): creates the account with its hash and `grants`, marks
    /// the invitation accepted and records `audit`, in one transaction. `false` (nothing
    /// written) when the link no longer works.
    ///
    /// # Errors
    /// `Duplicate(Email)` when an account has the email; `Missing(Role)`; `RoleChanged`;
    /// `Unavailable`.
    async fn accept_invitation(
        &self,
        id: InvitationId,
        digest: &TokenDigest,
        account: &Account,
        password_hash: &PasswordHash,
        grants: &[NewGrant],
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// Deletes invitations accepted, revoked or expired at or before `before`, with their
    /// grants, at most `limit`; how many went.
    ///
    /// # Errors
    /// `Unavailable` when the database cannot be reached.
    async fn forget_closed_invitations(
        &self,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<usize, StoreError>;
}
