//! `InvitationStore` on diesel: `invitations` and their `invitation_grants`.
//!
//! One open invitation per address: `pending_key` holds the canonical email while an
//! invitation is neither accepted nor revoked, under a unique index, so two racing invitations
//! for one address cannot both commit on either backend. An expired invitation still holds the
//! key until the next invitation (or re-send) for the address clears it in its own
//! transaction. Every write that sends a link queues the message with [`enqueue`] in the same
//! transaction.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use roster_app::model::{
    AuditEvent, Conflict, Invitation, InvitationChange, InvitationId, InvitationPage,
    InvitationStatus, InvitedGrant, Missing, NewGrant, PasswordHash, SealedMail, StoreError,
    TokenDigest,
};
use roster_app::ports::InvitationStore;
use roster_domain::{Account, AccountId, DisplayName, Email, PrincipalId, RoleName, ScopePath};

use crate::audit::record;
use crate::connection::{DbConnection, Store, write_transaction};
use crate::errors::{TxError, corrupt, translate};
use crate::grants::{insert_grants, lock_role};
use crate::mail::enqueue;
use crate::rows::{
    NewAccountRow, from_db_time, page, parse_creator, parse_permissions, to_db_time,
};
use crate::schema::{accounts, invitation_grants, invitations};

/// Column order must match `schema::invitations`.
#[derive(Debug, Queryable)]
struct InvitationRow {
    id: String,
    email: String,
    #[allow(dead_code)] // recomputed from `email` on read
    email_canonical: String,
    name: Option<String>,
    #[allow(dead_code)] // never leaves the store
    token_digest: String,
    #[allow(dead_code)] // derived from the times
    pending_key: Option<String>,
    created_at: NaiveDateTime,
    created_by: Option<String>,
    expires_at: NaiveDateTime,
    accepted_at: Option<NaiveDateTime>,
    account_id: Option<String>,
    revoked_at: Option<NaiveDateTime>,
}

impl InvitationRow {
    fn into_invitation(self, grants: Vec<InvitedGrant>) -> Result<Invitation, StoreError> {
        Ok(Invitation {
            id: self.id.parse().map_err(|e| corrupt("invitation id", e))?,
            email: Email::parse_stored(&self.email).map_err(|e| corrupt("invited email", e))?,
            name: self
                .name
                .as_deref()
                .map(DisplayName::parse_stored)
                .transpose()
                .map_err(|e| corrupt("invited name", e))?,
            grants,
            created_at: from_db_time(self.created_at),
            created_by: self.created_by.as_deref().map(parse_creator).transpose()?,
            expires_at: from_db_time(self.expires_at),
            accepted_at: self.accepted_at.map(from_db_time),
            account_id: self
                .account_id
                .as_deref()
                .map(str::parse::<AccountId>)
                .transpose()
                .map_err(|e| corrupt("invited account id", e))?,
            revoked_at: self.revoked_at.map(from_db_time),
        })
    }
}

