//! The mail outbox (`Outbox`: the sender's side) and single-use emailed tokens
//! (`EmailTokenStore`), on diesel. Messages enter the outbox only through [`enqueue`], called
//! inside the write transaction of the change that causes them, so a change and its message
//! commit together or not at all.
//!
//! Claims: on PostgreSQL `FOR UPDATE SKIP LOCKED`, so nodes claiming at once take disjoint
//! rows without waiting on each other; on SQLite the claim runs under the write lock
//! (`BEGIN IMMEDIATE`), one writer at a time. A claim is a lease (`claimed_until`): a node
//! that dies mid-delivery holds its messages only until then.

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use roster_app::model::{
    AuditEvent, ClaimedMail, EmailRequest, EmailTokenPurpose, MailDelivery, MailKind, OutboxStats,
    PasswordHash, SealedMail, StoreError, TokenDigest,
};
use roster_app::ports::{EmailTokenStore, Outbox};
use roster_domain::{Account, AccountId, AccountStatus};
use uuid::Uuid;

use crate::accounts::revoke_sessions;
use crate::audit::record;
use crate::connection::{DbConnection, Store, write_transaction};
use crate::errors::{TxError, translate};
use crate::rows::{AccountRow, NewAccountRow, from_db_time, to_db_time};
use crate::schema::{accounts, email_request_counters, email_tokens, login_throttle, mail_outbox};

/// `last_error` is for people reading the table: an SMTP reply or an I/O error, cut short.
const MAX_ERROR_CHARS: usize = 500;

/// Queues a sealed message. Call it inside the write transaction of the change that causes
/// the message (the outbox pattern).
pub(crate) fn enqueue(conn: &mut DbConnection, mail: &SealedMail) -> Result<(), TxError> {
    let created_at = to_db_time(mail.created_at);
    diesel::insert_into(mail_outbox::table)
        .values((
            mail_outbox::id.eq(mail.id.to_string()),
            mail_outbox::kind.eq(mail.kind.as_str()),
            mail_outbox::recipient.eq(&mail.recipient),
            mail_outbox::sealed.eq(&mail.sealed),
            mail_outbox::created_at.eq(created_at),
            mail_outbox::attempts.eq(0),
            mail_outbox::next_attempt_at.eq(created_at),
        ))
        .execute(conn)?;
    Ok(())
}

type ClaimRow = (String, String, String, String, NaiveDateTime, i32);

fn claimed_mail(row: ClaimRow) -> Result<ClaimedMail, StoreError> {
    let (id, kind, recipient, sealed, created_at, attempts) = row;
    let id = Uuid::try_parse(&id).map_err(|e| StoreError::Internal(format!("mail id: {e}")))?;
    let kind = MailKind::parse(&kind)
        .ok_or_else(|| StoreError::Internal(format!("unknown mail kind {kind:?}")))?;
    Ok(ClaimedMail {
        mail: SealedMail {
            id,
            kind,
            recipient,
            sealed,
            created_at: from_db_time(created_at),
        },
        attempts: u32::try_from(attempts).unwrap_or(0),
    })
}

fn cut(error: &str) -> String {
    error.chars().take(MAX_ERROR_CHARS).collect()
}

