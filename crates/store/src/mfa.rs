//! `MfaStore` on diesel: `mfa_totp`, `mfa_recovery_codes` and `mfa_challenges`.
//!
//! Single use holds under concurrency on both backends because each "use" is one
//! conditional UPDATE or DELETE (a TOTP step newer than the last, an unused recovery code, a
//! live challenge): of two racing requests, one changes the row and the other changes
//! nothing.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use roster_app::model::{
    AuditEvent, Conflict, MfaChallenge, NewSession, SealedTotpSecret, StoreError, TokenDigest,
    TotpRecord,
};
use roster_app::ports::MfaStore;
use roster_domain::{AccountId, AccountStatus};
use uuid::Uuid;

use crate::accounts::revoke_sessions;
use crate::audit::record;
use crate::connection::{DbConnection, Store, write_transaction};
use crate::errors::{TxError, corrupt, translate};
use crate::rows::{from_db_time, to_db_time};
use crate::schema::{accounts, mfa_challenges, mfa_recovery_codes, mfa_totp, passkeys};
use crate::second_factor::{drop_codes_without_factor, refresh_second_factor};
use crate::sessions::insert_session;

/// Column order must match `schema::mfa_totp`.
#[derive(Debug, Queryable)]
struct TotpRow {
    #[allow(dead_code)] // the key it was found by
    account_id: String,
    sealed_secret: String,
    #[allow(dead_code)] // for operators reading the table
    created_at: NaiveDateTime,
    confirmed_at: Option<NaiveDateTime>,
    last_used_step: Option<i64>,
}

