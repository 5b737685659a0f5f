//! Invitations: an administrator invites an email address, optionally with grants, and the
//! invitee sets a password through the emailed link, which creates a verified account holding
//! exactly those grants. Works whatever the `account-registration` flag and the allowed
//! domains say: the inviter vouches for the address.
//!
//! Creating (and re-sending) needs `account-create` on `*` and, for each grant, what creating
//! that grant would need (the grants use case's checks). The grants are authorized when the
//! invitation is created or re-sent; revoke the invitation to withdraw them.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use roster_domain::{
    Account, AccountId, AccountStatus, BuiltinAction, DisplayName, Email, GrantId, PrincipalId,
    Rights, RoleName, ScopePath,
};
use secrecy::{ExposeSecret, SecretString};
use tracing::instrument;
use uuid::Uuid;

use super::grants::{GrantForm, describe_grants, parse_grant_forms};
use super::{Authenticated, HOUSEKEEPING_BATCH, Roster};
use crate::error::{AppError, FieldError};
use crate::lifetime::parse_lifetime;
use crate::model::{
    AuditAction, AuditEvent, Conflict, EmailTokenPurpose, Invitation, InvitationChange,
    InvitationId, InvitationPage, InvitationStatus, InvitedGrant, MailMessage, Missing, NewGrant,
    StoreError,
};

/// How long a link works when the inviter does not say (the contract: 7 days).
pub const DEFAULT_INVITATION_TTL: Duration = Duration::days(7);
/// The longest an inviter may ask for (the contract: 30 days).
pub const MAX_INVITATION_TTL: Duration = Duration::days(30);

/// An invitation as it arrives from a client, not yet validated.
#[derive(Debug, Clone, Default)]
pub struct InvitationForm {
    pub email: String,
    pub name: Option<String>,
    pub grants: Vec<GrantForm>,
    /// `7d`, `48h`, `P14D`, ... (see [`parse_lifetime`]); at most 30 days.
    pub expires_in: Option<String>,
}

/// What an accepted invitation created: the account and its grants.
#[derive(Debug, Clone)]
pub struct AcceptedInvitation {
    pub account: Account,
    pub grants: Vec<NewGrant>,
}

/// Parses `expires_in` (default 7 days, at most 30); problems name `expires_in`.
fn invitation_lifetime(expires_in: Option<&str>) -> Result<Duration, FieldError> {
    let Some(text) = expires_in else {
        return Ok(DEFAULT_INVITATION_TTL);
    };
    let lifetime = parse_lifetime(text)
        .map_err(|e| FieldError::new("expires_in", "invalid_duration", e.to_string()))?;
    if lifetime > MAX_INVITATION_TTL {
        return Err(FieldError::new(
            "expires_in",
            "invalid_duration",
            "must be at most 30 days",
        ));
    }
    Ok(lifetime)
}

