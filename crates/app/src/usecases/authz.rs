//! `POST /v1/authz/check`: may this principal perform this action on this scope?

use roster_domain::{Action, BuiltinAction, Decision, Principal, PrincipalId, ScopePath};
use tracing::instrument;

use super::caller::{principal_of_account, principal_of_api_key};
use super::{Authenticated, Roster};
use crate::error::{AppError, FieldError};

/// A check as a client sends it, not yet validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckForm {
    pub action: String,
    pub scope: String,
    pub account_id: Option<String>,
    pub api_key_id: Option<String>,
}

/// The answer, with what decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    /// Evaluated over the principal's grants.
    Decided(Decision),
    /// The principal exists but cannot act at all (a disabled account, a revoked or expired
    /// API key): denied whatever its grants say.
    Inactive,
}

impl CheckOutcome {
    pub fn is_allowed(&self) -> bool {
        matches!(self, CheckOutcome::Decided(decision) if decision.is_allowed())
    }
}

impl CheckForm {
    pub(super) fn validate(&self) -> Result<(Action, ScopePath, Option<PrincipalId>), AppError> {
        let mut errors = Vec::new();
        let action = Action::parse(&self.action)
            .map_err(|e| errors.push(FieldError::new("action", e.code(), e.to_string())))
            .ok();
        let scope = match ScopePath::parse(&self.scope) {
            Ok(scope) if scope.is_concrete() => Some(scope),
            Ok(_) => {
                errors.push(FieldError::new(
                    "scope",
                    "wildcard_scope",
                    "a checked scope names one place: no `*` segment",
                ));
                None
            }
            Err(e) => {
                errors.push(FieldError::new("scope", e.code(), e.to_string()));
                None
            }
        };
        let id_error = |field: &str| FieldError::new(field, "invalid_id", "not a UUID");
        let subject = match (&self.account_id, &self.api_key_id) {
            (Some(_), Some(_)) => {
                errors.push(FieldError::new(
                    "api_key_id",
                    "conflicting_subject",
                    "give account_id or api_key_id, not both",
                ));
                None
            }
            (Some(id), None) => id
                .parse()
                .map(PrincipalId::Account)
                .map_err(|_| errors.push(id_error("account_id")))
                .ok(),
            (None, Some(id)) => id
                .parse()
                .map(PrincipalId::ApiKey)
                .map_err(|_| errors.push(id_error("api_key_id")))
                .ok(),
            (None, None) => None,
        };
        match (action, scope) {
            (Some(action), Some(scope)) if errors.is_empty() => Ok((action, scope, subject)),
            _ => Err(AppError::Validation(errors)),
        }
    }
}

impl Roster {
    /// Checks the caller, or with `account-read` on `*` another account or API key.
    ///
    /// # Errors
    /// `Validation`, `Forbidden`, `NotFound`, `Unavailable`.
    // A debug-level span: this runs on every check, and an enabled span costs more than the
    // evaluation itself.
    #[instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn check(
        &self,
        caller: &Authenticated,
        form: &CheckForm,
    ) -> Result<CheckOutcome, AppError> {
        let (action, scope, subject) = form.validate()?;
        let loaded;
        let principal = match subject {
            None => &caller.principal,
            Some(subject) if subject == caller.principal.id => &caller.principal,
            Some(subject) => {
                caller.require_global(BuiltinAction::AccountRead)?;
                loaded = match self.load_principal(subject).await? {
                    Some(principal) => principal,
                    None => return Ok(CheckOutcome::Inactive),
                };
                &loaded
            }
        };
        // One check per request: evaluating the grants directly costs less than compiling
        // them first (see docs/performance.md); `explain` handles super admins.
        Ok(CheckOutcome::Decided(principal.explain(&action, &scope)))
    }

    /// The principal with its grants; `None` when it exists but cannot act.
    async fn load_principal(&self, id: PrincipalId) -> Result<Option<Principal>, AppError> {
        match id {
            PrincipalId::Account(account_id) => {
                let found = self.account_with_grants(account_id).await?;
                if !found.account.can_log_in() {
                    return Ok(None);
                }
                Ok(Some(principal_of_account(&found.account, found.grants)))
            }
            PrincipalId::ApiKey(key_id) => {
                let stored = self
                    .ports
                    .api_keys
                    .find_api_key(key_id)
                    .await?
                    .ok_or(AppError::NotFound("api key"))?;
                if !stored.key.is_usable(self.ports.clock.now()) {
                    return Ok(None);
                }
                Ok(Some(principal_of_api_key(&stored.key, stored.grants)))
            }
        }
    }
}

#[cfg(test)]
mod tests;
