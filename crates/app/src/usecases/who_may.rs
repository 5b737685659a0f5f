//! "Who may do what where", for people (the console): the principal is picked by email, by
//! id or from the API keys, then decided by the same [`Roster::check`] as
//! `POST /v1/authz/check`, with what decided it.

use roster_domain::{Account, AccountId, ApiKeyId, BuiltinAction, Email, PrincipalId};
use uuid::Uuid;

use super::{Authenticated, CheckForm, CheckOutcome, Roster};
use crate::error::{AppError, FieldError};
use crate::model::ApiKey;

/// How many API keys the form offers to pick from; any other is found by its id.
pub const CHECK_CHOICE_LIMIT: u32 = 200;

/// A check as a person fills it in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectCheckForm {
    /// An account's email address, or an id (`account:<id>`, `api_key:<id>`, or a bare
    /// UUID of an account or API key); empty for the caller itself.
    pub principal: String,
    /// An API key picked from the list (its id); empty when none was picked.
    pub api_key_id: String,
    pub action: String,
    pub scope: String,
}

/// Whose permission was checked.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckSubject {
    /// The caller itself (no principal given).
    Caller,
    Account(Account),
    /// An API key; its name only for a caller allowed `apikey-manage` on `*`.
    ApiKey {
        id: ApiKeyId,
        name: Option<String>,
    },
}

/// The answer and whose it is.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectCheck {
    pub subject: CheckSubject,
    pub outcome: CheckOutcome,
}

/// What the check form offers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckChoices {
    /// The usable API keys to pick from (the first [`CHECK_CHOICE_LIMIT`] keys), for a
    /// caller allowed `apikey-manage` on `*`; `None` for others (they may still give an id).
    pub api_keys: Option<Vec<ApiKey>>,
    /// More keys exist than were offered.
    pub more_api_keys: bool,
}

/// The principal as typed, before looking it up.
enum Wanted {
    Caller,
    Email(Email),
    Account(AccountId),
    ApiKey(ApiKeyId),
    /// A bare UUID: an account's or an API key's.
    Either(Uuid),
}

impl SubjectCheckForm {
    /// The principal the form names, or the problem with the field that named it.
    fn wanted(&self) -> Result<Wanted, FieldError> {
        let principal = self.principal.trim();
        let picked = self.api_key_id.trim();
        if !picked.is_empty() {
            if !principal.is_empty() {
                return Err(FieldError::new(
                    "api_key_id",
                    "conflicting_subject",
                    "Give an account or pick an API key, not both.",
                ));
            }
            return picked
                .parse()
                .map(|id| Wanted::ApiKey(ApiKeyId::new(id)))
                .map_err(|_| {
                    FieldError::new("api_key_id", "invalid_id", "Pick an API key from the list.")
                });
        }
        if principal.is_empty() {
            return Ok(Wanted::Caller);
        }
        if let Some(id) = PrincipalId::parse(principal) {
            return Ok(match id {
                PrincipalId::Account(id) => Wanted::Account(id),
                PrincipalId::ApiKey(id) => Wanted::ApiKey(id),
            });
        }
        if let Ok(id) = principal.parse::<Uuid>() {
            return Ok(Wanted::Either(id));
        }
        if principal.contains('@') {
            return Email::parse(principal)
                .map(Wanted::Email)
                .map_err(|error| FieldError::new("principal", error.code(), error.to_string()));
        }
        Err(FieldError::new(
            "principal",
            "invalid_principal",
            "Give an account's email address, or the id of an account or API key.",
        ))
    }
}

impl Roster {
    /// What the check form offers the caller (`account-read`, as every check of another
    /// principal needs): the API keys to pick from, with `apikey-manage`.
    ///
    /// # Errors
    /// `Forbidden`, `Unavailable`.
    pub async fn check_choices(&self, caller: &Authenticated) -> Result<CheckChoices, AppError> {
        caller.require_global(BuiltinAction::AccountRead)?;
        if caller.require_global(BuiltinAction::ApikeyManage).is_err() {
            return Ok(CheckChoices::default());
        }
        let page = self.list_api_keys(caller, None, CHECK_CHOICE_LIMIT).await?;
        let now = self.ports.clock.now();
        Ok(CheckChoices {
            api_keys: Some(
                page.keys
                    .into_iter()
                    .filter(|key| key.is_usable(now))
                    .collect(),
            ),
            more_api_keys: page.next_after.is_some(),
        })
    }

