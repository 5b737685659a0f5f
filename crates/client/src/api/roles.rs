//! Roles: named sets of rules that grants give on a scope. Every route needs `role-manage`
//! on `*`. Names come from callers, so each goes into its path as one encoded segment.

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::{Client, Retry, segment};
use crate::error::Error;
use crate::types::{Page, PageRequest, Rule};

/// A role as Roster answers it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Role {
    /// Its name, `[a-z0-9][a-z0-9_-]*`, at most 64 characters; never renamed.
    pub name: String,
    /// What it is for (empty when none was given).
    pub description: String,
    /// Its rules, each with its effect.
    pub permissions: Vec<Rule>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its description or rules last changed.
    pub updated_at: DateTime<Utc>,
}

/// `POST /v1/admin/roles`: a new role.
///
/// ```
/// use roster_client::{NewRole, Rule};
///
/// let issuer = NewRole::new("issuer-admin", vec![Rule::allow("issuer-*")])
///     .description("Runs the issuer of a tenant.");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewRole {
    /// Its name, `[a-z0-9][a-z0-9_-]*`, at most 64 characters.
    pub name: String,
    /// What it is for; left out when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// At most 256 rules.
    pub permissions: Vec<Rule>,
}

impl NewRole {
    /// A role named `name` with these rules and no description.
    pub fn new(name: impl Into<String>, permissions: Vec<Rule>) -> Self {
        Self {
            name: name.into(),
            description: None,
            permissions,
        }
    }

    /// With this description.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

/// `PUT /v1/admin/roles/{name}`: everything a role holds but its name, which the path gives
/// (roles are not renamed). It replaces the role's description and rules as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleContent {
    /// The new description; `None` leaves the role without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The new rules (at most 256).
    pub permissions: Vec<Rule>,
}

impl RoleContent {
    /// These rules and no description.
    pub fn new(permissions: Vec<Rule>) -> Self {
        Self {
            description: None,
            permissions,
        }
    }

    /// With this description.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

impl Client {
    /// `GET /v1/admin/roles`: a page of roles in name order (the cursor is a role name).
    pub async fn roles(&self, page: &PageRequest) -> Result<Page<Role>, Error> {
        self.get_query("/v1/admin/roles", page).await
    }

    /// `GET /v1/admin/roles/{name}`: one role.
    pub async fn role(&self, name: &str) -> Result<Role, Error> {
        self.get(&format!("/v1/admin/roles/{}", segment(name)))
            .await
    }

    /// `POST /v1/admin/roles`: creates a role (409 `role_exists` when the name is taken).
    /// Never re-sent once sent.
    pub async fn create_role(&self, role: &NewRole) -> Result<Role, Error> {
        self.call(
            Method::POST,
            "/v1/admin/roles",
            Some(role),
            Retry::OnlyUnsent,
        )
        .await
    }

    /// `PUT /v1/admin/roles/{name}`: replaces the role's description and rules; every
    /// holder sees the new rules from its next request. Never re-sent once sent: a repeat
    /// arriving after another admin's replacement would restore rules they just removed.
    pub async fn replace_role(&self, name: &str, content: &RoleContent) -> Result<Role, Error> {
        self.call(
            Method::PUT,
            &format!("/v1/admin/roles/{}", segment(name)),
            Some(content),
            Retry::OnlyUnsent,
        )
        .await
    }

    /// `DELETE /v1/admin/roles/{name}`: deletes a role nobody holds (409 `role_in_use`
    /// otherwise). Retried like a read.
    pub async fn delete_role(&self, name: &str) -> Result<(), Error> {
        self.call_no_content(
            Method::DELETE,
            &format!("/v1/admin/roles/{}", segment(name)),
            None::<&()>,
            Retry::Safe,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_role_without_description_sends_none() {
        let role = NewRole::new("viewer", vec![Rule::allow("doc-read"), Rule::deny("doc-*")]);
        assert_eq!(
            serde_json::to_value(&role).unwrap(),
            json!({"name": "viewer", "permissions": [
                {"action": "doc-read", "effect": "allow"},
                {"action": "doc-*", "effect": "deny"}]})
        );
        assert_eq!(
            serde_json::to_value(RoleContent::new(Vec::new()).description("Reads.")).unwrap(),
            json!({"description": "Reads.", "permissions": []})
        );
    }
}
