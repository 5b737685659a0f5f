//! `AccountRepository` on diesel.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use roster_app::model::{
    AccountPage, AccountWithGrants, AuditEvent, NewGrant, PasswordHash, SessionId, StatusChange,
    StoreError, StoredAccount,
};
use roster_app::ports::AccountRepository;
use roster_domain::{Account, AccountId, AccountStatus, PrincipalId};

use crate::api_keys::revoke_keys_created_by;
use crate::audit::record;
use crate::connection::{DbConnection, Store, write_transaction};
use crate::errors::{TxError, translate};
use crate::grants::{holder_grants, insert_grants};
use crate::mail::end_reset_links;
use crate::rows::{AccountRow, NewAccountRow, page, to_db_time};
use crate::schema::{accounts, mfa_challenges, sessions, webauthn_ceremonies};

#[async_trait]
impl AccountRepository for Store {
    async fn insert(
        &self,
        account: &Account,
        password_hash: &PasswordHash,
        grants: &[NewGrant],
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let account = account.clone();
        let password_hash = password_hash.clone();
        let grants = grants.to_vec();
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                diesel::insert_into(accounts::table)
                    .values(NewAccountRow::new(&account, &password_hash))
                    .execute(conn)?;
                insert_grants(conn, PrincipalId::Account(account.id), &grants)?;
                record(conn, &audit)
            })
        })
        .await
    }

    async fn find_by_email(
        &self,
        canonical_email: &str,
    ) -> Result<Option<StoredAccount>, StoreError> {
        let canonical_email = canonical_email.to_owned();
        self.run(move |conn| {
            let row = accounts::table
                .filter(accounts::email_canonical.eq(&canonical_email))
                .get_result::<AccountRow>(conn)
                .optional()
                .map_err(translate)?;
            row.map(|row| {
                let (account, password_hash) = row.into_account()?;
                Ok(StoredAccount {
                    account,
                    password_hash,
                })
            })
            .transpose()
        })
        .await
    }

    async fn find_by_id(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        self.run(move |conn| {
            let row = accounts::table
                .find(id.to_string())
                .get_result::<AccountRow>(conn)
                .optional()
                .map_err(translate)?;
            row.map(|row| row.into_account().map(|(account, _)| account))
                .transpose()
        })
        .await
    }

    async fn find_with_grants(
        &self,
        id: AccountId,
    ) -> Result<Option<AccountWithGrants>, StoreError> {
        let cache = Arc::clone(&self.grants_cache);
        self.run(move |conn| {
            let row = accounts::table
                .find(id.to_string())
                .get_result::<AccountRow>(conn)
                .optional()
                .map_err(translate)?;
            let Some(row) = row else {
                return Ok(None);
            };
            // The same loading as a session's grants (`find_by_digest`): served from the
            // cache while the account's grants version is unchanged.
            let version = row.grants_version;
            let (account, _) = row.into_account()?;
            let grants = cache.get_or_load(PrincipalId::Account(id), version, || {
                holder_grants(conn, PrincipalId::Account(id))
            })?;
            Ok(Some(AccountWithGrants { account, grants }))
        })
        .await
    }

    async fn superadmin_exists(&self) -> Result<bool, StoreError> {
        self.run(|conn| {
            let count: i64 = accounts::table
                .filter(accounts::is_superadmin.eq(true))
                .count()
                .get_result(conn)
                .map_err(translate)?;
            Ok(count > 0)
        })
        .await
    }

    async fn list(
        &self,
        canonical_email: Option<String>,
        after: Option<AccountId>,
        limit: u32,
    ) -> Result<AccountPage, StoreError> {
        self.run(move |conn| {
            let mut query = accounts::table
                .order(accounts::id)
                .limit(i64::from(limit) + 1)
                .into_boxed();
            if let Some(email) = canonical_email {
                query = query.filter(accounts::email_canonical.eq(email));
            }
            if let Some(after) = after {
                query = query.filter(accounts::id.gt(after.to_string()));
            }
            let rows = query.load::<AccountRow>(conn).map_err(translate)?;
            let (accounts, next_after) = page(
                rows,
                limit,
                |row| row.into_account().map(|(account, _)| account),
                |a| a.id,
            )?;
            Ok(AccountPage {
                accounts,
                next_after,
            })
        })
        .await
    }

    async fn set_status(
        &self,
        id: AccountId,
        status: AccountStatus,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<StatusChange, StoreError> {
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                let Some(row) = accounts::table
                    .find(id.to_string())
                    .get_result::<AccountRow>(conn)
                    .optional()?
                else {
                    return Ok(StatusChange::NotFound);
                };
                let (account, _) = row.into_account()?;
                if status == AccountStatus::Disabled
                    && account.is_superadmin
                    && account.status == AccountStatus::Active
                {
                    let others = other_active_superadmins(conn, &account.id.to_string())?;
                    if others == 0 {
                        return Ok(StatusChange::LastSuperadmin);
                    }
                }
                let at = to_db_time(at);
                diesel::update(accounts::table.find(id.to_string()))
                    .set((
                        accounts::status.eq(status.as_str()),
                        accounts::updated_at.eq(at),
                    ))
                    .execute(conn)?;
                let mut audit = audit;
                let mut revoked_keys = 0;
                if status == AccountStatus::Disabled {
                    revoke_sessions(conn, &id.to_string(), None, at)?;
                    end_reset_links(conn, &id.to_string(), at)?;
                    // Also when disabled already: an account disabled before keys were
                    // revoked with it gets its keys revoked by disabling it again.
                    revoked_keys = revoke_keys_created_by(conn, PrincipalId::Account(id), at)?;
                    audit = audit.revoked_api_keys(revoked_keys);
                }
                if status != account.status || revoked_keys > 0 {
                    record(conn, &audit)?;
                }
                let row = accounts::table
                    .find(id.to_string())
                    .get_result::<AccountRow>(conn)?;
                Ok(StatusChange::Changed(row.into_account()?.0))
            })
        })
        .await
    }

    async fn password_hash(&self, id: AccountId) -> Result<Option<PasswordHash>, StoreError> {
        self.run(move |conn| {
            let hash = accounts::table
                .find(id.to_string())
                .select(accounts::password_hash)
                .get_result::<String>(conn)
                .optional()
                .map_err(translate)?;
            Ok(hash.map(PasswordHash::new))
        })
        .await
    }

    async fn set_password(
        &self,
        id: AccountId,
        password_hash: &PasswordHash,
        keep: Option<SessionId>,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let password_hash = password_hash.clone();
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                let at = to_db_time(at);
                let updated = diesel::update(accounts::table.find(id.to_string()))
                    .set((
                        accounts::password_hash.eq(password_hash.as_str()),
                        accounts::updated_at.eq(at),
                    ))
                    .execute(conn)?;
                if updated == 0 {
                    return Ok(false);
                }
                revoke_sessions(conn, &id.to_string(), keep, at)?;
                end_reset_links(conn, &id.to_string(), at)?;
                record(conn, &audit)?;
                Ok(true)
            })
        })
        .await
    }
}