#[async_trait]
impl Outbox for Store {
    async fn claim(
        &self,
        node: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ClaimedMail>, StoreError> {
        let node = node.to_owned();
        let rows = self
            .run(move |conn| {
                // A plain read first: an idle queue (the usual case) costs no write lock, which
                // on SQLite would stall every other writer for the moment of each poll.
                let at = to_db_time(now);
                let any_due: i64 = mail_outbox::table
                    .filter(mail_outbox::sent_at.is_null())
                    .filter(mail_outbox::gave_up_at.is_null())
                    .filter(mail_outbox::next_attempt_at.le(at))
                    .filter(
                        mail_outbox::claimed_until
                            .is_null()
                            .or(mail_outbox::claimed_until.le(at)),
                    )
                    .count()
                    .get_result(conn)
                    .map_err(translate)?;
                if any_due == 0 {
                    return Ok(Vec::new());
                }
                write_transaction(conn, |conn| {
                    let now = to_db_time(now);
                    let due = mail_outbox::table
                        .filter(mail_outbox::sent_at.is_null())
                        .filter(mail_outbox::gave_up_at.is_null())
                        .filter(mail_outbox::next_attempt_at.le(now))
                        .filter(
                            mail_outbox::claimed_until
                                .is_null()
                                .or(mail_outbox::claimed_until.le(now)),
                        )
                        .order((mail_outbox::next_attempt_at, mail_outbox::id))
                        .limit(limit)
                        .select((
                            mail_outbox::id,
                            mail_outbox::kind,
                            mail_outbox::recipient,
                            mail_outbox::sealed,
                            mail_outbox::created_at,
                            mail_outbox::attempts,
                        ));
                    let rows: Vec<ClaimRow> = match conn {
                        DbConnection::Pg(pg) => due.for_update().skip_locked().load(pg)?,
                        DbConnection::Sqlite(_) => due.load(conn)?,
                    };
                    let ids: Vec<&String> = rows.iter().map(|row| &row.0).collect();
                    if !ids.is_empty() {
                        diesel::update(mail_outbox::table.filter(mail_outbox::id.eq_any(ids)))
                            .set((
                                mail_outbox::claimed_by.eq(&node),
                                mail_outbox::claimed_until.eq(to_db_time(lease_until)),
                            ))
                            .execute(conn)?;
                    }
                    Ok(rows)
                })
            })
            .await?;
        rows.into_iter().map(claimed_mail).collect()
    }

    async fn mark_sent(&self, id: Uuid, node: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let node = node.to_owned();
        self.run(move |conn| {
            let updated = diesel::update(
                mail_outbox::table
                    .find(id.to_string())
                    .filter(mail_outbox::claimed_by.eq(&node)),
            )
            .set((
                mail_outbox::sent_at.eq(to_db_time(at)),
                mail_outbox::claimed_by.eq(None::<String>),
                mail_outbox::claimed_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)
            .map_err(translate)?;
            Ok(updated > 0)
        })
        .await
    }

    async fn reschedule(
        &self,
        id: Uuid,
        node: &str,
        attempts: u32,
        next_attempt_at: DateTime<Utc>,
        last_error: &str,
    ) -> Result<bool, StoreError> {
        let node = node.to_owned();
        let last_error = cut(last_error);
        self.run(move |conn| {
            let updated = diesel::update(
                mail_outbox::table
                    .find(id.to_string())
                    .filter(mail_outbox::claimed_by.eq(&node)),
            )
            .set((
                mail_outbox::attempts.eq(i32::try_from(attempts).unwrap_or(i32::MAX)),
                mail_outbox::next_attempt_at.eq(to_db_time(next_attempt_at)),
                mail_outbox::last_error.eq(&last_error),
                mail_outbox::claimed_by.eq(None::<String>),
                mail_outbox::claimed_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)
            .map_err(translate)?;
            Ok(updated > 0)
        })
        .await
    }

    async fn give_up(
        &self,
        id: Uuid,
        node: &str,
        attempts: u32,
        last_error: &str,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let node = node.to_owned();
        let last_error = cut(last_error);
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                let updated = diesel::update(
                    mail_outbox::table
                        .find(id.to_string())
                        .filter(mail_outbox::claimed_by.eq(&node)),
                )
                .set((
                    mail_outbox::attempts.eq(i32::try_from(attempts).unwrap_or(i32::MAX)),
                    mail_outbox::gave_up_at.eq(to_db_time(audit.at)),
                    mail_outbox::last_error.eq(&last_error),
                    mail_outbox::claimed_by.eq(None::<String>),
                    mail_outbox::claimed_until.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)?;
                if updated == 0 {
                    return Ok(false);
                }
                record(conn, &audit)?;
                Ok(true)
            })
        })
        .await
    }

    async fn stats(&self) -> Result<OutboxStats, StoreError> {
        self.run(move |conn| {
            let pending = mail_outbox::table
                .filter(mail_outbox::sent_at.is_null())
                .filter(mail_outbox::gave_up_at.is_null());
            let queued: i64 = pending.count().get_result(conn).map_err(translate)?;
            let retrying: i64 = pending
                .filter(mail_outbox::attempts.gt(0))
                .count()
                .get_result(conn)
                .map_err(translate)?;
            Ok(OutboxStats { queued, retrying })
        })
        .await
    }

