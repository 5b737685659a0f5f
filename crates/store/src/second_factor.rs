//! `accounts.has_second_factor`, recomputed from the factors themselves by every write that
//! adds or removes one (a passkey, a confirmed TOTP), inside that write's transaction.

use diesel::dsl::exists;
use diesel::prelude::*;
use roster_domain::AccountId;

use crate::connection::DbConnection;
use crate::errors::TxError;
use crate::schema::{accounts, mfa_recovery_codes, mfa_totp, passkeys};

/// Sets the account's `has_second_factor` to whether it has a confirmed TOTP or a passkey,
/// and returns it.
///
/// Call it inside a `write_transaction`, after the change to the factors. On PostgreSQL the
/// account row is locked first, in its own statement: a concurrent change to the same
/// account's factors then waits for this transaction, and the recount that follows sees what
/// it committed (read committed takes a snapshot per statement). Counting in the same
/// statement as the lock would count from the older snapshot, and two racing changes (a
/// passkey added while the TOTP is removed) could leave the flag false with a passkey stored.
/// `FOR NO KEY UPDATE` does not conflict with the key-share locks that inserting a factor
/// row takes on its account, so two additions cannot deadlock on them. SQLite's write
/// transaction holds the database's write lock already.
pub(crate) fn refresh_second_factor(
    conn: &mut DbConnection,
    account_id: AccountId,
) -> Result<bool, TxError> {
    let id = account_id.to_string();
    if let DbConnection::Pg(pg) = conn {
        accounts::table
            .find(&id)
            .select(accounts::id)
            .for_no_key_update()
            .get_result::<String>(pg)
            .optional()?;
    }
    let has_totp = exists(
        mfa_totp::table
            .filter(mfa_totp::account_id.eq(&id))
            .filter(mfa_totp::confirmed_at.is_not_null()),
    );
    let has_passkey = exists(passkeys::table.filter(passkeys::account_id.eq(&id)));
    diesel::update(accounts::table.find(&id))
        .set(accounts::has_second_factor.eq(has_totp.or(has_passkey)))
        .execute(conn)?;
    Ok(accounts::table
        .find(&id)
        .select(accounts::has_second_factor)
        .get_result::<bool>(conn)
        .optional()?
        .unwrap_or(false))
}

/// Deletes the account's recovery codes when it has no second factor left: they recover
/// nothing then, and a later enrolment hands out a new set.
pub(crate) fn drop_codes_without_factor(
    conn: &mut DbConnection,
    account_id: AccountId,
) -> Result<(), TxError> {
    if !refresh_second_factor(conn, account_id)? {
        diesel::delete(
            mfa_recovery_codes::table
                .filter(mfa_recovery_codes::account_id.eq(account_id.to_string())),
        )
        .execute(conn)?;
    }
    Ok(())
}