/// `role@scope, ...` of an invitation's grants, for audit details.
fn describe_invited(grants: &[InvitedGrant]) -> String {
    if grants.is_empty() {
        return "no grants".to_owned();
    }
    grants
        .iter()
        .map(|g| format!("{}@{}", g.role, g.scope))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Roster {
    /// The service's clock, for adapters that show state that depends on the time (an
    /// invitation's status, [`Invitation::status`]).
    pub fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    /// Invites `form.email`: stores the invitation with its grants and queues the email with
    /// the link `{public_url}/console/invitation#rin_...`, with its audit event, in one
    /// transaction.
    ///
    /// # Errors
    /// `Forbidden`, `Validation` (`email`, `name`, `expires_in`, `grants[i]...`),
    /// `RoleNotFound`, `TooManyGrants`, `EmailTaken`, `InvitationPending`, `RoleChanged`,
    /// `Unavailable`, `Internal` (a template that does not render).
    #[instrument(skip_all, fields(actor = %caller.principal_label()), err(level = "debug"))]
    pub async fn invite(
        &self,
        caller: &Authenticated,
        form: InvitationForm,
    ) -> Result<Invitation, AppError> {
        caller.require_global(BuiltinAction::AccountCreate)?;
        let mut problems = Vec::new();
        let email = Email::parse(&form.email)
            .map_err(|e| problems.push(FieldError::new("email", e.code(), e.to_string())))
            .ok();
        let name = match form.name.as_deref().map(DisplayName::parse).transpose() {
            Ok(name) => name,
            Err(e) => {
                problems.push(FieldError::new("name", e.code(), e.to_string()));
                None
            }
        };
        let lifetime = invitation_lifetime(form.expires_in.as_deref())
            .map_err(|e| problems.push(e))
            .ok();
        let grants = parse_grant_forms(&form.grants)
            .map_err(|errors| problems.extend(errors))
            .unwrap_or_default();
        let (Some(email), Some(lifetime)) = (email, lifetime) else {
            return Err(AppError::Validation(problems));
        };
        if !problems.is_empty() {
            return Err(AppError::Validation(problems));
        }
        let grants = self.authorize_grants(caller, Rights::NONE, grants).await?;
        if self
            .ports
            .accounts
            .find_by_email(email.canonical())
            .await?
            .is_some()
        {
            return Err(AppError::EmailTaken);
        }
        let now = self.ports.clock.now();
        let invitation = Invitation {
            id: InvitationId::new(Uuid::now_v7()),
            email,
            name,
            grants: grants
                .iter()
                .map(|grant| InvitedGrant {
                    role: grant.role.clone(),
                    scope: grant.scope.clone(),
                })
                .collect(),
            created_at: now,
            created_by: Some(caller.principal.id),
            expires_at: now + lifetime,
            accepted_at: None,
            account_id: None,
            revoked_at: None,
        };
        let issued = self
            .ports
            .tokens
            .new_email_token(EmailTokenPurpose::Invitation);
        let mail = self.seal_invitation(caller, &invitation, &issued.token, now)?;
        let audit = caller
            .audit(AuditAction::InvitationCreated, now)
            .target("invitation", invitation.id)
            .detail(format!(
                "to {}; {}",
                invitation.email.canonical(),
                describe_grants(&grants)
            ));
        match self
            .ports
            .invitations
            .insert_invitation(&invitation, &issued.digest, &grants, &mail, &audit)
            .await
        {
            Ok(()) => {}
            Err(error) => return Err(invitation_write_error(error)),
        }
        self.ports.mail_queued.notify();
        tracing::info!(invitation_id = %invitation.id, mail_id = %mail.id, "invitation queued");
        Ok(invitation)
    }

    /// Invitations newest first (`account-read`); `status` filters by the status at this
    /// moment (a pending invitation past its time is `expired`).
    ///
    /// # Errors
    /// `Forbidden`, `Unavailable`.
    pub async fn list_invitations(
        &self,
        caller: &Authenticated,
        status: Option<InvitationStatus>,
        before: Option<InvitationId>,
        limit: u32,
    ) -> Result<InvitationPage, AppError> {
        caller.require_global(BuiltinAction::AccountRead)?;
        let now = self.ports.clock.now();
        Ok(self
            .ports
            .invitations
            .list_invitations(status, now, before, limit)
            .await?)
    }

    /// One invitation (`account-read`).
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Unavailable`.
    pub async fn invitation(
        &self,
        caller: &Authenticated,
        id: InvitationId,
    ) -> Result<Invitation, AppError> {
        caller.require_global(BuiltinAction::AccountRead)?;
        self.ports
            .invitations
            .find_invitation(id)
            .await?
            .ok_or(AppError::NotFound("invitation"))
    }

    /// Revokes an invitation (`account-create`): its link stops working at once. Revoking a
    /// revoked invitation changes nothing; an accepted one cannot be revoked (its account
    /// exists: disable that instead).
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `InvitationAccepted`, `Unavailable`.
    #[instrument(skip_all, fields(invitation_id = %id), err(level = "debug"))]
    pub async fn revoke_invitation(
        &self,
        caller: &Authenticated,
        id: InvitationId,
    ) -> Result<(), AppError> {
        caller.require_global(BuiltinAction::AccountCreate)?;
        let now = self.ports.clock.now();
        let audit = caller
            .audit(AuditAction::InvitationRevoked, now)
            .target("invitation", id);
        match self
            .ports
            .invitations
            .revoke_invitation(id, now, &audit)
            .await?
        {
            InvitationChange::Changed(_) => {
                tracing::info!(actor = %caller.principal_label(), "invitation revoked");
                Ok(())
            }
            InvitationChange::Revoked => Ok(()),
            InvitationChange::NotFound => Err(AppError::NotFound("invitation")),
            InvitationChange::Accepted => Err(AppError::InvitationAccepted),
        }
    }

    /// Re-invites: a pending or expired invitation gets a fresh link, valid `expires_in`
    /// (default 7 days) from now, and a new email; the old link stops working. Needs what
    /// inviting with the invitation's grants needs now.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Validation` (`expires_in`), `InvitationAccepted`,
    /// `InvitationRevoked`, `EmailTaken`, `InvitationPending`, `RoleNotFound`, `Unavailable`.
    #[instrument(skip_all, fields(invitation_id = %id), err(level = "debug"))]
    pub async fn resend_invitation(
        &self,
        caller: &Authenticated,
        id: InvitationId,
        expires_in: Option<&str>,
    ) -> Result<Invitation, AppError> {
        caller.require_global(BuiltinAction::AccountCreate)?;
        let lifetime = invitation_lifetime(expires_in)
            .map_err(|problem| AppError::Validation(vec![problem]))?;
        let invitation = self
            .ports
            .invitations
            .find_invitation(id)
            .await?
            .ok_or(AppError::NotFound("invitation"))?;
        let now = self.ports.clock.now();
        match invitation.status(now) {
            InvitationStatus::Accepted => return Err(AppError::InvitationAccepted),
            InvitationStatus::Revoked => return Err(AppError::InvitationRevoked),
            InvitationStatus::Pending | InvitationStatus::Expired => {}
        }
        let wanted: Vec<(RoleName, ScopePath)> = invitation
            .grants
            .iter()
            .map(|grant| (grant.role.clone(), grant.scope.clone()))
            .collect();
        self.authorize_grants(caller, Rights::NONE, wanted).await?;
        let mut renewed = invitation;
        renewed.expires_at = now + lifetime;
        let issued = self
            .ports
            .tokens
            .new_email_token(EmailTokenPurpose::Invitation);
        let mail = self.seal_invitation(caller, &renewed, &issued.token, now)?;
        let audit = caller
            .audit(AuditAction::InvitationResent, now)
            .target("invitation", id)
            .detail(format!(
                "to {}; {}",
                renewed.email.canonical(),
                describe_invited(&renewed.grants)
            ));
        let change = self
            .ports
            .invitations
            .resend_invitation(id, &issued.digest, renewed.expires_at, &mail, &audit)
            .await
            .map_err(invitation_write_error)?;
        match change {
            InvitationChange::Changed(invitation) => {
                self.ports.mail_queued.notify();
                tracing::info!(mail_id = %mail.id, "invitation sent again with a new link");
                Ok(invitation)
            }
            InvitationChange::NotFound => Err(AppError::NotFound("invitation")),
            InvitationChange::Accepted => Err(AppError::InvitationAccepted),
            InvitationChange::Revoked => Err(AppError::InvitationRevoked),
        }
    }

    /// Accepts an invitation with its link's token: creates the account (active, verified)
    /// with exactly the invited grants, marks the invitation accepted and records
    /// `invitation.accepted`, in one transaction. `name` overrides the inviter's choice. The
    /// token is checked before the password, so a dead link is said to be dead whatever
    /// password came with it.
    ///
    /// # Errors
    /// `TokenInvalid` (unknown, expired, used, revoked, or replaced by a newer link),
    /// `Validation` (`password` as for registration, `name`), `EmailTaken` (an account with
    /// the address appeared meanwhile; the invitation stays pending), `RoleNotFound`,
    /// `RoleChanged`, `Overloaded`, `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn accept_invitation(
        &self,
        token: &SecretString,
        password: &SecretString,
        name: Option<&str>,
        source_ip: Option<IpAddr>,
    ) -> Result<AcceptedInvitation, AppError> {
        let purpose = EmailTokenPurpose::Invitation;
        if !self
            .ports
            .tokens
            .looks_like_email_token(purpose, token.expose_secret())
        {
            return Err(AppError::TokenInvalid);
        }
        let digest = self.ports.tokens.digest(token.expose_secret());
        let invitation = self
            .ports
            .invitations
            .find_pending_invitation(&digest, self.ports.clock.now())
            .await?
            .ok_or(AppError::TokenInvalid)?;
        let name = match name.map(DisplayName::parse).transpose() {
            Ok(Some(name)) => Some(name),
            Ok(None) => invitation.name.clone(),
            Err(e) => {
                return Err(AppError::Validation(vec![FieldError::new(
                    "name",
                    e.code(),
                    e.to_string(),
                )]));
            }
        };
        let mut user_inputs = vec![invitation.email.as_str(), invitation.email.local_part()];
        if let Some(name) = &name {
            user_inputs.push(name.as_str());
        }
        let password = self
            .check_new_password("password", password, &user_inputs)
            .await?;
        if self
            .ports
            .accounts
            .find_by_email(invitation.email.canonical())
            .await?
            .is_some()
        {
            return Err(AppError::EmailTaken);
        }
        let hash = self.ports.hasher.hash(password).await?;
        let now = self.ports.clock.now();
        let grants = self.invited_grants(&invitation, now).await?;
        let account = Account {
            id: AccountId::new(Uuid::now_v7()),
            email: invitation.email.clone(),
            name,
            status: AccountStatus::Active,
            is_superadmin: false,
            email_verified: true,
            has_second_factor: false,
            created_at: now,
            updated_at: now,
        };
        let audit = AuditEvent::new(AuditAction::InvitationAccepted, now)
            .actor(PrincipalId::Account(account.id))
            .target("account", account.id)
            .from_ip(source_ip)
            .detail(format!(
                "invitation {}; {}",
                invitation.id,
                describe_grants(&grants)
            ));
        let accepted = self
            .ports
            .invitations
            .accept_invitation(invitation.id, &digest, &account, &hash, &grants, &audit)
            .await
            .map_err(invitation_write_error)?;
        if !accepted {
            return Err(AppError::TokenInvalid);
        }
        tracing::info!(account_id = %account.id, invitation_id = %invitation.id, "invitation accepted");
        Ok(AcceptedInvitation { account, grants })
    }

    /// The invitation's grants as grants to write now: with their roles' current rules (the
    /// store refuses them if a rule changes before it writes), given by the inviter.
    async fn invited_grants(
        &self,
        invitation: &Invitation,
        now: DateTime<Utc>,
    ) -> Result<Vec<NewGrant>, AppError> {
        let mut grants = Vec::with_capacity(invitation.grants.len());
        for invited in &invitation.grants {
            let role = self
                .ports
                .roles
                .find_role(&invited.role)
                .await?
                .ok_or(AppError::RoleNotFound)?;
            grants.push(NewGrant {
                id: GrantId::new(Uuid::now_v7()),
                role: invited.role.clone(),
                scope: invited.scope.clone(),
                created_at: now,
                created_by: invitation.created_by,
                role_rules: role.role.permissions,
            });
        }
        Ok(grants)
    }

    /// Renders and seals the invitation email; the link exists in clear only until then.
    fn seal_invitation(
        &self,
        caller: &Authenticated,
        invitation: &Invitation,
        token: &SecretString,
        now: DateTime<Utc>,
    ) -> Result<crate::model::SealedMail, AppError> {
        let message = MailMessage::Invitation {
            to: invitation.email.clone(),
            name: invitation
                .name
                .as_ref()
                .map(|name| name.as_str().to_owned()),
            inviter: inviter_label(caller),
            link: self.link(EmailTokenPurpose::Invitation, token),
            expires_at: invitation.expires_at,
        };
        self.ports
            .mailer
            .seal(&message, Uuid::now_v7(), now)
            .map_err(|e| AppError::Internal(e.to_string()))
    }

    /// Deletes invitations accepted, revoked or expired more than
    /// [`CLOSED_INVITATION_RETENTION`] ago, with their grants, a bounded batch per call (the
    /// periodic housekeeping calls it). Their story stays in the audit trail.
    ///
    /// # Errors
    /// `Unavailable`.
    pub async fn forget_closed_invitations(&self) -> Result<usize, AppError> {
        let before = self.ports.clock.now() - CLOSED_INVITATION_RETENTION;
        Ok(self
            .ports
            .invitations
            .forget_closed_invitations(before, HOUSEKEEPING_BATCH)
            .await?)
    }
}

/// How long an accepted, revoked or expired invitation stays listed before it is deleted.
pub const CLOSED_INVITATION_RETENTION: Duration = Duration::days(30);

/// Who invites, as the invitee should read it: the account's name, else its email; for an
/// API key, its name.
fn inviter_label(caller: &Authenticated) -> String {
    if let Some(account) = caller.account() {
        return account.name.as_ref().map_or_else(
            || account.email.as_str().to_owned(),
            |name| name.as_str().to_owned(),
        );
    }
    caller
        .api_key()
        .map_or_else(|| "An administrator".to_owned(), |key| key.name.clone())
}

/// A store refusal of an invitation write, as the use cases answer it.
fn invitation_write_error(error: StoreError) -> AppError {
    match error {
        StoreError::Duplicate(Conflict::Email) => AppError::EmailTaken,
        StoreError::Duplicate(Conflict::InvitationPending) => AppError::InvitationPending,
        StoreError::Missing(Missing::Role) => AppError::RoleNotFound,
        other => other.into(),
    }
}

#[cfg(test)]
mod tests;
