//! `PasskeyStore` on diesel: `passkeys` and the `webauthn_ceremonies` in flight.
//!
//! Adding or removing a passkey recomputes the account's `has_second_factor`
//! ([`refresh_second_factor`]) and records its audit event in the same transaction. A
//! ceremony is taken with `DELETE ... RETURNING`: of two nodes finishing the same ceremony at
//! once, one gets the row and the other nothing, on either backend.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use roster_app::model::{
    AuditEvent, Ceremony, CeremonyPurpose, CeremonyState, CredentialId, Passkey, PasskeyCredential,
    PasskeyId, SessionId, StoreError, StoredPasskey,
};
use roster_app::ports::PasskeyStore;
use roster_domain::AccountId;
use uuid::Uuid;

use crate::audit::record;
use crate::connection::{Store, with_backend, write_transaction};
use crate::errors::{corrupt, translate};
use crate::rows::{from_db_time, to_db_time};
use crate::schema::{passkeys, webauthn_ceremonies};
use crate::second_factor::{drop_codes_without_factor, refresh_second_factor};

/// Column order must match `schema::passkeys`.
#[derive(Debug, Queryable)]
struct PasskeyRow {
    id: String,
    account_id: String,
    name: String,
    credential_id: String,
    credential: String,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
}

impl PasskeyRow {
    fn into_stored(self) -> Result<StoredPasskey, StoreError> {
        Ok(StoredPasskey {
            passkey: Passkey {
                id: PasskeyId::new(self.id.parse().map_err(|e| corrupt("passkey id", e))?),
                name: self.name,
                created_at: from_db_time(self.created_at),
                last_used_at: self.last_used_at.map(from_db_time),
            },
            account_id: self
                .account_id
                .parse()
                .map_err(|e| corrupt("passkey account id", e))?,
            credential_id: CredentialId(self.credential_id),
            credential: PasskeyCredential(self.credential),
        })
    }
}

