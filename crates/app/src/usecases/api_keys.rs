//! API keys for machine-to-machine calls: created, listed and revoked by holders of
//! `apikey-manage`. A key holds exactly its own grants, never its creator's rights.

use chrono::{DateTime, Utc};
use roster_domain::{ApiKeyId, BuiltinAction, DisplayName, PrincipalId, Rights};
use secrecy::SecretString;
use tracing::instrument;
use uuid::Uuid;

use super::grants::{GrantForm, describe_grants, parse_grant_forms};
use super::{Authenticated, HOUSEKEEPING_BATCH, Roster};
use crate::error::{AppError, FieldError};
use crate::lifetime::parse_lifetime;
use crate::model::{ApiKey, ApiKeyPage, AuditAction, GrantRecord, Missing, NewGrant, StoreError};

/// A freshly created key. `secret` is the bearer token, shown to the client exactly once.
#[derive(Debug)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub secret: SecretString,
    pub grants: Vec<NewGrant>,
}

/// A key with the grants it holds.
#[derive(Debug, Clone)]
pub struct ApiKeyDetails {
    pub key: ApiKey,
    pub grants: Vec<GrantRecord>,
}

impl Roster {
    /// Creates an API key named `name`, expiring after `expires_in` (see
    /// [`parse_lifetime`]) or never, holding `grants` (each checked as if granted later);
    /// all or nothing. A key created by an expiring key expires no later than its parent
    /// (see [`child_expiry`]).
    ///
    /// # Errors
    /// `Forbidden`, `MfaStepUpRequired`, `Validation` (`invalid_name`, `invalid_duration`,
    /// grant fields),
    /// `TooManyGrants`, `RoleNotFound`, `Unauthenticated` (the creator was disabled or
    /// revoked meanwhile), `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn create_api_key(
        &self,
        caller: &Authenticated,
        name: &str,
        expires_in: Option<&str>,
        grants: &[GrantForm],
    ) -> Result<CreatedApiKey, AppError> {
        caller.require_global(BuiltinAction::ApikeyManage)?;
        self.require_step_up(caller)?;
        let mut problems = Vec::new();
        let name = DisplayName::parse(name)
            .map_err(|e| problems.push(FieldError::new("name", e.code(), e.to_string())))
            .ok();
        let lifetime = expires_in
            .map(parse_lifetime)
            .transpose()
            .map_err(|e| {
                problems.push(FieldError::new(
                    "expires_in",
                    "invalid_duration",
                    e.to_string(),
                ));
            })
            .ok()
            .flatten();
        let grants = parse_grant_forms(grants)
            .map_err(|errors| problems.extend(errors))
            .unwrap_or_default();
        let Some(name) = name.filter(|_| problems.is_empty()) else {
            return Err(AppError::Validation(problems));
        };
        let grants = self.authorize_grants(caller, Rights::NONE, grants).await?;

        let id = ApiKeyId::new(Uuid::now_v7());
        let issued = self.ports.tokens.new_api_key(id);
        let now = self.ports.clock.now();
        let key = ApiKey {
            id,
            name: name.into_string(),
            created_at: now,
            created_by: Some(caller.principal.id),
            expires_at: child_expiry(lifetime.map(|lifetime| now + lifetime), caller.api_key()),
            last_used_at: None,
            revoked_at: None,
        };
        let audit = caller
            .audit(AuditAction::ApiKeyCreated, now)
            .target("api_key", id)
            .detail(format!("name {:?}; {}", key.name, describe_grants(&grants)));
        match self
            .ports
            .api_keys
            .insert_api_key(&key, &issued.digest, &grants, &audit)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Missing(Missing::Role)) => return Err(AppError::RoleNotFound),
            // Disabled or revoked while this request ran: as if it had been a moment earlier.
            Err(StoreError::Missing(Missing::Creator)) => return Err(AppError::Unauthenticated),
            Err(other) => return Err(other.into()),
        }
        tracing::info!(api_key_id = %key.id, created_by = %caller.principal.id, "api key created");
        Ok(CreatedApiKey {
            key,
            secret: issued.token,
            grants,
        })
    }

    /// Lists API keys in creation order, revoked and expired ones included.
    ///
    /// # Errors
    /// `Forbidden`, `Unavailable`.
    pub async fn list_api_keys(
        &self,
        caller: &Authenticated,
        after: Option<ApiKeyId>,
        limit: u32,
    ) -> Result<ApiKeyPage, AppError> {
        caller.require_global(BuiltinAction::ApikeyManage)?;
        Ok(self.ports.api_keys.list_api_keys(after, limit).await?)
    }

    /// One API key with its grants.
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Unavailable`.
    pub async fn api_key_details(
        &self,
        caller: &Authenticated,
        id: ApiKeyId,
    ) -> Result<ApiKeyDetails, AppError> {
        caller.require_global(BuiltinAction::ApikeyManage)?;
        let stored = self
            .ports
            .api_keys
            .find_api_key(id)
            .await?
            .ok_or(AppError::NotFound("api key"))?;
        let grants = self
            .ports
            .grants
            .list_grants(PrincipalId::ApiKey(id))
            .await?;
        Ok(ApiKeyDetails {
            key: stored.key,
            grants,
        })
    }

    /// Revokes a key at once, with every key it created; revoking a revoked key changes
    /// nothing. The caller must hold every right of the key and of each of those keys (no
    /// revoking a key that is worth more than the caller).
    ///
    /// # Errors
    /// `Forbidden`, `NotFound`, `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn revoke_api_key(
        &self,
        caller: &Authenticated,
        id: ApiKeyId,
    ) -> Result<ApiKey, AppError> {
        caller.require_global(BuiltinAction::ApikeyManage)?;
        let key = PrincipalId::ApiKey(id);
        let held = self.held_by(key).await?;
        self.require_may_act_on_with_keys(caller, key, &held)
            .await?;
        let now = self.ports.clock.now();
        let audit = caller
            .audit(AuditAction::ApiKeyRevoked, now)
            .target("api_key", id);
        let key = self
            .ports
            .api_keys
            .revoke_api_key(id, now, &audit)
            .await?
            .ok_or(AppError::NotFound("api key"))?;
        self.forget_introspectors();
        tracing::info!(api_key_id = %id, revoked_by = %caller.principal.id, "api key revoked");
        Ok(key)
    }

    /// Deletes keys revoked or expired more than [`DEAD_API_KEY_RETENTION`] ago, with their
    /// grants, a bounded batch per call (the periodic housekeeping calls it). Their story
    /// stays in the audit trail. A dead key that created a key still stored waits for it.
    ///
    /// # Errors
    /// `Unavailable`.
    pub async fn forget_dead_api_keys(&self) -> Result<usize, AppError> {
        let before = self.ports.clock.now() - DEAD_API_KEY_RETENTION;
        Ok(self
            .ports
            .api_keys
            .forget_dead_api_keys(before, HOUSEKEEPING_BATCH)
            .await?)
    }
}

/// How long a revoked or expired key stays listed (and answers `GET`) before it is deleted:
/// a quarter, to look into what it was and who held it.
pub const DEAD_API_KEY_RETENTION: chrono::Duration = chrono::Duration::days(90);

/// When a new key expires: as asked (`requested`, `None` for never), but never after the key
/// that creates it. A key's children never outlive it, so an expiring key cannot mint a
/// lasting one; the answer's `expires_at` shows the clamped time.
fn child_expiry(
    requested: Option<DateTime<Utc>>,
    parent: Option<&ApiKey>,
) -> Option<DateTime<Utc>> {
    match (requested, parent.and_then(|parent| parent.expires_at)) {
        (Some(requested), Some(cap)) => Some(requested.min(cap)),
        (None, cap) => cap,
        (requested, None) => requested,
    }
}

#[cfg(test)]
mod tests;