/// Replaces the account's recovery codes, inside the caller's transaction.
fn replace_codes(
    conn: &mut DbConnection,
    account_id: AccountId,
    digests: &[TokenDigest],
    at: DateTime<Utc>,
) -> Result<(), TxError> {
    let id = account_id.to_string();
    diesel::delete(mfa_recovery_codes::table.filter(mfa_recovery_codes::account_id.eq(&id)))
        .execute(conn)?;
    // One statement per code: batch inserts do not work across both backends here, and a
    // set is ten rows.
    for digest in digests {
        diesel::insert_into(mfa_recovery_codes::table)
            .values((
                mfa_recovery_codes::code_digest.eq(digest.as_str()),
                mfa_recovery_codes::account_id.eq(&id),
                mfa_recovery_codes::created_at.eq(to_db_time(at)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

#[async_trait]
impl MfaStore for Store {
    async fn totp(&self, account_id: AccountId) -> Result<Option<TotpRecord>, StoreError> {
        self.run(move |conn| {
            let row = mfa_totp::table
                .find(account_id.to_string())
                .get_result::<TotpRow>(conn)
                .optional()
                .map_err(translate)?;
            Ok(row.map(|row| TotpRecord {
                sealed: SealedTotpSecret(row.sealed_secret),
                confirmed: row.confirmed_at.is_some(),
                last_used_step: row.last_used_step,
            }))
        })
        .await
    }

    async fn begin_totp(
        &self,
        account_id: AccountId,
        sealed: &SealedTotpSecret,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sealed = sealed.0.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                let id = account_id.to_string();
                let existing = mfa_totp::table
                    .find(&id)
                    .select(mfa_totp::confirmed_at)
                    .get_result::<Option<NaiveDateTime>>(conn)
                    .optional()?;
                match existing {
                    Some(Some(_)) => Err(StoreError::Duplicate(Conflict::TotpEnrolled).into()),
                    Some(None) => {
                        diesel::update(mfa_totp::table.find(&id))
                            .set((
                                mfa_totp::sealed_secret.eq(&sealed),
                                mfa_totp::created_at.eq(to_db_time(at)),
                            ))
                            .execute(conn)?;
                        Ok(())
                    }
                    None => {
                        diesel::insert_into(mfa_totp::table)
                            .values((
                                mfa_totp::account_id.eq(&id),
                                mfa_totp::sealed_secret.eq(&sealed),
                                mfa_totp::created_at.eq(to_db_time(at)),
                            ))
                            .execute(conn)?;
                        Ok(())
                    }
                }
            })
        })
        .await
    }

    async fn confirm_totp(
        &self,
        account_id: AccountId,
        sealed: &SealedTotpSecret,
        step: i64,
        recovery_codes: &[TokenDigest],
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let sealed = sealed.0.clone();
        let codes = recovery_codes.to_vec();
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                let confirmed = diesel::update(
                    mfa_totp::table
                        .find(account_id.to_string())
                        .filter(mfa_totp::confirmed_at.is_null())
                        .filter(mfa_totp::sealed_secret.eq(&sealed)),
                )
                .set((
                    mfa_totp::confirmed_at.eq(Some(to_db_time(at))),
                    mfa_totp::last_used_step.eq(Some(step)),
                ))
                .execute(conn)?;
                if confirmed == 0 {
                    return Ok(false);
                }
                replace_codes(conn, account_id, &codes, at)?;
                refresh_second_factor(conn, account_id)?;
                record(conn, &audit)?;
                Ok(true)
            })
        })
        .await
    }

    async fn use_totp_step(&self, account_id: AccountId, step: i64) -> Result<bool, StoreError> {
        self.run(move |conn| {
            let updated = diesel::update(
                mfa_totp::table
                    .find(account_id.to_string())
                    .filter(mfa_totp::confirmed_at.is_not_null())
                    .filter(
                        mfa_totp::last_used_step
                            .is_null()
                            .or(mfa_totp::last_used_step.lt(step)),
                    ),
            )
            .set(mfa_totp::last_used_step.eq(Some(step)))
            .execute(conn)
            .map_err(translate)?;
            Ok(updated == 1)
        })
        .await
    }

    async fn remove_totp(
        &self,
        account_id: AccountId,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                let removed =
                    diesel::delete(mfa_totp::table.find(account_id.to_string())).execute(conn)?;
                if removed == 0 {
                    return Ok(false);
                }
                drop_codes_without_factor(conn, account_id)?;
                record(conn, &audit)?;
                Ok(true)
            })
        })
        .await
    }

    async fn replace_recovery_codes(
        &self,
        account_id: AccountId,
        recovery_codes: &[TokenDigest],
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let codes = recovery_codes.to_vec();
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                replace_codes(conn, account_id, &codes, at)?;
                record(conn, &audit)
            })
        })
        .await
    }

    async fn use_recovery_code(
        &self,
        account_id: AccountId,
        digest: &TokenDigest,
        at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let digest = digest.clone();
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                let used = diesel::update(
                    mfa_recovery_codes::table
                        .find(digest.as_str())
                        .filter(mfa_recovery_codes::account_id.eq(account_id.to_string()))
                        .filter(mfa_recovery_codes::used_at.is_null()),
                )
                .set(mfa_recovery_codes::used_at.eq(Some(to_db_time(at))))
                .execute(conn)?;
                if used == 1 {
                    record(conn, &audit)?;
                }
                Ok(used == 1)
            })
        })
        .await
    }

    async fn recovery_codes_left(&self, account_id: AccountId) -> Result<u32, StoreError> {
        self.run(move |conn| {
            let left: i64 = mfa_recovery_codes::table
                .filter(mfa_recovery_codes::account_id.eq(account_id.to_string()))
                .filter(mfa_recovery_codes::used_at.is_null())
                .count()
                .get_result(conn)
                .map_err(translate)?;
            u32::try_from(left).map_err(|e| corrupt("recovery code count", e))
        })
        .await
    }

    async fn remove_all_factors(
        &self,
        account_id: AccountId,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                let id = account_id.to_string();
                diesel::delete(mfa_totp::table.find(&id)).execute(conn)?;
                diesel::delete(passkeys::table.filter(passkeys::account_id.eq(&id)))
                    .execute(conn)?;
                diesel::delete(
                    mfa_recovery_codes::table.filter(mfa_recovery_codes::account_id.eq(&id)),
                )
                .execute(conn)?;
                revoke_sessions(conn, &id, None, to_db_time(audit.at))?;
                refresh_second_factor(conn, account_id)?;
                record(conn, &audit)
            })
        })
        .await
    }

    async fn superadmins_without_second_factor(&self) -> Result<i64, StoreError> {
        self.run(move |conn| {
            accounts::table
                .filter(accounts::is_superadmin.eq(true))
                .filter(accounts::status.eq(AccountStatus::Active.as_str()))
                .filter(accounts::has_second_factor.eq(false))
                .count()
                .get_result(conn)
                .map_err(translate)
        })
        .await
    }

    async fn open_mfa_challenge(
        &self,
        challenge: &MfaChallenge,
        digest: &TokenDigest,
        created_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let challenge = challenge.clone();
        let digest = digest.clone();
        self.run(move |conn| {
            diesel::insert_into(mfa_challenges::table)
                .values((
                    mfa_challenges::id.eq(challenge.id.to_string()),
                    mfa_challenges::token_digest.eq(digest.as_str()),
                    mfa_challenges::account_id.eq(challenge.account_id.to_string()),
                    mfa_challenges::created_at.eq(to_db_time(created_at)),
                    mfa_challenges::expires_at.eq(to_db_time(challenge.expires_at)),
                    mfa_challenges::failures.eq(0),
                ))
                .execute(conn)
                .map_err(translate)?;
            Ok(())
        })
        .await
    }

    async fn find_mfa_challenge(
        &self,
        digest: &TokenDigest,
        now: DateTime<Utc>,
        max_failures: u32,
    ) -> Result<Option<MfaChallenge>, StoreError> {
        let digest = digest.clone();
        self.run(move |conn| {
            let row = mfa_challenges::table
                .filter(mfa_challenges::token_digest.eq(digest.as_str()))
                .filter(mfa_challenges::expires_at.gt(to_db_time(now)))
                .filter(mfa_challenges::failures.lt(failure_cap(max_failures)))
                .select((
                    mfa_challenges::id,
                    mfa_challenges::account_id,
                    mfa_challenges::expires_at,
                    mfa_challenges::failures,
                ))
                .get_result::<(String, String, NaiveDateTime, i32)>(conn)
                .optional()
                .map_err(translate)?;
            row.map(|(id, account_id, expires_at, failures)| {
                Ok(MfaChallenge {
                    id: id.parse().map_err(|e| corrupt("mfa challenge id", e))?,
                    account_id: account_id
                        .parse()
                        .map_err(|e| corrupt("mfa challenge account", e))?,
                    expires_at: from_db_time(expires_at),
                    failures: u32::try_from(failures)
                        .map_err(|e| corrupt("mfa challenge failures", e))?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn reserve_mfa_attempt(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        max_attempts: u32,
    ) -> Result<bool, StoreError> {
        self.run(move |conn| {
            let reserved = diesel::update(
                mfa_challenges::table
                    .find(id.to_string())
                    .filter(mfa_challenges::expires_at.gt(to_db_time(now)))
                    .filter(mfa_challenges::failures.lt(failure_cap(max_attempts))),
            )
            .set(mfa_challenges::failures.eq(mfa_challenges::failures + 1))
            .execute(conn)
            .map_err(translate)?;
            Ok(reserved == 1)
        })
        .await
    }

    async fn finish_mfa_challenge(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        session: &NewSession,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let session = session.clone();
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                let ended = diesel::delete(
                    mfa_challenges::table
                        .find(id.to_string())
                        .filter(mfa_challenges::expires_at.gt(to_db_time(now))),
                )
                .execute(conn)?;
                if ended == 0 {
                    return Ok(false);
                }
                insert_session(conn, &session)?;
                record(conn, &audit)?;
                Ok(true)
            })
        })
        .await
    }

    async fn forget_expired_challenges(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<usize, StoreError> {
        self.run(move |conn| {
            let expired = mfa_challenges::table
                .filter(mfa_challenges::expires_at.le(to_db_time(now)))
                .select(mfa_challenges::id)
                .limit(limit)
                .load::<String>(conn)
                .map_err(translate)?;
            if expired.is_empty() {
                return Ok(0);
            }
            diesel::delete(mfa_challenges::table.filter(mfa_challenges::id.eq_any(&expired)))
                .execute(conn)
                .map_err(translate)
        })
        .await
    }
}

/// The failure count a live challenge stays under, as the column's type.
fn failure_cap(max_failures: u32) -> i32 {
    i32::try_from(max_failures).unwrap_or(i32::MAX)
}
