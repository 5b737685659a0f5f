//! The body of `POST /v1/auth/introspect`, written straight from the use case's answer.
//!
//! Services introspect on the requests they serve, and an answer carries every grant of the
//! principal with its role's rules (up to `grants.max_per_holder`). Building the documented
//! DTOs ([`ActiveTokenDto`](crate::dto::ActiveTokenDto)) first would allocate a string for
//! every id, role, scope and rule only to copy it into the output and free it; this writes
//! each value into the output as it goes. The DTOs stay the documented shape, and a test
//! below holds the two byte for byte equal.

use std::fmt::Display;

use roster_app::{ActiveToken, Introspection, TokenHolder};
use roster_domain::{DisplayName, Grant, Permission};
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use uuid::Uuid;

use crate::dto::timestamp;

/// The answer: `{"active": false}`, or the active token.
pub struct IntrospectionBody<'a>(pub &'a Introspection);

impl IntrospectionBody<'_> {
    /// The JSON, written into a buffer sized for it up front: growing one from empty would
    /// copy the answer several times over.
    ///
    /// # Errors
    /// Only if a value's `Display` fails, which none of the written values' does.
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        let capacity = match self.0 {
            Introspection::Inactive => 16,
            Introspection::Active(token) => {
                let rules: usize = token.grants.iter().map(|g| g.permissions.len()).sum();
                384 + 160 * token.grants.len() + 64 * rules
            }
        };
        let mut json = Vec::with_capacity(capacity);
        serde_json::to_writer(&mut json, self)?;
        Ok(json)
    }
}

impl Serialize for IntrospectionBody<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Introspection::Active(token) = self.0 else {
            let mut map = serializer.serialize_map(Some(1))?;
            map.serialize_entry("active", &false)?;
            return map.end();
        };
        let mut map = serializer.serialize_map(Some(5))?;
        map.serialize_entry("active", &true)?;
        map.serialize_entry("principal", &Holder(&token.holder))?;
        map.serialize_entry("grants", &Grants(token))?;
        map.serialize_entry("grants_version", &token.grants_version)?;
        map.serialize_entry("expires_at", &token.expires_at.map(timestamp))?;
        map.end()
    }
}

/// A value written through its `Display`, without a `String` in between.
struct Text<T>(T);

/// A UUID in its hyphenated lower-case form, encoded on the stack: `Display` would go
/// through the formatting machinery and serde_json's escaping adapter, piece by piece.
struct Id<'a>(&'a Uuid);

impl Serialize for Id<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.hyphenated().encode_lower(&mut Uuid::encode_buffer()))
    }
}

impl<T: Display> Serialize for Text<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

struct Holder<'a>(&'a TokenHolder);

impl Serialize for Holder<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            TokenHolder::Account(account) => {
                let mut map = serializer.serialize_map(Some(5))?;
                map.serialize_entry("kind", "account")?;
                map.serialize_entry("id", &Id(account.id.as_uuid()))?;
                map.serialize_entry("email", account.email.as_str())?;
                map.serialize_entry("name", &account.name.as_ref().map(DisplayName::as_str))?;
                map.serialize_entry("is_superadmin", &account.is_superadmin)?;
                map.end()
            }
            TokenHolder::ApiKey(key) => {
                let mut map = serializer.serialize_map(Some(5))?;
                map.serialize_entry("kind", "api_key")?;
                map.serialize_entry("id", &Id(key.id.as_uuid()))?;
                map.serialize_entry("name", &key.name)?;
                map.serialize_entry("created_by", &key.created_by.map(Text))?;
                map.serialize_entry("expires_at", &key.expires_at.map(timestamp))?;
                map.end()
            }
        }
    }
}

struct Grants<'a>(&'a ActiveToken);

impl Serialize for Grants<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.grants.len()))?;
        for grant in self.0.grants.iter() {
            seq.serialize_element(&GrantWithRules(grant))?;
        }
        seq.end()
    }
}

struct GrantWithRules<'a>(&'a Grant);