/// The grants of these invitations, each list in the order they were given.
fn grants_of(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<HashMap<String, Vec<InvitedGrant>>, StoreError> {
    let rows: Vec<(String, String, String)> = invitation_grants::table
        .filter(invitation_grants::invitation_id.eq_any(ids))
        .order(invitation_grants::id)
        .select((
            invitation_grants::invitation_id,
            invitation_grants::role_name,
            invitation_grants::scope,
        ))
        .load(conn)
        .map_err(translate)?;
    let mut grants: HashMap<String, Vec<InvitedGrant>> = HashMap::new();
    for (invitation, role, scope) in rows {
        grants.entry(invitation).or_default().push(InvitedGrant {
            role: RoleName::parse(&role).map_err(|e| corrupt("invited role", e))?,
            scope: ScopePath::parse(&scope).map_err(|e| corrupt("invited scope", e))?,
        });
    }
    Ok(grants)
}

/// Rows with their grants, as invitations.
fn with_grants(
    conn: &mut DbConnection,
    rows: Vec<InvitationRow>,
) -> Result<Vec<Invitation>, StoreError> {
    let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
    let mut grants = grants_of(conn, &ids)?;
    rows.into_iter()
        .map(|row| {
            let own = grants.remove(&row.id).unwrap_or_default();
            row.into_invitation(own)
        })
        .collect()
}

/// The invitation row, locked for the rest of the transaction on PostgreSQL (SQLite's write
/// transaction holds the database's write lock already).
fn lock_invitation(conn: &mut DbConnection, id: &str) -> Result<Option<InvitationRow>, TxError> {
    let query = invitations::table.find(id.to_owned());
    Ok(match conn {
        DbConnection::Pg(pg) => query
            .for_update()
            .get_result::<InvitationRow>(pg)
            .optional()?,
        DbConnection::Sqlite(_) => query.get_result::<InvitationRow>(conn).optional()?,
    })
}

/// `Duplicate(Email)` when an account has this canonical email.
fn require_no_account(conn: &mut DbConnection, canonical: &str) -> Result<(), TxError> {
    let taken: i64 = accounts::table
        .filter(accounts::email_canonical.eq(canonical))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Err(StoreError::Duplicate(Conflict::Email).into());
    }
    Ok(())
}

/// Frees the address from open invitations that expired by `now` (other than `except`), so
/// a new one can take `pending_key`.
fn release_expired(
    conn: &mut DbConnection,
    canonical: &str,
    now: NaiveDateTime,
    except: &str,
) -> Result<(), TxError> {
    diesel::update(
        invitations::table
            .filter(invitations::pending_key.eq(canonical))
            .filter(invitations::expires_at.le(now))
            .filter(invitations::id.ne(except)),
    )
    .set(invitations::pending_key.eq(None::<String>))
    .execute(conn)?;
    Ok(())
}

