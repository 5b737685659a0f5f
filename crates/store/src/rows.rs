//! Row structs, private to the adapter, and their conversions to domain types.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use roster_app::model::{
    ApiKey, AuthMethods, PasswordHash, SessionId, SessionSummary, StoreError, TokenDigest,
};
use roster_domain::{
    Account, AccountId, AccountStatus, ActionPattern, ApiKeyId, DisplayName, Effect, Email, Grant,
    GrantId, Permission, PrincipalId, RoleName, ScopePath,
};
use serde::{Deserialize, Serialize};

use crate::errors::corrupt;
use crate::schema::{accounts, api_keys, sessions};

/// One page of a list read with `limit + 1` rows: the first `limit` rows converted, and the
/// cursor (`key` of the last item) when the extra row shows that more follow.
pub(crate) fn page<R, T, K>(
    rows: Vec<R>,
    limit: u32,
    convert: impl FnMut(R) -> Result<T, StoreError>,
    key: impl Fn(&T) -> K,
) -> Result<(Vec<T>, Option<K>), StoreError> {
    let more = rows.len() > limit as usize;
    let items = rows
        .into_iter()
        .take(limit as usize)
        .map(convert)
        .collect::<Result<Vec<_>, _>>()?;
    let next = if more { items.last().map(key) } else { None };
    Ok((items, next))
}

pub(crate) fn to_db_time(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc()
}

pub(crate) fn from_db_time(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

/// Column order must match `schema::accounts`.
#[derive(Debug, Queryable)]
pub(crate) struct AccountRow {
    pub id: String,
    pub email: String,
    pub email_canonical: String,
    pub name: Option<String>,
    pub password_hash: String,
    pub status: String,
    pub is_superadmin: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Raised with every change to the account's grants (see `grants_cache`).
    pub grants_version: i64,
    pub email_verified: bool,
    pub has_second_factor: bool,
}

impl AccountRow {
    pub fn into_account(self) -> Result<(Account, PasswordHash), StoreError> {
        let account = AccountWithoutHashRow {
            id: self.id,
            email: self.email,
            email_canonical: self.email_canonical,
            name: self.name,
            status: self.status,
            is_superadmin: self.is_superadmin,
            created_at: self.created_at,
            updated_at: self.updated_at,
            grants_version: self.grants_version,
            email_verified: self.email_verified,
            has_second_factor: self.has_second_factor,
        }
        .into_account()?;
        Ok((account, PasswordHash::new(self.password_hash)))
    }
}

/// Every column of `accounts` but the password hash, selected by name
/// (`AccountWithoutHashRow::as_select()`), for reads that check no password: the session
/// lookup behind every authenticated request has no use for the hash, so it never loads it.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub(crate) struct AccountWithoutHashRow {
    pub id: String,
    pub email: String,
    pub email_canonical: String,
    pub name: Option<String>,
    pub status: String,
    pub is_superadmin: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Raised with every change to the account's grants (see `grants_cache`).
    pub grants_version: i64,
    pub email_verified: bool,
    pub has_second_factor: bool,
}

impl AccountWithoutHashRow {
    pub fn into_account(self) -> Result<Account, StoreError> {
        let id = self
            .id
            .parse::<AccountId>()
            .map_err(|e| corrupt("account id", e))?;
        // `parse_stored`: an address or name accepted before the look-alike rules still loads.
        let email = Email::parse_stored(&self.email).map_err(|e| corrupt("email", e))?;
        if email.canonical() != self.email_canonical {
            // The canonical form is recomputed on read; a mismatch means the normalization
            // rules changed and a data migration is due. Keep serving, but say so.
            tracing::warn!(account_id = %id, "stored canonical email differs from the current normalization");
        }
        let name = self
            .name
            .as_deref()
            .map(DisplayName::parse_stored)
            .transpose()
            .map_err(|e| corrupt("name", e))?;
        let status =
            AccountStatus::parse(&self.status).ok_or_else(|| corrupt("status", &self.status))?;
        Ok(Account {
            id,
            email,
            name,
            status,
            is_superadmin: self.is_superadmin,
            email_verified: self.email_verified,
            has_second_factor: self.has_second_factor,
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
        })
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = accounts)]
pub(crate) struct NewAccountRow<'a> {
    pub id: String,
    pub email: &'a str,
    pub email_canonical: &'a str,
    pub name: Option<&'a str>,
    pub password_hash: &'a str,
    pub status: &'static str,
    pub is_superadmin: bool,
    pub email_verified: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl<'a> NewAccountRow<'a> {
    pub fn new(account: &'a Account, hash: &'a PasswordHash) -> Self {
        Self {
            id: account.id.to_string(),
            email: account.email.as_str(),
            email_canonical: account.email.canonical(),
            name: account.name.as_ref().map(DisplayName::as_str),
            password_hash: hash.as_str(),
            status: account.status.as_str(),
            is_superadmin: account.is_superadmin,
            email_verified: account.email_verified,
            created_at: to_db_time(account.created_at),
            updated_at: to_db_time(account.updated_at),
        }
    }
}

/// The columns of `sessions` that authentication reads, in `select` order.
#[derive(Debug, Queryable)]
pub(crate) struct SessionRow {
    pub id: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub auth_methods: String,
    pub second_factor_at: Option<NaiveDateTime>,
}