    /// Whether the principal the form names may do its action on its scope, and what decided
    /// (`account-read` on `*`, for the caller too: this is the administrators' tool).
    ///
    /// # Errors
    /// `Forbidden`; `Validation` (`principal`: `invalid_principal`, `invalid_email`,
    /// `unknown_principal`; `api_key_id`: `invalid_id`, `conflicting_subject`,
    /// `unknown_principal`; `action`, `scope` as [`Roster::check`]); `Unavailable`.
    pub async fn check_subject(
        &self,
        caller: &Authenticated,
        form: &SubjectCheckForm,
    ) -> Result<SubjectCheck, AppError> {
        caller.require_global(BuiltinAction::AccountRead)?;
        let mut check = CheckForm {
            action: form.action.trim().to_owned(),
            scope: form.scope.trim().to_owned(),
            account_id: None,
            api_key_id: None,
        };
        // Every problem at once, in the form's order.
        let mut errors = Vec::new();
        let field = if form.api_key_id.trim().is_empty() {
            "principal"
        } else {
            "api_key_id"
        };
        let subject = match form.wanted() {
            Ok(wanted) => match self.find_subject(caller, wanted, field).await {
                Ok(subject) => Some(subject),
                Err(AppError::Validation(problems)) => {
                    errors.extend(problems);
                    None
                }
                Err(other) => return Err(other),
            },
            Err(problem) => {
                errors.push(problem);
                None
            }
        };
        if let Err(AppError::Validation(problems)) = check.validate() {
            errors.extend(problems);
        }
        let Some(subject) = subject.filter(|_| errors.is_empty()) else {
            return Err(AppError::Validation(errors));
        };
        match &subject {
            CheckSubject::Caller => {}
            CheckSubject::Account(account) => check.account_id = Some(account.id.to_string()),
            CheckSubject::ApiKey { id, .. } => check.api_key_id = Some(id.to_string()),
        }
        let outcome = self.check(caller, &check).await?;
        Ok(SubjectCheck { subject, outcome })
    }

    /// The account or API key `wanted` names; `Validation` on `field` when there is none.
    async fn find_subject(
        &self,
        caller: &Authenticated,
        wanted: Wanted,
        field: &str,
    ) -> Result<CheckSubject, AppError> {
        let unknown = |message: &str| {
            AppError::Validation(vec![FieldError::new(field, "unknown_principal", message)])
        };
        match wanted {
            Wanted::Caller => Ok(CheckSubject::Caller),
            Wanted::Email(email) => self
                .list_accounts(caller, Some(email.as_str()), None, 1)
                .await?
                .accounts
                .into_iter()
                .next()
                .map(CheckSubject::Account)
                .ok_or_else(|| unknown("No account has this email address.")),
            Wanted::Account(id) => self
                .ports
                .accounts
                .find_by_id(id)
                .await?
                .map(CheckSubject::Account)
                .ok_or_else(|| unknown("No account has this id.")),
            Wanted::ApiKey(id) => self
                .api_key_subject(caller, id)
                .await?
                .ok_or_else(|| unknown("No API key has this id.")),
            Wanted::Either(uuid) => {
                match self.ports.accounts.find_by_id(AccountId::new(uuid)).await? {
                    Some(account) => Ok(CheckSubject::Account(account)),
                    None => self
                        .api_key_subject(caller, ApiKeyId::new(uuid))
                        .await?
                        .ok_or_else(|| unknown("No account or API key has this id.")),
                }
            }
        }
    }

    /// The API key `id` as a subject, named for a caller allowed `apikey-manage`.
    async fn api_key_subject(
        &self,
        caller: &Authenticated,
        id: ApiKeyId,
    ) -> Result<Option<CheckSubject>, AppError> {
        let may_name = caller.require_global(BuiltinAction::ApikeyManage).is_ok();
        Ok(self
            .ports
            .api_keys
            .find_api_key(id)
            .await?
            .map(|stored| CheckSubject::ApiKey {
                id,
                name: may_name.then_some(stored.key.name),
            }))
    }
}

#[cfg(test)]
mod tests;