#[async_trait]
impl InvitationStore for Store {
    async fn insert_invitation(
        &self,
        invitation: &Invitation,
        digest: &TokenDigest,
        grants: &[NewGrant],
        mail: &SealedMail,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let invitation = invitation.clone();
        let digest = digest.as_str().to_owned();
        let grants = grants.to_vec();
        let mail = mail.clone();
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                let canonical = invitation.email.canonical();
                let id = invitation.id.to_string();
                require_no_account(conn, canonical)?;
                release_expired(conn, canonical, to_db_time(invitation.created_at), &id)?;
                diesel::insert_into(invitations::table)
                    .values((
                        invitations::id.eq(&id),
                        invitations::email.eq(invitation.email.as_str()),
                        invitations::email_canonical.eq(canonical),
                        invitations::name.eq(invitation.name.as_ref().map(DisplayName::as_str)),
                        invitations::token_digest.eq(&digest),
                        invitations::pending_key.eq(canonical),
                        invitations::created_at.eq(to_db_time(invitation.created_at)),
                        invitations::created_by.eq(invitation.created_by.map(|by| by.to_string())),
                        invitations::expires_at.eq(to_db_time(invitation.expires_at)),
                    ))
                    .execute(conn)?;
                for grant in &grants {
                    let Some(rules) = lock_role(conn, grant.role.as_str())? else {
                        return Err(StoreError::Missing(Missing::Role).into());
                    };
                    if parse_permissions(&rules)? != grant.role_rules {
                        return Err(StoreError::RoleChanged.into());
                    }
                    diesel::insert_into(invitation_grants::table)
                        .values((
                            invitation_grants::id.eq(grant.id.to_string()),
                            invitation_grants::invitation_id.eq(&id),
                            invitation_grants::role_name.eq(grant.role.as_str()),
                            invitation_grants::scope.eq(grant.scope.to_string()),
                        ))
                        .execute(conn)?;
                }
                enqueue(conn, &mail)?;
                record(conn, &audit)
            })
        })
        .await
    }

    async fn find_invitation(&self, id: InvitationId) -> Result<Option<Invitation>, StoreError> {
        self.run(move |conn| {
            let row = invitations::table
                .find(id.to_string())
                .get_result::<InvitationRow>(conn)
                .optional()
                .map_err(translate)?;
            Ok(with_grants(conn, row.into_iter().collect())?.pop())
        })
        .await
    }

    async fn find_pending_invitation(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
    ) -> Result<Option<Invitation>, StoreError> {
        let digest = digest.as_str().to_owned();
        self.run(move |conn| {
            let row = invitations::table
                .filter(invitations::token_digest.eq(&digest))
                .filter(invitations::accepted_at.is_null())
                .filter(invitations::revoked_at.is_null())
                .filter(invitations::expires_at.gt(to_db_time(now)))
                .get_result::<InvitationRow>(conn)
                .optional()
                .map_err(translate)?;
            Ok(with_grants(conn, row.into_iter().collect())?.pop())
        })
        .await
    }

    async fn list_invitations(
        &self,
        status: Option<InvitationStatus>,
        now: DateTime<Utc>,
        before: Option<InvitationId>,
        limit: u32,
    ) -> Result<InvitationPage, StoreError> {
        self.run(move |conn| {
            let now = to_db_time(now);
            let mut query = invitations::table
                .order(invitations::id.desc())
                .limit(i64::from(limit) + 1)
                .into_boxed();
            if let Some(before) = before {
                query = query.filter(invitations::id.lt(before.to_string()));
            }
            query = match status {
                None => query,
                Some(InvitationStatus::Accepted) => {
                    query.filter(invitations::accepted_at.is_not_null())
                }
                Some(InvitationStatus::Revoked) => query
                    .filter(invitations::accepted_at.is_null())
                    .filter(invitations::revoked_at.is_not_null()),
                Some(InvitationStatus::Pending) => query
                    .filter(invitations::accepted_at.is_null())
                    .filter(invitations::revoked_at.is_null())
                    .filter(invitations::expires_at.gt(now)),
                Some(InvitationStatus::Expired) => query
                    .filter(invitations::accepted_at.is_null())
                    .filter(invitations::revoked_at.is_null())
                    .filter(invitations::expires_at.le(now)),
            };
            let rows = query.load::<InvitationRow>(conn).map_err(translate)?;
            let (rows, next_before) = page(rows, limit, Ok, |row| row.id.clone())?;
            let next_before = next_before
                .map(|id| id.parse().map_err(|e| corrupt("invitation id", e)))
                .transpose()?;
            Ok(InvitationPage {
                invitations: with_grants(conn, rows)?,
                next_before,
            })
        })
        .await
    }

    async fn revoke_invitation(
        &self,
        id: InvitationId,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<InvitationChange, StoreError> {
        let audit = audit.clone();
        let rows = self
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    let Some(row) = lock_invitation(conn, &id.to_string())? else {
                        return Ok(Err(InvitationChange::NotFound));
                    };
                    if row.accepted_at.is_some() {
                        return Ok(Err(InvitationChange::Accepted));
                    }
                    if row.revoked_at.is_some() {
                        return Ok(Err(InvitationChange::Revoked));
                    }
                    let at = to_db_time(at);
                    diesel::update(invitations::table.find(&row.id))
                        .set((
                            invitations::revoked_at.eq(at),
                            invitations::pending_key.eq(None::<String>),
                        ))
                        .execute(conn)?;
                    record(conn, &audit)?;
                    Ok(Ok(InvitationRow {
                        revoked_at: Some(at),
                        pending_key: None,
                        ..row
                    }))
                })
            })
            .await?;
        self.changed(rows).await
    }

    async fn resend_invitation(
        &self,
        id: InvitationId,
        digest: &TokenDigest,
        expires_at: DateTime<Utc>,
        mail: &SealedMail,
        audit: &AuditEvent,
    ) -> Result<InvitationChange, StoreError> {
        let digest = digest.as_str().to_owned();
        let mail = mail.clone();
        let audit = audit.clone();
        let rows = self
            .run(move |conn| {
                write_transaction(conn, |conn| {
                    let Some(row) = lock_invitation(conn, &id.to_string())? else {
                        return Ok(Err(InvitationChange::NotFound));
                    };
                    if row.accepted_at.is_some() {
                        return Ok(Err(InvitationChange::Accepted));
                    }
                    if row.revoked_at.is_some() {
                        return Ok(Err(InvitationChange::Revoked));
                    }
                    let canonical = row.email_canonical.clone();
                    require_no_account(conn, &canonical)?;
                    release_expired(conn, &canonical, to_db_time(audit.at), &row.id)?;
                    let expires_at = to_db_time(expires_at);
                    diesel::update(invitations::table.find(&row.id))
                        .set((
                            invitations::token_digest.eq(&digest),
                            invitations::expires_at.eq(expires_at),
                            invitations::pending_key.eq(&canonical),
                        ))
                        .execute(conn)?;
                    enqueue(conn, &mail)?;
                    record(conn, &audit)?;
                    Ok(Ok(InvitationRow { expires_at, ..row }))
                })
            })
            .await?;
        self.changed(rows).await
    }

    async fn accept_invitation(
        &self,
        id: InvitationId,
        digest: &TokenDigest,
        account: &Account,
        password_hash: &PasswordHash,
        grants: &[NewGrant],
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let digest = digest.as_str().to_owned();
        let account = account.clone();
        let password_hash = password_hash.clone();
        let grants = grants.to_vec();
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                let Some(row) = lock_invitation(conn, &id.to_string())? else {
                    return Ok(false);
                };
                let at = to_db_time(account.created_at);
                let usable = row.token_digest == digest
                    && row.accepted_at.is_none()
                    && row.revoked_at.is_none()
                    && row.expires_at > at;
                if !usable {
                    return Ok(false);
                }
                require_no_account(conn, account.email.canonical())?;
                diesel::insert_into(accounts::table)
                    .values(NewAccountRow::new(&account, &password_hash))
                    .execute(conn)?;
                insert_grants(conn, PrincipalId::Account(account.id), &grants)?;
                diesel::update(invitations::table.find(&row.id))
                    .set((
                        invitations::accepted_at.eq(at),
                        invitations::account_id.eq(account.id.to_string()),
                        invitations::pending_key.eq(None::<String>),
                    ))
                    .execute(conn)?;
                record(conn, &audit)?;
                Ok(true)
            })
        })
        .await
    }

    async fn forget_closed_invitations(
        &self,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<usize, StoreError> {
        let before = to_db_time(before);
        self.run(move |conn| {
            let closed_before = invitations::accepted_at
                .le(before)
                .or(invitations::revoked_at.le(before))
                .or(invitations::expires_at.le(before));
            let closed: Vec<String> = invitations::table
                .filter(closed_before)
                .select(invitations::id)
                .limit(limit)
                .load(conn)
                .map_err(translate)?;
            if closed.is_empty() {
                return Ok(0);
            }
            // Checked again as it is deleted: an expired invitation sent again meanwhile is
            // open. Their grants go with them (ON DELETE CASCADE).
            diesel::delete(
                invitations::table
                    .filter(invitations::id.eq_any(&closed))
                    .filter(closed_before),
            )
            .execute(conn)
            .map_err(translate)
        })
        .await
    }
}

impl Store {
    /// The outcome of a revoke or re-send: the changed row with its grants, or why not.
    async fn changed(
        &self,
        outcome: Result<InvitationRow, InvitationChange>,
    ) -> Result<InvitationChange, StoreError> {
        let row = match outcome {
            Ok(row) => row,
            Err(refusal) => return Ok(refusal),
        };
        self.run(move |conn| {
            let invitation = with_grants(conn, vec![row])?
                .pop()
                .ok_or_else(|| StoreError::Internal("invitation vanished".into()))?;
            Ok(InvitationChange::Changed(invitation))
        })
        .await
    }
}