    async fn forget_finished(
        &self,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<usize, StoreError> {
        self.run(move |conn| {
            let before = to_db_time(before);
            let messages = mail_outbox::table
                .filter(
                    mail_outbox::sent_at
                        .lt(before)
                        .or(mail_outbox::gave_up_at.lt(before)),
                )
                .select(mail_outbox::id)
                .limit(limit)
                .load::<String>(conn)
                .map_err(translate)?;
            let tokens = email_tokens::table
                .filter(
                    email_tokens::used_at
                        .lt(before)
                        .or(email_tokens::expires_at.lt(before)),
                )
                .select(email_tokens::token_digest)
                .limit(limit)
                .load::<String>(conn)
                .map_err(translate)?;
            let mut forgotten = 0;
            if !messages.is_empty() {
                forgotten +=
                    diesel::delete(mail_outbox::table.filter(mail_outbox::id.eq_any(&messages)))
                        .execute(conn)
                        .map_err(translate)?;
            }
            if !tokens.is_empty() {
                forgotten += diesel::delete(
                    email_tokens::table.filter(email_tokens::token_digest.eq_any(&tokens)),
                )
                .execute(conn)
                .map_err(translate)?;
            }
            Ok(forgotten)
        })
        .await
    }
}

/// The account a usable token of this purpose belongs to, if it is active.
fn usable_token_account(
    conn: &mut DbConnection,
    digest: &str,
    purpose: EmailTokenPurpose,
    now: NaiveDateTime,
) -> Result<Option<AccountRow>, TxError> {
    let query = email_tokens::table
        .inner_join(accounts::table)
        .filter(email_tokens::token_digest.eq(digest))
        .filter(email_tokens::purpose.eq(purpose.as_str()))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(now))
        .filter(accounts::status.eq(AccountStatus::Active.as_str()))
        .select(accounts::all_columns);
    Ok(match conn {
        // Locks the token row (and the account's): a racing confirmation waits, then finds it used.
        DbConnection::Pg(pg) => query.for_update().get_result::<AccountRow>(pg).optional()?,
        DbConnection::Sqlite(_) => query.get_result::<AccountRow>(conn).optional()?,
    })
}

/// Counts one request against its address's hourly counter and returns how many were counted
/// in the counter's current hour before it. The row is made on first use and locked (PostgreSQL
/// `FOR UPDATE`; SQLite runs this under its write lock), so concurrent requests count exactly.
fn count_request(conn: &mut DbConnection, request: &EmailRequest) -> Result<i64, TxError> {
    let key = request.email_key.as_str();
    let purpose = request.purpose.as_str();
    let at = to_db_time(request.at);
    let fresh = (
        email_request_counters::email_digest.eq(key),
        email_request_counters::purpose.eq(purpose),
        email_request_counters::window_started_at.eq(at),
        email_request_counters::requests.eq(0),
    );
    let insert = diesel::insert_into(email_request_counters::table).values(fresh);
    match conn {
        DbConnection::Pg(pg) => insert.on_conflict_do_nothing().execute(pg)?,
        DbConnection::Sqlite(sqlite) => insert.on_conflict_do_nothing().execute(sqlite)?,
    };
    let query = email_request_counters::table.find((key, purpose)).select((
        email_request_counters::window_started_at,
        email_request_counters::requests,
    ));
    let (window_started_at, requests): (NaiveDateTime, i32) = match conn {
        DbConnection::Pg(pg) => query.for_update().get_result(pg)?,
        DbConnection::Sqlite(_) => query.get_result(conn)?,
    };
    let row = email_request_counters::table.find((key, purpose));
    if window_started_at <= to_db_time(request.at - Duration::hours(1)) {
        diesel::update(row)
            .set((
                email_request_counters::window_started_at.eq(at),
                email_request_counters::requests.eq(1),
            ))
            .execute(conn)?;
        return Ok(0);
    }
    diesel::update(row)
        .set(email_request_counters::requests.eq(requests.saturating_add(1)))
        .execute(conn)?;
    Ok(i64::from(requests))
}

/// Stores the delivery's token (if any) and queues its message.
fn deliver(conn: &mut DbConnection, delivery: &MailDelivery) -> Result<(), TxError> {
    if let Some(token) = &delivery.token {
        diesel::insert_into(email_tokens::table)
            .values((
                email_tokens::token_digest.eq(token.digest.as_str()),
                email_tokens::purpose.eq(token.purpose.as_str()),
                email_tokens::account_id.eq(token.account.to_string()),
                email_tokens::expires_at.eq(to_db_time(token.expires_at)),
                email_tokens::created_at.eq(to_db_time(delivery.mail.created_at)),
            ))
            .execute(conn)?;
    }
    enqueue(conn, &delivery.mail)
}

/// Marks every unused token of this purpose of the account used.
fn use_up_tokens(
    conn: &mut DbConnection,
    account_id: &str,
    purpose: EmailTokenPurpose,
    at: NaiveDateTime,
) -> Result<(), TxError> {
    diesel::update(
        email_tokens::table
            .filter(email_tokens::account_id.eq(account_id))
            .filter(email_tokens::purpose.eq(purpose.as_str()))
            .filter(email_tokens::used_at.is_null()),
    )
    .set(email_tokens::used_at.eq(at))
    .execute(conn)?;
    Ok(())
}

