//! Account creation: public self-registration (behind the `account-registration` flag) and
//! creation by an administrator (`account-create` on `*`).

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use roster_domain::{
    Account, AccountId, AccountStatus, BuiltinAction, DisplayName, Email, PasswordProblem,
    PlainPassword, PrincipalId, Rights,
};
use secrecy::{ExposeSecret, SecretString};
use tracing::instrument;
use uuid::Uuid;

use super::grants::{GrantForm, describe_grants, parse_grant_forms};
use super::{Authenticated, Roster};
use crate::error::{AppError, FieldError};
use crate::model::{
    AuditAction, AuditEvent, Conflict, EmailTokenPurpose, Feature, MailDelivery, MailMessage,
    Missing, NewGrant, StoreError,
};

/// What a public self-registration did.
#[derive(Debug)]
pub enum SelfRegistration {
    /// The account was created (and, under verification, its link emailed).
    Created(Account),
    /// The enumeration-safe answer: the same whether the email was new or taken.
    CheckYourEmail,
}

impl SelfRegistration {
    /// The created account, unless the answer is the enumeration-safe one.
    pub fn into_account(self) -> Option<Account> {
        match self {
            SelfRegistration::Created(account) => Some(account),
            SelfRegistration::CheckYourEmail => None,
        }
    }
}

/// A registration as it arrives from a client, not yet validated.
#[derive(Debug)]
pub struct RegistrationForm {
    email: String,
    password: SecretString,
    name: Option<String>,
}

/// A registration whose every field has been parsed and checked against the policy.
#[derive(Debug)]
struct ValidRegistration {
    email: Email,
    password: PlainPassword,
    name: Option<DisplayName>,
}

impl RegistrationForm {
    /// A form as the adapter received it (JSON body, CLI arguments, bootstrap settings);
    /// nothing is checked until a use case validates it.
    pub fn new(email: String, password: SecretString, name: Option<String>) -> RegistrationForm {
        RegistrationForm {
            email,
            password,
            name,
        }
    }

    /// Whether the email's domain may self-register. An email that does not parse is let
    /// through: validation reports it with the other fields.
    fn domain_allowed(&self, roster: &Roster) -> bool {
        Email::parse(&self.email).map_or(true, |email| roster.registration.allows(&email))
    }

    /// Parses every field and reports all problems at once, each naming its field. The
    /// password's strength is estimated on the strength pool, once its length is right.
    async fn validate(self, roster: &Roster) -> Result<ValidRegistration, AppError> {
        let mut errors = Vec::new();
        let email = Email::parse(&self.email)
            .map_err(|e| errors.push(FieldError::new("email", e.code(), e.to_string())))
            .ok();
        let name = match self.name.as_deref().map(DisplayName::parse).transpose() {
            Ok(name) => name,
            Err(e) => {
                errors.push(FieldError::new("name", e.code(), e.to_string()));
                None
            }
        };
        // The password may not be built from the email or the name.
        let mut user_inputs: Vec<&str> = Vec::new();
        if let Some(email) = &email {
            user_inputs.push(email.as_str());
            user_inputs.push(email.local_part());
        }
        if let Some(name) = &name {
            user_inputs.push(name.as_str());
        }
        let password = match roster
            .check_new_password("password", &self.password, &user_inputs)
            .await
        {
            Ok(password) => Some(password),
            Err(AppError::Validation(problems)) => {
                errors.extend(problems);
                None
            }
            Err(other) => return Err(other),
        };
        match (email, password) {
            (Some(email), Some(password)) if errors.is_empty() => Ok(ValidRegistration {
                email,
                password,
                name,
            }),
            _ => Err(AppError::Validation(errors)),
        }
    }
}

/// One password problem as a field error.
fn field_error(field: &str, problem: &PasswordProblem) -> FieldError {
    FieldError::new(field, problem.code(), problem.message())
}

impl Roster {
    /// Checks the length of a new password here (cheap), then its strength on the strength
    /// pool (up to a few hundred milliseconds of CPU, never on the async threads); problems
    /// are reported against `field`.
    ///
    /// # Errors
    /// `Validation` (one problem for `field`), `Overloaded` when the strength pool is full.
    pub(super) async fn check_new_password(
        &self,
        field: &str,
        password: &SecretString,
        user_inputs: &[&str],
    ) -> Result<PlainPassword, AppError> {
        let password = self.check_new_password_length(field, password)?;
        self.require_strong_password(field, &password, user_inputs)
            .await?;
        Ok(password)
    }

    /// The cheap half of [`Roster::check_new_password`]: the length, on this thread.
    ///
    /// # Errors
    /// `Validation` (one problem for `field`).
    pub(super) fn check_new_password_length(
        &self,
        field: &str,
        password: &SecretString,
    ) -> Result<PlainPassword, AppError> {
        self.password_policy
            .check_length(password.expose_secret())
            .map_err(|problem| AppError::Validation(vec![field_error(field, &problem)]))
    }

