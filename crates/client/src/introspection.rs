//! `POST /v1/auth/introspect`: what Roster says about a token presented to a service, and
//! the `roster-domain` principal a service rebuilds from it to decide locally.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use roster_domain::{
    AccountId, ActionPattern, ApiKeyId, Grant, GrantId, Permission, Principal, PrincipalId,
    RoleName, ScopePath,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Error;
use crate::types::Effect;

/// Roster's answer about a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Introspection {
    /// The token can be used now; whose it is and what it holds.
    Active(Box<ActiveToken>),
    /// Unknown, expired, idle, revoked, of a disabled account, held back by the MFA policy,
    /// or malformed: Roster says no more, by design.
    Inactive,
}

/// A usable token: everything needed to decide locally.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ActiveToken {
    /// Whose token it is.
    pub principal: IntrospectedPrincipal,
    /// Every grant of the principal, each with its role's rules.
    pub grants: Vec<IntrospectedGrant>,
    /// Rises with every change to what the grants allow; equal versions mean equal grants.
    pub grants_version: i64,
    /// The session's absolute expiry (it can end sooner), or the API key's; `None` for a key
    /// that does not expire.
    pub expires_at: Option<DateTime<Utc>>,
}

/// The account behind a session token, or an API key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IntrospectedPrincipal {
    /// A person's session.
    Account {
        /// The account's id.
        id: Uuid,
        /// Its email address, as registered.
        email: String,
        /// Its display name.
        name: Option<String>,
        /// Super admins are allowed everything.
        is_superadmin: bool,
    },
    /// A machine's API key (never a super admin).
    ApiKey {
        /// The key's id.
        id: Uuid,
        /// Its name.
        name: String,
        /// `account:<uuid>` or `api_key:<uuid>` of its creator.
        created_by: Option<String>,
        /// When the key expires, if ever.
        expires_at: Option<DateTime<Utc>>,
    },
}

impl IntrospectedPrincipal {
    /// The id as `roster-domain` names it.
    pub fn id(&self) -> PrincipalId {
        match self {
            IntrospectedPrincipal::Account { id, .. } => PrincipalId::Account(AccountId::new(*id)),
            IntrospectedPrincipal::ApiKey { id, .. } => PrincipalId::ApiKey(ApiKeyId::new(*id)),
        }
    }

    /// Whether this is a super admin's session.
    pub fn is_superadmin(&self) -> bool {
        matches!(
            self,
            IntrospectedPrincipal::Account {
                is_superadmin: true,
                ..
            }
        )
    }
}

/// A grant with its role's rules. Unknown fields are refused rather than ignored: a field a
/// newer Roster adds to a grant could restrict it, and deciding without it would be guessing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntrospectedGrant {
    /// The grant's id.
    pub id: Uuid,
    /// The granted role.
    pub role: String,
    /// Where it applies: this scope and everything beneath.
    pub scope: String,
    /// The role's rules.
    pub permissions: Vec<IntrospectedRule>,
}

/// One rule of an introspected grant. Unlike [`Rule`](crate::Rule) in requests, the effect
/// is required: a rule without one is refused, never read as an allow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntrospectedRule {
    /// An action, `all`, or a prefix ending in `*`.
    pub action: String,
    /// Allow or deny.
    pub effect: Effect,
}

impl ActiveToken {
    /// The principal as `roster-domain` evaluates it. Fails only when Roster answered a
    /// role, scope or action this version of `roster-domain` cannot read, in which case
    /// deciding locally would be guessing.
    pub fn principal(&self) -> Result<Principal, Error> {
        let grants = self
            .grants
            .iter()
            .map(IntrospectedGrant::to_domain)
            .collect::<Result<Vec<Grant>, String>>()
            .map_err(|message| Error::UnexpectedAnswer {
                status: 200,
                message,
            })?;
        Ok(Principal {
            id: self.principal.id(),
            is_superadmin: self.principal.is_superadmin(),
            grants: Arc::from(grants),
        })
    }
}

