//! `accounts.has_second_factor`, kept in step with the factors: every transaction that adds
//! or removes a confirmed TOTP or a passkey ends by calling [`refresh_second_factor`].

use diesel::dsl::exists;
use diesel::prelude::*;
use roster_domain::AccountId;

use crate::connection::DbConnection;
use crate::errors::TxError;
use crate::schema::{accounts, mfa_totp, passkeys};

/// Sets the account's `has_second_factor` from what it holds now (a confirmed TOTP or a
/// passkey), inside the caller's transaction. Returns the new value.
pub(crate) fn refresh_second_factor(
    conn: &mut DbConnection,
    account_id: AccountId,
) -> Result<bool, TxError> {
    let id = account_id.to_string();
    let totp: bool = diesel::select(exists(
        mfa_totp::table
            .filter(mfa_totp::account_id.eq(&id))
            .filter(mfa_totp::confirmed_at.is_not_null()),
    ))
    .get_result(conn)?;
    let passkey: bool =
        diesel::select(exists(passkeys::table.filter(passkeys::account_id.eq(&id))))
            .get_result(conn)?;
    let has = totp || passkey;
    diesel::update(accounts::table.find(&id))
        .set(accounts::has_second_factor.eq(has))
        .execute(conn)?;
    Ok(has)
}
