//! Decoded grants of recently seen principals, reused while the holder's `grants_version` is
//! unchanged.
//!
//! Why: every authenticated request needs the caller's grants, and decoding them from rows
//! (ids, role names, scopes, each role's rules from JSON) cost more than the rest of the
//! request: about 1 µs per grant, so 200 grants took several times the framework's own cost of
//! a request. The version comes with the session or API-key row that every request reads
//! anyway, so a cache hit costs no database work at all.
//!
//! Why it is safe (revocation takes effect on the next request, on every node):
//! - every change to what a holder may do raises its version in the same transaction:
//!   a grant added ([`raise_holder`]) or removed, or the rules of a role it holds replaced
//!   ([`raise_role_holders`]);
//! - an entry is only used for the exact version it was stored under, and it was loaded
//!   after that version was read, so it is never older than that version. (A change that
//!   commits in between makes the entry newer than its label; the next lookup reads the new
//!   version, misses and loads again.)
//! - The version lives in the database, so every node sees a change on its next lookup;
//!   nothing needs to be broadcast.
//!
//! After restoring a database backup, restart the nodes: versions may then go back to values
//! an entry was stored under.

use std::sync::Arc;

use diesel::prelude::*;
use quick_cache::Weighter;
use quick_cache::sync::Cache;
use roster_app::ports::StoreError;
use roster_domain::{Grant, PrincipalId};

use crate::connection::DbConnection;
use crate::errors::TxError;
use crate::schema::{account_grants, accounts, api_key_grants, api_keys};

/// How many grants the cache holds at most, over all principals (a grant in memory takes a
/// few hundred bytes, so this bounds the cache at roughly 10-20 MiB).
const CAPACITY_GRANTS: u64 = 50_000;

/// The number of principals the cache expects to hold, to size its tables.
const EXPECTED_PRINCIPALS: usize = 5_000;

#[derive(Clone)]
struct Entry {
    version: i64,
    grants: Arc<[Grant]>,
}

/// Weighs an entry by its grants, so a few principals with thousands of grants cannot keep
/// the memory of many small ones.
#[derive(Clone)]
struct ByGrantCount;

impl Weighter<PrincipalId, Entry> for ByGrantCount {
    fn weight(&self, _holder: &PrincipalId, entry: &Entry) -> u64 {
        entry.grants.len() as u64 + 1
    }
}

/// See the module documentation.
pub(crate) struct GrantsCache {
    entries: Cache<PrincipalId, Entry, ByGrantCount>,
}

impl GrantsCache {
    pub fn new() -> Self {
        Self {
            entries: Cache::with_weighter(EXPECTED_PRINCIPALS, CAPACITY_GRANTS, ByGrantCount),
        }
    }

    /// `holder`'s grants as of `version`: from memory when stored at that version, otherwise
    /// from `load` (which must read the database after `version` was read), then kept.
    pub fn get_or_load(
        &self,
        holder: PrincipalId,
        version: i64,
        load: impl FnOnce() -> Result<Vec<Grant>, StoreError>,
    ) -> Result<Arc<[Grant]>, StoreError> {
        if let Some(entry) = self.entries.get(&holder)
            && entry.version == version
        {
            return Ok(entry.grants);
        }
        let grants: Arc<[Grant]> = load()?.into();
        self.entries.insert(
            holder,
            Entry {
                version,
                grants: Arc::clone(&grants),
            },
        );
        Ok(grants)
    }
}

/// Raises `holder`'s grants version: call in the transaction that changes its grants.
pub(crate) fn raise_holder(conn: &mut DbConnection, holder: PrincipalId) -> Result<(), TxError> {
    match holder {
        PrincipalId::Account(id) => diesel::update(accounts::table.find(id.to_string()))
            .set(accounts::grants_version.eq(accounts::grants_version + 1))
            .execute(conn)?,
        PrincipalId::ApiKey(id) => diesel::update(api_keys::table.find(id.to_string()))
            .set(api_keys::grants_version.eq(api_keys::grants_version + 1))
            .execute(conn)?,
    };
    Ok(())
}

/// Raises the grants version of every account and API key holding `role`: call in the
/// transaction that replaces the role's rules, after updating the role's row. (On
/// PostgreSQL a grant being added holds the role's row `FOR SHARE`, so that update waits for
/// it, and this statement, which reads afresh, then sees the new holder too.)
pub(crate) fn raise_role_holders(conn: &mut DbConnection, role: &str) -> Result<(), TxError> {
    diesel::update(
        accounts::table.filter(
            accounts::id.eq_any(
                account_grants::table
                    .filter(account_grants::role_name.eq(role))
                    .select(account_grants::account_id),
            ),
        ),
    )
    .set(accounts::grants_version.eq(accounts::grants_version + 1))
    .execute(conn)?;
    diesel::update(
        api_keys::table.filter(
            api_keys::id.eq_any(
                api_key_grants::table
                    .filter(api_key_grants::role_name.eq(role))
                    .select(api_key_grants::api_key_id),
            ),
        ),
    )
    .set(api_keys::grants_version.eq(api_keys::grants_version + 1))
    .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use roster_domain::{AccountId, GrantId, RoleName, ScopePath};
    use uuid::Uuid;

    use super::*;

    fn holder() -> PrincipalId {
        PrincipalId::Account(AccountId::new(Uuid::from_u128(1)))
    }

    fn grant(n: u128) -> Grant {
        Grant {
            id: GrantId::new(Uuid::from_u128(n)),
            role: RoleName::parse("reader").unwrap(),
            scope: ScopePath::root(),
            permissions: Vec::new(),
        }
    }

    #[test]
    fn serves_from_memory_only_at_the_stored_version() {
        let cache = GrantsCache::new();
        let mut loads = 0;
        let mut load = |grants: Vec<Grant>| {
            loads += 1;
            move || Ok(grants)
        };
        let first = cache
            .get_or_load(holder(), 3, load(vec![grant(1)]))
            .unwrap();
        let again = cache
            .get_or_load(holder(), 3, || panic!("version 3 is cached"))
            .unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        // A raised version (a grant revoked) loads afresh, and replaces the entry.
        let after_revoke = cache.get_or_load(holder(), 4, load(Vec::new())).unwrap();
        assert!(after_revoke.is_empty());
        let older = cache
            .get_or_load(holder(), 3, load(vec![grant(2)]))
            .unwrap();
        assert_eq!(
            older[0].id,
            grant(2).id,
            "an entry is never used at another version"
        );
        assert_eq!(loads, 3);
    }

    #[test]
    fn a_failed_load_is_not_cached() {
        let cache = GrantsCache::new();
        let failed = cache.get_or_load(holder(), 1, || Err(StoreError::Unavailable("down".into())));
        assert!(failed.is_err());
        let loaded = cache
            .get_or_load(holder(), 1, || Ok(vec![grant(1)]))
            .unwrap();
        assert_eq!(loaded.len(), 1);
    }
}