/// The columns of `sessions` listed to the session's owner, selected by name.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub(crate) struct SessionSummaryRow {
    pub id: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub user_agent: Option<String>,
    pub source_ip: Option<String>,
    pub auth_methods: String,
}

impl SessionSummaryRow {
    pub fn into_summary(self) -> Result<SessionSummary, StoreError> {
        Ok(SessionSummary {
            id: SessionId::new(self.id.parse().map_err(|e| corrupt("session id", e))?),
            created_at: from_db_time(self.created_at),
            last_seen_at: from_db_time(self.last_seen_at),
            expires_at: from_db_time(self.expires_at),
            user_agent: self.user_agent,
            source_ip: self
                .source_ip
                .map(|ip| ip.parse())
                .transpose()
                .map_err(|e| corrupt("session source ip", e))?,
            auth_methods: parse_auth_methods(&self.auth_methods)?,
        })
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub(crate) struct NewSessionRow<'a> {
    pub id: String,
    pub account_id: String,
    pub token_digest: &'a str,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub user_agent: Option<&'a str>,
    pub source_ip: Option<String>,
    pub auth_methods: String,
    pub second_factor_at: Option<NaiveDateTime>,
}

/// A session's stored methods (`pwd,otp`).
pub(crate) fn parse_auth_methods(text: &str) -> Result<AuthMethods, StoreError> {
    AuthMethods::parse(text).ok_or_else(|| corrupt("session auth methods", text))
}

/// One permission rule as stored in `roles.permissions` (a JSON array).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct StoredRule {
    pub action: String,
    pub effect: String,
}

pub(crate) fn parse_permissions(json: &str) -> Result<Vec<Permission>, StoreError> {
    let rules: Vec<StoredRule> =
        serde_json::from_str(json).map_err(|e| corrupt("role permissions", e))?;
    rules
        .into_iter()
        .map(|rule| {
            let pattern =
                ActionPattern::parse(&rule.action).map_err(|e| corrupt("action pattern", e))?;
            let effect =
                Effect::parse(&rule.effect).ok_or_else(|| corrupt("effect", &rule.effect))?;
            Ok(Permission { pattern, effect })
        })
        .collect()
}

/// A grant joined with its role's rules: (id, role_name, scope, permissions JSON).
pub(crate) type GrantWithRules = (String, String, String, String);

/// Turns grant rows into grants, decoding each role's rules once however many grants share
/// the role (a principal holding one role on 200 scopes decodes one JSON array, not 200).
#[derive(Default)]
pub(crate) struct GrantDecoder {
    rules: std::collections::HashMap<String, Vec<Permission>>,
}

impl GrantDecoder {
    pub fn grant(
        &mut self,
        (id, role, scope, permissions): GrantWithRules,
    ) -> Result<Grant, StoreError> {
        let rules = if let Some(rules) = self.rules.get(&role) {
            rules.clone()
        } else {
            let rules = parse_permissions(&permissions)?;
            self.rules.insert(role.clone(), rules.clone());
            rules
        };
        Ok(Grant {
            id: GrantId::new(id.parse().map_err(|e| corrupt("grant id", e))?),
            role: RoleName::parse(&role).map_err(|e| corrupt("role name", e))?,
            scope: ScopePath::parse(&scope).map_err(|e| corrupt("scope", e))?,
            permissions: rules,
        })
    }
}

/// Column order must match `schema::api_keys`.
#[derive(Debug, Queryable)]
pub(crate) struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub key_digest: String,
    pub created_at: NaiveDateTime,
    pub created_by: Option<String>,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    /// Raised with every change to the key's grants (see `grants_cache`).
    pub grants_version: i64,
}

impl ApiKeyRow {
    /// The key and the digest a presented key must match.
    pub fn into_key(self) -> Result<(ApiKey, TokenDigest), StoreError> {
        let id = self
            .id
            .parse::<ApiKeyId>()
            .map_err(|e| corrupt("api key id", e))?;
        let key = ApiKey {
            id,
            name: self.name,
            created_at: from_db_time(self.created_at),
            created_by: self.created_by.as_deref().map(parse_creator).transpose()?,
            expires_at: self.expires_at.map(from_db_time),
            last_used_at: self.last_used_at.map(from_db_time),
            revoked_at: self.revoked_at.map(from_db_time),
        };
        Ok((key, TokenDigest::new(self.key_digest)))
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = api_keys)]
pub(crate) struct NewApiKeyRow<'a> {
    pub id: String,
    pub name: &'a str,
    pub key_digest: &'a str,
    pub created_at: NaiveDateTime,
    pub created_by: Option<String>,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

impl<'a> NewApiKeyRow<'a> {
    pub fn new(key: &'a ApiKey, digest: &'a TokenDigest) -> Self {
        Self {
            id: key.id.to_string(),
            name: &key.name,
            key_digest: digest.as_str(),
            created_at: to_db_time(key.created_at),
            created_by: key.created_by.map(|by| by.to_string()),
            expires_at: key.expires_at.map(to_db_time),
            last_used_at: key.last_used_at.map(to_db_time),
            revoked_at: key.revoked_at.map(to_db_time),
        }
    }
}

/// A stored `created_by` label (`account:<id>` or `api_key:<id>`, as `PrincipalId` writes it).
pub(crate) fn parse_creator(label: &str) -> Result<PrincipalId, StoreError> {
    PrincipalId::parse(label).ok_or_else(|| corrupt("creator", label))
}