impl Serialize for GrantWithRules<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let grant = self.0;
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("id", &Id(grant.id.as_uuid()))?;
        map.serialize_entry("role", grant.role.as_str())?;
        map.serialize_entry("scope", &Text(&grant.scope))?;
        map.serialize_entry("permissions", &Rules(&grant.permissions))?;
        map.end()
    }
}

struct Rules<'a>(&'a [Permission]);

impl Serialize for Rules<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for rule in self.0 {
            seq.serialize_element(&Rule(rule))?;
        }
        seq.end()
    }
}

struct Rule<'a>(&'a Permission);

impl Serialize for Rule<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("action", &Text(&self.0.pattern))?;
        map.serialize_entry("effect", self.0.effect.as_str())?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::{TimeZone, Utc};
    use roster_app::model::ApiKey;
    use roster_domain::{
        Account, AccountId, AccountStatus, ActionPattern, ApiKeyId, DisplayName, Email, GrantId,
        PrincipalId, RoleName, ScopePath,
    };

    use super::*;
    use crate::dto::IntrospectionResponse;

    fn grants() -> Arc<[Grant]> {
        let rules = vec![
            Permission::allow(ActionPattern::parse("issuer-*").unwrap()),
            Permission::deny(ActionPattern::parse("issuer-key-delete").unwrap()),
            Permission::allow(ActionPattern::parse("all").unwrap()),
        ];
        vec![
            Grant {
                id: GrantId::new(Uuid::from_u128(1)),
                role: RoleName::parse("issuer-admin").unwrap(),
                scope: ScopePath::parse("acme.*.dev").unwrap(),
                permissions: rules,
            },
            Grant {
                id: GrantId::new(Uuid::from_u128(2)),
                role: RoleName::parse("empty").unwrap(),
                scope: ScopePath::root(),
                permissions: Vec::new(),
            },
        ]
        .into()
    }

    fn account(name: Option<&str>) -> TokenHolder {
        let at = Utc.with_ymd_and_hms(2026, 12, 6, 10, 0, 0).unwrap();
        TokenHolder::Account(Account {
            id: AccountId::new(Uuid::from_u128(7)),
            email: Email::parse("Ada@Example.com").unwrap(),
            name: name.map(|name| DisplayName::parse(name).unwrap()),
            status: AccountStatus::Active,
            is_superadmin: name.is_none(),
            email_verified: true,
            has_second_factor: false,
            created_at: at,
            updated_at: at,
        })
    }

    fn api_key(expires: bool) -> TokenHolder {
        let at = Utc.with_ymd_and_hms(2026, 12, 6, 10, 0, 0).unwrap();
        TokenHolder::ApiKey(ApiKey {
            id: ApiKeyId::new(Uuid::from_u128(9)),
            name: "issuer \u{e9}\"berlin\"".to_owned(),
            created_at: at,
            created_by: expires.then(|| PrincipalId::Account(AccountId::new(Uuid::from_u128(7)))),
            expires_at: expires.then_some(at),
            last_used_at: None,
            revoked_at: None,
        })
    }

    #[test]
    fn the_body_is_the_documented_dto_byte_for_byte() {
        let at = Utc.with_ymd_and_hms(2026, 12, 6, 11, 30, 0).unwrap();
        let mut answers = vec![Introspection::Inactive];
        for holder in [
            account(Some("Ada \\ Lovelace")),
            account(None),
            api_key(true),
            api_key(false),
        ] {
            for expires_at in [Some(at), None] {
                answers.push(Introspection::Active(ActiveToken {
                    holder: holder.clone(),
                    grants: grants(),
                    grants_version: 42,
                    expires_at,
                }));
            }
        }
        for answer in &answers {
            let direct = String::from_utf8(IntrospectionBody(answer).to_json().unwrap()).unwrap();
            let documented = serde_json::to_string(&IntrospectionResponse::from(answer)).unwrap();
            assert_eq!(direct, documented);
        }
    }
}