impl IntrospectedGrant {
    fn to_domain(&self) -> Result<Grant, String> {
        let unreadable = |what: &str, value: &str, error: &dyn std::fmt::Display| {
            format!("grant {}: {what} {value:?}: {error}", self.id)
        };
        let permissions = self
            .permissions
            .iter()
            .map(|rule| {
                let pattern = ActionPattern::parse(&rule.action)
                    .map_err(|error| unreadable("action", &rule.action, &error))?;
                Ok(match rule.effect {
                    Effect::Deny => Permission::deny(pattern),
                    Effect::Allow => Permission::allow(pattern),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Grant {
            id: GrantId::new(self.id),
            role: RoleName::parse(&self.role)
                .map_err(|error| unreadable("role", &self.role, &error))?,
            scope: ScopePath::parse(&self.scope)
                .map_err(|error| unreadable("scope", &self.scope, &error))?,
            permissions,
        })
    }
}

/// The wire form: `{"active": false}`, or `{"active": true, ...}`, read in two steps so that
/// an unreadable active answer says what is wrong with it.
#[derive(Deserialize)]
#[serde(transparent)]
pub(crate) struct IntrospectionBody(serde_json::Value);

impl TryFrom<IntrospectionBody> for Introspection {
    type Error = Error;

    fn try_from(IntrospectionBody(body): IntrospectionBody) -> Result<Self, Error> {
        let unreadable = |message: String| Error::UnexpectedAnswer {
            status: 200,
            message,
        };
        match body.get("active").and_then(serde_json::Value::as_bool) {
            Some(false) => Ok(Introspection::Inactive),
            Some(true) => serde_json::from_value(body)
                .map(|token| Introspection::Active(Box::new(token)))
                .map_err(|error| unreadable(format!("an active token's answer: {error}"))),
            None => Err(unreadable("an answer without `active`".to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use roster_domain::Action;

    use super::*;

    fn parse(json: &str) -> Result<Introspection, Error> {
        let body: IntrospectionBody = serde_json::from_str(json).unwrap();
        Introspection::try_from(body)
    }

    fn read(json: &str) -> Introspection {
        parse(json).unwrap()
    }

    const ACCOUNT: &str = r#""principal":{"kind":"account","id":"0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c07",
        "email":"a@example.com","name":null,"is_superadmin":false}"#;

    #[test]
    fn a_rule_without_its_effect_or_with_an_unknown_field_is_refused_not_allowed() {
        for rule in [
            r#"{"action":"issuer-sign"}"#,
            r#"{"action":"issuer-sign","effect":null}"#,
            r#"{"action":"issuer-sign","effect":"allow","unless":"weekend"}"#,
        ] {
            let answer = format!(
                r#"{{"active":true,{ACCOUNT},"grants_version":1,"expires_at":null,
                    "grants":[{{"id":"0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c08","role":"r",
                                "scope":"acme","permissions":[{rule}]}}]}}"#
            );
            let error = parse(&answer).unwrap_err();
            assert!(
                matches!(&error, Error::UnexpectedAnswer { message, .. } if message.contains("active token")),
                "{rule}: {error}"
            );
        }
        let restricted_grant = format!(
            r#"{{"active":true,{ACCOUNT},"grants_version":1,"expires_at":null,
                "grants":[{{"id":"0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c08","role":"r",
                            "scope":"acme","permissions":[],"not_after":"2026-12-06T10:00:00Z"}}]}}"#
        );
        assert!(
            parse(&restricted_grant).is_err(),
            "a grant field unknown here"
        );
        assert!(parse(r#"{"token":"x"}"#).is_err(), "no `active`");
    }

    #[test]
    fn an_inactive_answer_reads_as_inactive() {
        assert_eq!(read(r#"{"active":false}"#), Introspection::Inactive);
    }

    #[test]
    fn an_active_answer_becomes_a_principal_that_decides_like_roster() {
        let answer = read(
            r#"{"active":true,
                "principal":{"kind":"api_key","id":"0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c07",
                             "name":"issuer","created_by":null,"expires_at":null},
                "grants":[{"id":"0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c08","role":"issuer-admin",
                           "scope":"acme","permissions":[
                               {"action":"issuer-*","effect":"allow"},
                               {"action":"issuer-key-delete","effect":"deny"}]}],
                "grants_version":3,"expires_at":null}"#,
        );
        let Introspection::Active(token) = answer else {
            panic!("active expected");
        };
        let principal = token.principal().unwrap();
        let berlin = ScopePath::parse("acme.berlin").unwrap();
        assert!(principal.allows(&Action::parse("issuer-sign").unwrap(), &berlin));
        assert!(!principal.allows(&Action::parse("issuer-key-delete").unwrap(), &berlin));
        assert!(!principal.allows(
            &Action::parse("issuer-sign").unwrap(),
            &ScopePath::parse("globex").unwrap()
        ));
        assert!(matches!(principal.id, PrincipalId::ApiKey(_)));
    }

    #[test]
    fn a_grant_this_domain_cannot_read_is_an_error_not_a_guess() {
        let answer = read(
            r#"{"active":true,
                "principal":{"kind":"account","id":"0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c07",
                             "email":"a@example.com","name":null,"is_superadmin":false},
                "grants":[{"id":"0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c08","role":"r",
                           "scope":"Not A Scope","permissions":[]}],
                "grants_version":1,"expires_at":"2026-12-06T10:00:00Z"}"#,
        );
        let Introspection::Active(token) = answer else {
            panic!("active expected");
        };
        assert!(matches!(
            token.principal(),
            Err(Error::UnexpectedAnswer { .. })
        ));
    }
}
