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
//! - every change to what a holder may do raises its version in the same transaction: a
//!   grant added, changed or removed, or the rules of a role it holds replaced. Database
//!   triggers do it (migration `000004_grants_version`), so it holds for every writer: this
//!   code, an older node during a rolling upgrade, or SQL typed by hand;
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

use quick_cache::sync::Cache;
use quick_cache::sync::DefaultLifecycle;
use quick_cache::{DefaultHashBuilder, OptionsBuilder, Weighter};
use roster_app::model::StoreError;
use roster_domain::{Grant, PrincipalId};

/// How many grants the cache holds at most, over all principals (a grant in memory takes a
/// few hundred bytes, so this bounds the cache at roughly 10-20 MiB).
const CAPACITY_GRANTS: u64 = 50_000;

/// The number of principals the cache expects to hold, to size its tables.
const EXPECTED_PRINCIPALS: usize = 5_000;

/// Independent parts of the cache, each with its own lock and an equal share of the capacity.
/// Fixed rather than the crate's default of four per core: an entry heavier than its part
/// is never kept, so on a 32-core node the default would have left every principal with
/// more than about 380 grants uncached. With 8 parts, principals of up to about 6,000
/// grants are cached; larger ones are loaded on every request.
const SHARDS: usize = 8;

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
    entries: Cache<
        PrincipalId,
        Entry,
        ByGrantCount,
        DefaultHashBuilder,
        DefaultLifecycle<PrincipalId, Entry>,
    >,
}

impl GrantsCache {
    pub fn new() -> Self {
        let options = OptionsBuilder::new()
            .estimated_items_capacity(EXPECTED_PRINCIPALS)
            .weight_capacity(CAPACITY_GRANTS)
            .shards(SHARDS)
            .build()
            .expect("the cache options are valid constants");
        Self {
            entries: Cache::with_options(
                options,
                ByGrantCount,
                DefaultHashBuilder::default(),
                DefaultLifecycle::default(),
            ),
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
    fn a_principal_with_thousands_of_grants_is_kept() {
        let cache = GrantsCache::new();
        let many: Vec<Grant> = (0..5_000).map(grant).collect();
        cache.get_or_load(holder(), 1, || Ok(many)).unwrap();
        let again = cache
            .get_or_load(holder(), 1, || {
                panic!("5,000 grants fit one part of the cache")
            })
            .unwrap();
        assert_eq!(again.len(), 5_000);
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