/// Active super admins other than `id`. On PostgreSQL every active super-admin row,
/// including `id`'s, is locked in id order (`FOR UPDATE`), so two transactions disabling the
/// last two super admins serialise without deadlocking and the second sees one left.
fn other_active_superadmins(conn: &mut DbConnection, id: &str) -> Result<usize, TxError> {
    let query = accounts::table
        .filter(accounts::is_superadmin.eq(true))
        .filter(accounts::status.eq(AccountStatus::Active.as_str()))
        .order(accounts::id)
        .select(accounts::id);
    let ids: Vec<String> = match conn {
        DbConnection::Pg(pg) => query.for_update().load(pg)?,
        DbConnection::Sqlite(_) => query.load(conn)?,
    };
    Ok(ids.iter().filter(|other| other.as_str() != id).count())
}

/// Revokes every live session of the account except `keep`, and ends its sign-ins in
/// progress (second steps of a login, passkey ceremonies): whatever ends the sessions (a
/// password change or reset, a disable, an operator's MFA reset) ends those too, so a
/// second step begun with the old password cannot finish.
pub(crate) fn revoke_sessions(
    conn: &mut DbConnection,
    account_id: &str,
    keep: Option<SessionId>,
    at: chrono::NaiveDateTime,
) -> Result<usize, TxError> {
    diesel::delete(mfa_challenges::table.filter(mfa_challenges::account_id.eq(account_id)))
        .execute(conn)?;
    diesel::delete(
        webauthn_ceremonies::table.filter(webauthn_ceremonies::account_id.eq(account_id)),
    )
    .execute(conn)?;
    let keep = keep.map(|id| id.to_string()).unwrap_or_default();
    Ok(diesel::update(
        sessions::table
            .filter(sessions::account_id.eq(account_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::id.ne(keep)),
    )
    .set(sessions::revoked_at.eq(at))
    .execute(conn)?)
}
