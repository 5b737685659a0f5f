//! Invitations as the use cases and the store hand them to each other: who is invited, with
//! which grants, until when, and how the invitation ended. The status is derived from the
//! times ([`Invitation::status`]), so an invitation expires without anything being written.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use roster_domain::{AccountId, DisplayName, Email, PrincipalId, RoleName, ScopePath};
use uuid::Uuid;

/// An invitation's id (UUID v7, time-ordered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InvitationId(Uuid);

impl InvitationId {
    pub fn new(id: Uuid) -> Self {
        Self(id)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for InvitationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for InvitationId {
    type Err = uuid::Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Uuid::try_parse(text).map(InvitationId)
    }
}

/// Where an invitation stands. `Expired` is never stored: a pending invitation past its
/// `expires_at` reads as expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

impl InvitationStatus {
    pub const ALL: [InvitationStatus; 4] = [
        InvitationStatus::Pending,
        InvitationStatus::Accepted,
        InvitationStatus::Revoked,
        InvitationStatus::Expired,
    ];

    /// The stable name, as the API shows it and `?status=` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Pending => "pending",
            InvitationStatus::Accepted => "accepted",
            InvitationStatus::Revoked => "revoked",
            InvitationStatus::Expired => "expired",
        }
    }

    /// The status named by [`InvitationStatus::as_str`].
    ///
    /// ```
    /// use roster_app::model::InvitationStatus;
    ///
    /// assert_eq!(InvitationStatus::parse("expired"), Some(InvitationStatus::Expired));
    /// assert_eq!(InvitationStatus::parse("Pending"), None);
    /// ```
    pub fn parse(text: &str) -> Option<InvitationStatus> {
        InvitationStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// One grant an invitation gives: created for the account when the invitation is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitedGrant {
    pub role: RoleName,
    pub scope: ScopePath,
}

/// An invitation. Never holds its token: the store keeps only the digest of the current
/// link's token, and the link exists in clear only inside the sealed email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: InvitationId,
    pub email: Email,
    /// The display name the inviter gave; the invitee may choose another on acceptance.
    pub name: Option<DisplayName>,
    pub grants: Vec<InvitedGrant>,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<PrincipalId>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    /// The account the acceptance created (gone again if it was deleted since).
    pub account_id: Option<AccountId>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Invitation {
    /// Where the invitation stands at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> InvitationStatus {
        if self.accepted_at.is_some() {
            InvitationStatus::Accepted
        } else if self.revoked_at.is_some() {
            InvitationStatus::Revoked
        } else if self.expires_at <= now {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Pending
        }
    }
}

/// One page of invitations, newest first.
#[derive(Debug, Clone, Default)]
pub struct InvitationPage {
    pub invitations: Vec<Invitation>,
    /// The id to continue before, when older invitations follow.
    pub next_before: Option<InvitationId>,
}

/// The outcome of revoking or re-sending an invitation, decided inside the store's
/// transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvitationChange {
    /// Done; the invitation as it now is.
    Changed(Invitation),
    /// No invitation with this id.
    NotFound,
    /// It was accepted: the account exists, and nothing about the invitation changes any more.
    Accepted,
    /// It was revoked already.
    Revoked,
}