/// Column order must match `schema::webauthn_ceremonies`.
#[derive(Debug, Queryable)]
struct CeremonyRow {
    challenge: String,
    purpose: String,
    account_id: Option<String>,
    session_id: Option<String>,
    mfa_challenge_id: Option<String>,
    state: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

impl CeremonyRow {
    fn into_ceremony(self) -> Result<Ceremony, StoreError> {
        Ok(Ceremony {
            purpose: CeremonyPurpose::parse(&self.purpose)
                .ok_or_else(|| corrupt("ceremony purpose", &self.purpose))?,
            account_id: self
                .account_id
                .as_deref()
                .map(str::parse::<AccountId>)
                .transpose()
                .map_err(|e| corrupt("ceremony account id", e))?,
            session_id: self
                .session_id
                .as_deref()
                .map(|id| id.parse::<Uuid>().map(SessionId::new))
                .transpose()
                .map_err(|e| corrupt("ceremony session id", e))?,
            mfa_challenge_id: self
                .mfa_challenge_id
                .as_deref()
                .map(str::parse::<Uuid>)
                .transpose()
                .map_err(|e| corrupt("ceremony login challenge id", e))?,
            challenge: self.challenge,
            state: CeremonyState(self.state),
            created_at: from_db_time(self.created_at),
            expires_at: from_db_time(self.expires_at),
        })
    }
}

#[async_trait]
impl PasskeyStore for Store {
    async fn add_passkey(
        &self,
        passkey: &StoredPasskey,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let passkey = passkey.clone();
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                diesel::insert_into(passkeys::table)
                    .values((
                        passkeys::id.eq(passkey.passkey.id.to_string()),
                        passkeys::account_id.eq(passkey.account_id.to_string()),
                        passkeys::name.eq(&passkey.passkey.name),
                        passkeys::credential_id.eq(&passkey.credential_id.0),
                        passkeys::credential.eq(&passkey.credential.0),
                        passkeys::created_at.eq(to_db_time(passkey.passkey.created_at)),
                        passkeys::last_used_at.eq(passkey.passkey.last_used_at.map(to_db_time)),
                    ))
                    .execute(conn)?;
                refresh_second_factor(conn, passkey.account_id)?;
                record(conn, &audit)
            })
        })
        .await
    }

    async fn list_passkeys(&self, account_id: AccountId) -> Result<Vec<StoredPasskey>, StoreError> {
        self.run(move |conn| {
            let rows = passkeys::table
                .filter(passkeys::account_id.eq(account_id.to_string()))
                .order((passkeys::created_at, passkeys::id))
                .load::<PasskeyRow>(conn)
                .map_err(translate)?;
            rows.into_iter().map(PasskeyRow::into_stored).collect()
        })
        .await
    }

    async fn find_passkey(
        &self,
        credential_id: &CredentialId,
    ) -> Result<Option<StoredPasskey>, StoreError> {
        let credential_id = credential_id.0.clone();
        self.run(move |conn| {
            let row = with_backend!(conn, |c| passkeys::table
                .filter(passkeys::credential_id.eq(&credential_id))
                .get_result::<PasskeyRow>(c)
                .optional())
            .map_err(translate)?;
            row.map(PasskeyRow::into_stored).transpose()
        })
        .await
    }

    async fn record_passkey_use(
        &self,
        id: PasskeyId,
        at: DateTime<Utc>,
        updated: Option<PasskeyCredential>,
    ) -> Result<(), StoreError> {
        self.run(move |conn| {
            let passkey = passkeys::table.find(id.to_string());
            let used_at = passkeys::last_used_at.eq(Some(to_db_time(at)));
            match updated {
                Some(credential) => diesel::update(passkey)
                    .set((used_at, passkeys::credential.eq(credential.0)))
                    .execute(conn),
                None => diesel::update(passkey).set(used_at).execute(conn),
            }
            .map_err(translate)?;
            Ok(())
        })
        .await
    }

    async fn remove_passkey(
        &self,
        account_id: AccountId,
        id: PasskeyId,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let audit = audit.clone();
        self.run(move |conn| {
            write_transaction(conn, |conn| {
                let removed = diesel::delete(
                    passkeys::table
                        .find(id.to_string())
                        .filter(passkeys::account_id.eq(account_id.to_string())),
                )
                .execute(conn)?;
                if removed == 0 {
                    return Ok(false);
                }
                // The recovery codes go with the last factor (as when TOTP is removed).
                drop_codes_without_factor(conn, account_id)?;
                record(conn, &audit)?;
                Ok(true)
            })
        })
        .await
    }

    async fn save_ceremony(&self, ceremony: &Ceremony) -> Result<(), StoreError> {
        let ceremony = ceremony.clone();
        self.run(move |conn| {
            diesel::insert_into(webauthn_ceremonies::table)
                .values((
                    webauthn_ceremonies::challenge.eq(&ceremony.challenge),
                    webauthn_ceremonies::purpose.eq(ceremony.purpose.as_str()),
                    webauthn_ceremonies::account_id
                        .eq(ceremony.account_id.map(|id| id.to_string())),
                    webauthn_ceremonies::session_id
                        .eq(ceremony.session_id.map(|id| id.to_string())),
                    webauthn_ceremonies::mfa_challenge_id
                        .eq(ceremony.mfa_challenge_id.map(|id| id.to_string())),
                    webauthn_ceremonies::state.eq(&ceremony.state.0),
                    webauthn_ceremonies::created_at.eq(to_db_time(ceremony.created_at)),
                    webauthn_ceremonies::expires_at.eq(to_db_time(ceremony.expires_at)),
                ))
                .execute(conn)
                .map_err(translate)?;
            Ok(())
        })
        .await
    }

    async fn take_ceremony(
        &self,
        challenge: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Ceremony>, StoreError> {
        let challenge = challenge.to_owned();
        self.run(move |conn| {
            // Deleted whether or not it expired: an expired ceremony is of no further use.
            let row = with_backend!(conn, |c| diesel::delete(
                webauthn_ceremonies::table.find(&challenge)
            )
            .returning(webauthn_ceremonies::all_columns)
            .get_result::<CeremonyRow>(c)
            .optional())
            .map_err(translate)?;
            match row {
                Some(row) if row.expires_at > to_db_time(now) => row.into_ceremony().map(Some),
                _ => Ok(None),
            }
        })
        .await
    }

    async fn forget_expired_ceremonies(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<usize, StoreError> {
        self.run(move |conn| {
            let expired = webauthn_ceremonies::table
                .filter(webauthn_ceremonies::expires_at.le(to_db_time(now)))
                .select(webauthn_ceremonies::challenge)
                .limit(limit)
                .load::<String>(conn)
                .map_err(translate)?;
            if expired.is_empty() {
                return Ok(0);
            }
            diesel::delete(
                webauthn_ceremonies::table.filter(webauthn_ceremonies::challenge.eq_any(&expired)),
            )
            .execute(conn)
            .map_err(translate)
        })
        .await
    }
}