    /// The expensive half of [`Roster::check_new_password`]: the strength estimate, on the
    /// strength pool.
    ///
    /// # Errors
    /// `Validation` (one problem for `field`), `Overloaded` when the strength pool is full.
    pub(super) async fn require_strong_password(
        &self,
        field: &str,
        password: &PlainPassword,
        user_inputs: &[&str],
    ) -> Result<(), AppError> {
        let inputs = user_inputs.iter().map(|&input| input.to_owned()).collect();
        match self.ports.strength.weakness(password, inputs).await? {
            Some(problem) => Err(AppError::Validation(vec![field_error(field, &problem)])),
            None => Ok(()),
        }
    }
}

/// What a password may not be built from: the account's email, its local part, its name.
pub(super) fn account_inputs(account: &Account) -> Vec<&str> {
    let mut inputs = vec![account.email.as_str(), account.email.local_part()];
    if let Some(name) = &account.name {
        inputs.push(name.as_str());
    }
    inputs
}

impl Roster {
    /// Public self-registration. Refused before any other work while the
    /// `account-registration` flag is off, and before any password work when the email's
    /// domain is not allowed (`registration.allowed_domains`). The new account has no roles.
    ///
    /// When the policy requires verification, the account starts unverified and, in the same
    /// transaction, gets a `rev_` token and the email with its link. In the enumeration-safe
    /// mode the answer is `CheckYourEmail` for a new and a taken email alike, with the same
    /// work (a hash, a token, a sealed message, one write): the owner of a taken address gets
    /// an `AccountExists` email (within the address's hourly cap; none for a disabled
    /// account) and the account is left as it was.
    ///
    /// # Errors
    /// `FeatureDisabled`, `DomainNotAllowed`, `Validation`, `EmailTaken` (not in the
    /// enumeration-safe mode), `Overloaded`, `Unavailable`, `Internal`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn register_self(
        &self,
        form: RegistrationForm,
        source_ip: Option<IpAddr>,
    ) -> Result<SelfRegistration, AppError> {
        if !self.ports.features.is_enabled(Feature::AccountRegistration) {
            return Err(AppError::FeatureDisabled(
                Feature::AccountRegistration.name(),
            ));
        }
        if !form.domain_allowed(self) {
            tracing::info!(outcome = "domain_not_allowed", "self-registration refused");
            return Err(AppError::DomainNotAllowed);
        }
        let registration = form.validate(self).await?;
        let audit = |account, at| {
            AuditEvent::new(AuditAction::AccountRegistered, at)
                .actor(PrincipalId::Account(account))
                .target("account", account)
                .from_ip(source_ip)
        };
        if self.registration.self_registered_verified() {
            let account = self
                .create_account(registration, false, true, &[], audit)
                .await?;
            tracing::info!(account_id = %account.id, "account registered by self");
            return Ok(SelfRegistration::Created(account));
        }
        self.register_unverified(registration, audit).await
    }

    /// Self-registration under verification (see [`Roster::register_self`]).
    async fn register_unverified(
        &self,
        registration: ValidRegistration,
        audit: impl FnOnce(AccountId, DateTime<Utc>) -> AuditEvent,
    ) -> Result<SelfRegistration, AppError> {
        let safe = self.registration.enumeration_safe;
        let existing = self
            .ports
            .accounts
            .find_by_email(registration.email.canonical())
            .await?;
        if existing.is_some() && !safe {
            return Err(AppError::EmailTaken);
        }
        // From here on, a taken and a free email cost the same.
        let password_hash = self.ports.hasher.hash(registration.password).await?;
        let now = self.ports.clock.now();
        let purpose = EmailTokenPurpose::EmailVerification;
        let Some(existing) = existing else {
            let prepared = self.verification_mail(&registration.email, now)?;
            let account = Account {
                id: AccountId::new(Uuid::now_v7()),
                email: registration.email,
                name: registration.name,
                status: AccountStatus::Active,
                is_superadmin: false,
                email_verified: false,
                has_second_factor: false,
                created_at: now,
                updated_at: now,
            };
            let audit = audit(account.id, now);
            let delivery = prepared.for_account(&account);
            let request = self.email_request(&account.email, purpose, now, Some(delivery));
            return match self
                .ports
                .email_tokens
                .register_unverified(&account, &password_hash, &audit, &request)
                .await
            {
                Ok(()) => {
                    self.ports.mail_queued.notify();
                    tracing::info!(account_id = %account.id, "account registered by self; verification link queued");
                    Ok(if safe {
                        SelfRegistration::CheckYourEmail
                    } else {
                        SelfRegistration::Created(account)
                    })
                }
                // Registered a moment ago by a racing request: in the safe mode that is
                // answered like any taken email (without the email to the owner).
                Err(StoreError::Duplicate(Conflict::Email)) if safe => {
                    Ok(SelfRegistration::CheckYourEmail)
                }
                Err(StoreError::Duplicate(Conflict::Email)) => Err(AppError::EmailTaken),
                Err(other) => Err(other.into()),
            };
        };
        // The same token work as a new account's link, though this message carries none.
        let _unused = self.ports.tokens.new_email_token(purpose);
        let owner = existing.account;
        let message = MailMessage::AccountExists {
            to: owner.email.clone(),
            reset_page: format!(
                "{}/console/{}",
                self.public_url,
                EmailTokenPurpose::PasswordReset.page()
            ),
        };
        let mail = self.seal(&message, now)?;
        let delivery =
            (owner.status == AccountStatus::Active).then_some(MailDelivery { mail, token: None });
        let queued = self
            .request_email(&owner.email, purpose, now, delivery)
            .await?;
        tracing::info!(account_id = %owner.id, queued, "self-registration for a taken email: the owner is told by email");
        Ok(SelfRegistration::CheckYourEmail)
    }

    /// Account creation by an administrator: a super admin or a principal allowed
    /// `account-create` on `*`. Works whatever the `account-registration` flag says. The
    /// account and its `grants` are created together or not at all; each grant needs the
    /// same rights as granting it later would.
    ///
    /// # Errors
    /// `Forbidden`, `Validation`, `EmailTaken`, `RoleNotFound`, `Overloaded`, `Unavailable`.
    #[instrument(skip_all, fields(actor = %actor.principal_label()), err(level = "debug"))]
    pub async fn register_by_admin(
        &self,
        actor: &Authenticated,
        form: RegistrationForm,
        grants: Vec<GrantForm>,
    ) -> Result<(Account, Vec<NewGrant>), AppError> {
        actor.require_global(BuiltinAction::AccountCreate)?;
        let grants = parse_grant_forms(&grants);
        let registration = form.validate(self).await;
        let (registration, grants) = match (registration, grants) {
            (Ok(registration), Ok(grants)) => (registration, grants),
            (registration, grants) => {
                let mut errors = match registration {
                    Err(AppError::Validation(errors)) => errors,
                    Err(other) => return Err(other),
                    Ok(_) => Vec::new(),
                };
                errors.extend(grants.err().unwrap_or_default());
                return Err(AppError::Validation(errors));
            }
        };
        let grants = self.authorize_grants(actor, Rights::NONE, grants).await?;
        let account = self
            .create_account(registration, false, true, &grants, |account, at| {
                actor
                    .audit(AuditAction::AccountCreated, at)
                    .target("account", account)
                    .detail(describe_grants(&grants))
            })
            .await?;
        tracing::info!(account_id = %account.id, "account registered by admin");
        Ok((account, grants))
    }

    /// Creates the first super admin (CLI and start-up bootstrap; never over HTTP).
    ///
    /// # Errors
    /// `Validation`, `EmailTaken`, `Overloaded`, `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn create_superadmin(&self, form: RegistrationForm) -> Result<Account, AppError> {
        let registration = form.validate(self).await?;
        let account = self
            .create_account(registration, true, true, &[], |account, at| {
                AuditEvent::new(AuditAction::SuperadminCreated, at).target("account", account)
            })
            .await?;
        tracing::info!(account_id = %account.id, "super admin created");
        Ok(account)
    }

    /// Whether any super admin exists yet.
    ///
    /// # Errors
    /// `Unavailable`.
    pub async fn superadmin_exists(&self) -> Result<bool, AppError> {
        Ok(self.ports.accounts.superadmin_exists().await?)
    }

    async fn create_account(
        &self,
        registration: ValidRegistration,
        is_superadmin: bool,
        email_verified: bool,
        grants: &[NewGrant],
        audit: impl FnOnce(AccountId, DateTime<Utc>) -> AuditEvent,
    ) -> Result<Account, AppError> {
        // Cheap early answer for the common duplicate, before spending a hash on it; the
        // unique index below stays the real guarantee under races.
        if self
            .ports
            .accounts
            .find_by_email(registration.email.canonical())
            .await?
            .is_some()
        {
            return Err(AppError::EmailTaken);
        }
        let password_hash = self.ports.hasher.hash(registration.password).await?;
        let now = self.ports.clock.now();
        let account = Account {
            id: AccountId::new(Uuid::now_v7()),
            email: registration.email,
            name: registration.name,
            status: AccountStatus::Active,
            is_superadmin,
            email_verified,
            has_second_factor: false,
            created_at: now,
            updated_at: now,
        };
        let audit = audit(account.id, now);
        match self
            .ports
            .accounts
            .insert(&account, &password_hash, grants, &audit)
            .await
        {
            Ok(()) => Ok(account),
            Err(StoreError::Duplicate(Conflict::Email)) => Err(AppError::EmailTaken),
            Err(StoreError::Missing(Missing::Role)) => Err(AppError::RoleNotFound),
            Err(other) => Err(other.into()),
        }
    }
}

#[cfg(test)]
mod tests;
