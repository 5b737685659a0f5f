//! Reading the audit trail (`audit-read`). Events are written by the use case that acts,
//! in the same transaction where there is one (the features file's in `feature_reloads`).

use std::collections::HashMap;

use roster_domain::{AccountId, ApiKeyId, BuiltinAction, Email, PrincipalId};
use uuid::Uuid;

use super::{Authenticated, Roster};
use crate::error::{AppError, FieldError};
use crate::model::{AuditAction, AuditEvent, AuditPage, AuditQuery, AuditRange};

/// The audit trail's filters as a person types them (the console's filter form).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditTrailForm {
    /// Who acted: an account's email address, or a label `account:<id>` / `api_key:<id>`
    /// as events show them; empty for anyone.
    pub actor: String,
    /// An audit action's name (`grant.created`); empty for any.
    pub action: String,
    /// Continue with the events older than this one.
    pub before: Option<Uuid>,
    pub limit: u32,
}

/// A page of the audit trail with the names of the accounts and API keys it mentions.
#[derive(Debug, Clone, Default)]
pub struct AuditTrail {
    /// The actor the filter named, as the events label it (`account:<id>`).
    pub actor: Option<String>,
    pub events: Vec<AuditEvent>,
    /// The id to continue before, when older events follow.
    pub next_before: Option<Uuid>,
    pub names: PrincipalNames,
}

/// Who the labels in events are: account emails (given to callers allowed `account-read`
/// on `*`) and API key names (given to callers allowed `apikey-manage` on `*`). A label the
/// caller may not resolve, or whose account or key no longer exists, is not here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrincipalNames {
    pub accounts: HashMap<AccountId, Email>,
    pub api_keys: HashMap<ApiKeyId, String>,
}

impl Roster {
    /// Events newest first, optionally of one actor or one action.
    ///
    /// # Errors
    /// `Forbidden`, `Unavailable`.
    pub async fn audit_events(
        &self,
        caller: &Authenticated,
        query: &AuditQuery,
    ) -> Result<AuditPage, AppError> {
        caller.require_global(BuiltinAction::AuditRead)?;
        Ok(self.ports.audit.list_audit_events(query).await?)
    }

    /// A page of an export (`audit-read`): at most `limit` events of `range`, oldest first,
    /// after the event `after`. The HTTP layer streams page after page.
    ///
    /// # Errors
    /// `Forbidden`, `Unavailable`.
    pub async fn audit_export_page(
        &self,
        caller: &Authenticated,
        range: AuditRange,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, AppError> {
        caller.require_global(BuiltinAction::AuditRead)?;
        Ok(self
            .ports
            .audit
            .audit_events_oldest_first(range, after, i64::from(limit))
            .await?)
    }

    /// The audit trail for people (`audit-read`): the filters as typed (an actor may be given
    /// by email, looked up through [`Roster::list_accounts`], so that needs `account-read`),
    /// and the events with who their labels name, as far as the caller may know.
    ///
    /// # Errors
    /// `Forbidden`; `Validation` (`actor`: `invalid_actor`, `invalid_email`,
    /// `unknown_account`, `forbidden`; `action`: `unknown_action`); `Unavailable`.
    pub async fn audit_trail(
        &self,
        caller: &Authenticated,
        form: &AuditTrailForm,
    ) -> Result<AuditTrail, AppError> {
        caller.require_global(BuiltinAction::AuditRead)?;
        // Every problem at once, in the form's order.
        let mut errors = Vec::new();
        let actor = match self.actor_label(caller, form.actor.trim()).await {
            Ok(actor) => actor,
            Err(AppError::Validation(problems)) => {
                errors.extend(problems);
                None
            }
            Err(other) => return Err(other),
        };
        let action = match form.action.trim() {
            "" => None,
            name => AuditAction::parse(name).or_else(|| {
                errors.push(FieldError::new(
                    "action",
                    "unknown_action",
                    "Not an audit action: pick one from the list.",
                ));
                None
            }),
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let query = AuditQuery {
            actor: actor.clone(),
            action,
            before: form.before,
            limit: form.limit,
        };
        let page = self.audit_events(caller, &query).await?;
        let names = self.principal_names(caller, &page.events).await?;
        Ok(AuditTrail {
            actor,
            events: page.events,
            next_before: page.next_before,
            names,
        })
    }

    /// The label events carry for the actor typed as `text`; `Validation` naming `actor`
    /// when it names nobody.
    async fn actor_label(
        &self,
        caller: &Authenticated,
        text: &str,
    ) -> Result<Option<String>, AppError> {
        let problem = |code, message: String| {
            Err(AppError::Validation(vec![FieldError::new(
                "actor", code, message,
            )]))
        };
        if text.is_empty() {
            return Ok(None);
        }
        if let Some(id) = PrincipalId::parse(text) {
            return Ok(Some(id.to_string()));
        }
        if !text.contains('@') {
            return problem(
                "invalid_actor",
                "Give an email address, or a label as the events show it \
                 (account:<id> or api_key:<id>)."
                    .to_owned(),
            );
        }
        if let Err(error) = Email::parse(text) {
            return problem(error.code(), error.to_string());
        }
        match self.list_accounts(caller, Some(text), None, 1).await {
            Ok(page) => match page.accounts.first() {
                Some(account) => Ok(Some(PrincipalId::Account(account.id).to_string())),
                None => problem(
                    "unknown_account",
                    "No account has this email address.".to_owned(),
                ),
            },
            Err(AppError::Forbidden) => problem(
                "forbidden",
                "Looking an account up by email needs the account-read permission: give its \
                 label instead (account:<id>, as the events show it)."
                    .to_owned(),
            ),
            Err(other) => Err(other),
        }
    }

    /// Who the events' labels name, as far as the caller may see: emails with `account-read`,
    /// API key names with `apikey-manage`. One lookup per distinct principal on the page.
    async fn principal_names(
        &self,
        caller: &Authenticated,
        events: &[AuditEvent],
    ) -> Result<PrincipalNames, AppError> {
        let may_read_accounts = caller.require_global(BuiltinAction::AccountRead).is_ok();
        let may_read_keys = caller.require_global(BuiltinAction::ApikeyManage).is_ok();
        let mut names = PrincipalNames::default();
        let mut asked = Vec::new();
        for id in events.iter().flat_map(AuditEvent::principals) {
            if asked.contains(&id) {
                continue;
            }
            asked.push(id);
            match id {
                PrincipalId::Account(account_id) if may_read_accounts => {
                    if let Some(account) = self.ports.accounts.find_by_id(account_id).await? {
                        names.accounts.insert(account_id, account.email);
                    }
                }
                PrincipalId::ApiKey(key_id) if may_read_keys => {
                    if let Some(stored) = self.ports.api_keys.find_api_key(key_id).await? {
                        names.api_keys.insert(key_id, stored.key.name);
                    }
                }
                PrincipalId::Account(_) | PrincipalId::ApiKey(_) => {}
            }
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests;
