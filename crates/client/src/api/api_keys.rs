//! API keys: machine credentials holding exactly their own grants. Every route needs
//! `apikey-manage` on `*`. The key itself is answered once, at creation, as a secret.

use chrono::{DateTime, Utc};
use reqwest::Method;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::client::{Client, Retry};
use crate::error::Error;
use crate::types::{ApiKey, ApiKeyWithGrants, Grant, GrantRequest, Page, PageRequest};

/// `POST /v1/admin/api-keys`: a new key.
///
/// ```
/// use roster_client::NewApiKey;
///
/// let key = NewApiKey::new("issuer-berlin")
///     .expires_in("30d")
///     .grant("issuer-admin", "acme.berlin");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewApiKey {
    /// Its name, 1 to 200 characters.
    pub name: String,
    /// How long it lives: `<n>s|m|h|d|w` or an ISO 8601 duration (`P30D`), at most 3650
    /// days; `None` for a key that never expires (or, created by an expiring key, expires
    /// with it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<String>,
    /// Its own grants (it never inherits its creator's rights).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<GrantRequest>,
}

impl NewApiKey {
    /// A key named `name` that never expires and holds nothing.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            expires_in: None,
            grants: Vec::new(),
        }
    }

    /// Expiring after `duration` (`30d`, `12h`, `P1DT12H`).
    #[must_use]
    pub fn expires_in(mut self, duration: impl Into<String>) -> Self {
        self.expires_in = Some(duration.into());
        self
    }

    /// Holding `role` on `scope` as well.
    #[must_use]
    pub fn grant(mut self, role: impl Into<String>, scope: impl Into<String>) -> Self {
        self.grants.push(GrantRequest::new(role, scope));
        self
    }
}

/// A key just created: the only answer that holds its secret. `Debug` shows it redacted.
#[derive(Debug, Clone, Deserialize)]
pub struct CreatedApiKey {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// The bearer secret `rak_<id>_<secret>`: store it now, it is never shown again. Use it
    /// with [`Client::with_token`] or [`ClientBuilder::token`](crate::ClientBuilder::token).
    pub key: SecretString,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it expires, if ever (clamped to the creating key's expiry).
    pub expires_at: Option<DateTime<Utc>>,
    /// Its grants.
    pub grants: Vec<Grant>,
}

impl Client {
    /// `POST /v1/admin/api-keys`: creates a key. Never re-sent once sent: a second attempt
    /// would make a second key.
    pub async fn create_api_key(&self, key: &NewApiKey) -> Result<CreatedApiKey, Error> {
        self.call(
            Method::POST,
            "/v1/admin/api-keys",
            Some(key),
            Retry::OnlyUnsent,
        )
        .await
    }

    /// `GET /v1/admin/api-keys`: a page of keys, oldest first, revoked and expired ones
    /// included.
    pub async fn api_keys(&self, page: &PageRequest) -> Result<Page<ApiKey>, Error> {
        self.get_query("/v1/admin/api-keys", page).await
    }

    /// `GET /v1/admin/api-keys/{id}`: one key with every grant it holds.
    pub async fn api_key(&self, id: Uuid) -> Result<ApiKeyWithGrants, Error> {
        self.get(&format!("/v1/admin/api-keys/{id}")).await
    }

    /// `DELETE /v1/admin/api-keys/{id}`: the key, and every key it created, stop working at
    /// once. Revoking a revoked key changes nothing, so this is retried like a read.
    pub async fn revoke_api_key(&self, id: Uuid) -> Result<(), Error> {
        self.call_no_content(
            Method::DELETE,
            &format!("/v1/admin/api-keys/{id}"),
            None::<&()>,
            Retry::Safe,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;
    use serde_json::json;

    use super::*;

    #[test]
    fn a_created_key_reads_its_secret_and_never_shows_it() {
        let created: CreatedApiKey = serde_json::from_value(json!({
            "id": "0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c07", "name": "issuer",
            "key": "rak_0190b3e47f5a7c3d9a412f6d8e1b5c07_s3cr3tpart",
            "created_at": "2026-11-28T10:00:00Z", "expires_at": null, "grants": []}))
        .unwrap();
        assert!(created.key.expose_secret().ends_with("_s3cr3tpart"));
        let shown = format!("{created:?} {:?}", created.clone());
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("issuer"), "the rest is shown: {shown}");
    }

    #[test]
    fn a_new_key_leaves_out_what_it_does_not_set() {
        assert_eq!(
            serde_json::to_value(NewApiKey::new("ci")).unwrap(),
            json!({"name": "ci"})
        );
        assert_eq!(
            serde_json::to_value(NewApiKey::new("ci").expires_in("7d").grant("r", "*")).unwrap(),
            json!({"name": "ci", "expires_in": "7d", "grants": [{"role": "r", "scope": "*"}]})
        );
    }
}
