//! Invitations: an administrator invites an address with the grants it will get; the
//! invitee follows the emailed link and accepts with a password of their own.

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::client::{Client, Retry};
use crate::error::Error;
use crate::types::{AccountWithGrants, GrantRequest, Page, PageRequest};

/// An invitation (never its token, which only the email carries).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Invitation {
    /// Its id.
    pub id: Uuid,
    /// The invited address, as the inviter gave it.
    pub email: String,
    /// The name the account gets unless the invitee gives one.
    pub name: Option<String>,
    /// The grants the account gets on acceptance.
    pub grants: Vec<InvitedGrant>,
    /// Where it stands now.
    pub status: InvitationStatus,
    /// When its link stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// `account:<uuid>` or `api_key:<uuid>` of the inviter.
    pub created_by: Option<String>,
}

/// A grant an invitation gives on acceptance.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct InvitedGrant {
    /// The role.
    pub role: String,
    /// The scope.
    pub scope: String,
}

/// Where an invitation stands. Nothing is written when one expires: `expired` is a pending
/// invitation past its `expires_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    /// Waiting for the invitee.
    Pending,
    /// Accepted: the account exists.
    Accepted,
    /// Revoked: its link no longer works.
    Revoked,
    /// Past `expires_at` without being accepted; it can be sent again.
    Expired,
}

/// `POST /v1/admin/invitations`: whom to invite, with what.
///
/// ```
/// use roster_client::NewInvitation;
///
/// let grace = NewInvitation::new("grace@example.com")
///     .name("Grace")
///     .grant("viewer", "acme")
///     .expires_in("3d");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewInvitation {
    /// The address the link is sent to.
    pub email: String,
    /// The account's name unless the invitee gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Grants given on acceptance; each needs what giving it now would need.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<GrantRequest>,
    /// How long the link works (`7d` by default, at most 30 days).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<String>,
}

impl NewInvitation {
    /// An invitation of `email` with no grants, for the default seven days.
    pub fn new(email: impl Into<String>) -> Self {
        Self {
            email: email.into(),
            name: None,
            grants: Vec::new(),
            expires_in: None,
        }
    }

    /// With this name for the account.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Giving `role` on `scope` on acceptance as well.
    #[must_use]
    pub fn grant(mut self, role: impl Into<String>, scope: impl Into<String>) -> Self {
        self.grants.push(GrantRequest::new(role, scope));
        self
    }

    /// With a link working for `duration` (`48h`, `P14D`).
    #[must_use]
    pub fn expires_in(mut self, duration: impl Into<String>) -> Self {
        self.expires_in = Some(duration.into());
        self
    }
}

/// `GET /v1/admin/invitations`: a page of invitations, newest first, optionally only those
/// with a status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InvitationQuery {
    /// Which page.
    #[serde(flatten)]
    pub page: PageRequest,
    /// Only invitations with this status now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<InvitationStatus>,
}

impl InvitationQuery {
    /// Only invitations with this status.
    #[must_use]
    pub fn status(mut self, status: InvitationStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// This page of the list.
    #[must_use]
    pub fn page(mut self, page: PageRequest) -> Self {
        self.page = page;
        self
    }
}

#[derive(Serialize)]
struct Resend<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_in: Option<&'a str>,
}

#[derive(Serialize)]
struct Acceptance<'a> {
    token: &'a str,
    password: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

impl Client {
    /// `POST /v1/admin/invitations`: stores the invitation and queues its email (needs
    /// `account-create` on `*`). Never re-sent once sent: it sends mail.
    pub async fn invite(&self, invitation: &NewInvitation) -> Result<Invitation, Error> {
        self.call(
            Method::POST,
            "/v1/admin/invitations",
            Some(invitation),
            Retry::OnlyUnsent,
        )
        .await
    }

    /// `GET /v1/admin/invitations`: a page of invitations (needs `account-read` on `*`).
    pub async fn invitations(&self, query: &InvitationQuery) -> Result<Page<Invitation>, Error> {
        self.get_query("/v1/admin/invitations", query).await
    }

    /// `GET /v1/admin/invitations/{id}`: one invitation.
    pub async fn invitation(&self, id: Uuid) -> Result<Invitation, Error> {
        self.get(&format!("/v1/admin/invitations/{id}")).await
    }

    /// `DELETE /v1/admin/invitations/{id}`: its link stops working at once (409
    /// `invitation_accepted` when the account exists already). Revoking a revoked
    /// invitation changes nothing, so this is retried like a read.
    pub async fn revoke_invitation(&self, id: Uuid) -> Result<(), Error> {
        self.call_no_content(
            Method::DELETE,
            &format!("/v1/admin/invitations/{id}"),
            None::<&()>,
            Retry::Safe,
        )
        .await
    }

    /// `POST /v1/admin/invitations/{id}/resend`: a fresh link by email for a pending or
    /// expired invitation, working for `expires_in` (default 7 days) from now; the old link
    /// dies. Never re-sent once sent: it sends mail.
    pub async fn resend_invitation(
        &self,
        id: Uuid,
        expires_in: Option<&str>,
    ) -> Result<Invitation, Error> {
        self.call(
            Method::POST,
            &format!("/v1/admin/invitations/{id}/resend"),
            Some(&Resend { expires_in }),
            Retry::OnlyUnsent,
        )
        .await
    }

    /// `POST /v1/account/invitations/accept` (public): creates the invited account with the
    /// invited grants, from the emailed link's `rin_...` token. Opens no session: log in
    /// afterwards. Never re-sent once sent.
    pub async fn accept_invitation(
        &self,
        token: &str,
        password: &str,
        name: Option<&str>,
    ) -> Result<AccountWithGrants, Error> {
        self.without_token()
            .call(
                Method::POST,
                "/v1/account/invitations/accept",
                Some(&Acceptance {
                    token,
                    password,
                    name,
                }),
                Retry::OnlyUnsent,
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_status_filter_is_written_as_roster_spells_it() {
        let client = Client::builder("http://roster").build().unwrap();
        let query = InvitationQuery::default()
            .status(InvitationStatus::Expired)
            .page(PageRequest::default().limit(5));
        assert_eq!(
            client
                .url_with_query("/v1/admin/invitations", &query)
                .unwrap(),
            "http://roster/v1/admin/invitations?limit=5&status=expired"
        );
    }

    #[test]
    fn a_resend_without_duration_is_an_empty_object() {
        assert_eq!(
            serde_json::to_value(Resend { expires_in: None }).unwrap(),
            json!({})
        );
    }
}