impl Store {
    /// The active account a usable token of `purpose` belongs to, read outside a transaction
    /// (the write that uses the token checks it again under the lock).
    async fn find_token_account(
        &self,
        digest: &TokenDigest,
        purpose: EmailTokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<Account>, StoreError> {
        let digest = digest.as_str().to_owned();
        self.run(move |conn| {
            let row = usable_token_account(conn, &digest, purpose, to_db_time(now))
                .map_err(TxError::into_store)?;
            row.map(|row| row.into_account().map(|(account, _)| account))
                .transpose()
        })
        .await
    }
}

#[async_trait]
impl EmailTokenStore for Store {
    async fn request_email(&self, request: &EmailRequest) -> Result<bool, StoreError> {
        let request = request.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                let before = count_request(conn, &request)?;
                let Some(delivery) = &request.delivery else {
                    return Ok(false);
                };
                if before >= i64::from(request.max_per_hour) {
                    return Ok(false);
                }
                deliver(conn, delivery)?;
                Ok(true)
            })
        })
        .await
    }

    async fn forget_stale_counters(
        &self,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<usize, StoreError> {
        self.run(move |conn| {
            let stale = email_request_counters::table
                .filter(email_request_counters::window_started_at.lt(to_db_time(before)))
                .select((
                    email_request_counters::email_digest,
                    email_request_counters::purpose,
                ))
                .limit(limit)
                .load::<(String, String)>(conn)
                .map_err(translate)?;
            let mut forgotten = 0;
            for (key, purpose) in stale {
                // Re-checked per row: a request may have opened a new window meanwhile.
                forgotten += diesel::delete(
                    email_request_counters::table
                        .find((&key, &purpose))
                        .filter(email_request_counters::window_started_at.lt(to_db_time(before))),
                )
                .execute(conn)
                .map_err(translate)?;
            }
            Ok(forgotten)
        })
        .await
    }

    async fn register_unverified(
        &self,
        account: &Account,
        password_hash: &PasswordHash,
        audit: &AuditEvent,
        request: &EmailRequest,
    ) -> Result<(), StoreError> {
        let account = account.clone();
        let password_hash = password_hash.clone();
        let audit = audit.clone();
        let request = request.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                diesel::insert_into(accounts::table)
                    .values(NewAccountRow::new(&account, &password_hash))
                    .execute(conn)?;
                record(conn, &audit)?;
                count_request(conn, &request)?;
                if let Some(delivery) = &request.delivery {
                    deliver(conn, delivery)?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn find_email_verification(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
    ) -> Result<Option<Account>, StoreError> {
        self.find_token_account(digest, EmailTokenPurpose::EmailVerification, now)
            .await
    }

    async fn verify_email(
        &self,
        digest: &TokenDigest,
        account: AccountId,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let digest = digest.as_str().to_owned();
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                let at = to_db_time(at);
                let purpose = EmailTokenPurpose::EmailVerification;
                let Some(row) = usable_token_account(conn, &digest, purpose, at)? else {
                    return Ok(false);
                };
                if row.id != account.to_string() {
                    return Ok(false);
                }
                diesel::update(accounts::table.find(&row.id))
                    .set((
                        accounts::email_verified.eq(true),
                        accounts::updated_at.eq(at),
                    ))
                    .execute(conn)?;
                use_up_tokens(conn, &row.id, purpose, at)?;
                record(conn, &audit)?;
                Ok(true)
            })
        })
        .await
    }

    async fn find_password_reset(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
    ) -> Result<Option<Account>, StoreError> {
        self.find_token_account(digest, EmailTokenPurpose::PasswordReset, now)
            .await
    }

    async fn reset_password(
        &self,
        digest: &TokenDigest,
        account: AccountId,
        password_hash: &PasswordHash,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let digest = digest.as_str().to_owned();
        let password_hash = password_hash.clone();
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                let at = to_db_time(at);
                let purpose = EmailTokenPurpose::PasswordReset;
                let Some(row) = usable_token_account(conn, &digest, purpose, at)? else {
                    return Ok(false);
                };
                if row.id != account.to_string() {
                    return Ok(false);
                }
                // Following the emailed link proves the address is the owner's: an account
                // still waiting for its verification link is verified by a reset too.
                diesel::update(accounts::table.find(&row.id))
                    .set((
                        accounts::password_hash.eq(password_hash.as_str()),
                        accounts::email_verified.eq(true),
                        accounts::updated_at.eq(at),
                    ))
                    .execute(conn)?;
                // Every reset link of the account dies with the one used.
                use_up_tokens(conn, &row.id, purpose, at)?;
                revoke_sessions(conn, &row.id, None, at)?;
                diesel::delete(login_throttle::table.find(&row.email_canonical)).execute(conn)?;
                record(conn, &audit)?;
                Ok(true)
            })
        })
        .await
    }
}

/// Ends every reset link of the account not used yet: a link mailed before a password change
/// or a disable must not outlive it (re-enabling the account does not bring it back).
pub(crate) fn end_reset_links(
    conn: &mut DbConnection,
    account_id: &str,
    at: NaiveDateTime,
) -> Result<(), TxError> {
    use_up_tokens(conn, account_id, EmailTokenPurpose::PasswordReset, at)
}
