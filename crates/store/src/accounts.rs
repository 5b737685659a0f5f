//! `AccountRepository` on diesel.

use async_trait::async_trait;
use diesel::prelude::*;
use roster_app::ports::{AccountRepository, PasswordHash, StoreError, StoredAccount};
use roster_domain::{Account, AccountId, Grant};

use crate::connection::Store;
use crate::errors::translate;
use crate::rows::{AccountRow, GrantWithRules, NewAccountRow, grant_from_row};
use crate::schema::{account_grants, accounts, roles};

#[async_trait]
impl AccountRepository for Store {
    async fn insert(
        &self,
        account: &Account,
        password_hash: &PasswordHash,
    ) -> Result<(), StoreError> {
        let account = account.clone();
        let password_hash = password_hash.clone();
        self.run(move |conn| {
            diesel::insert_into(accounts::table)
                .values(NewAccountRow::new(&account, &password_hash))
                .execute(conn)
                .map_err(|e| translate(e, "email"))?;
            Ok(())
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
                .first::<AccountRow>(conn)
                .optional()
                .map_err(|e| translate(e, "account"))?;
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
                .first::<AccountRow>(conn)
                .optional()
                .map_err(|e| translate(e, "account"))?;
            row.map(|row| row.into_account().map(|(account, _)| account))
                .transpose()
        })
        .await
    }

    async fn grants_of(&self, id: AccountId) -> Result<Vec<Grant>, StoreError> {
        self.run(move |conn| {
            let rows = account_grants::table
                .inner_join(roles::table)
                .filter(account_grants::account_id.eq(id.to_string()))
                .select((
                    account_grants::id,
                    account_grants::role_name,
                    account_grants::scope,
                    roles::permissions,
                ))
                .order(account_grants::id)
                .load::<GrantWithRules>(conn)
                .map_err(|e| translate(e, "grant"))?;
            rows.into_iter().map(grant_from_row).collect()
        })
        .await
    }

    async fn superadmin_exists(&self) -> Result<bool, StoreError> {
        self.run(|conn| {
            let count: i64 = accounts::table
                .filter(accounts::is_superadmin.eq(true))
                .count()
                .get_result(conn)
                .map_err(|e| translate(e, "account"))?;
            Ok(count > 0)
        })
        .await
    }
}
