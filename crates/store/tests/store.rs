//! Integration tests of the storage adapter, each case run against SQLite and, when
//! `ROSTER_TEST_POSTGRES_URL` is set, PostgreSQL:
//!
//! ```text
//! cargo test -p roster-store
//! ROSTER_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo test -p roster-store
//! ```

#[macro_use]
mod common;

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, TimeDelta, TimeZone, Utc};
use common::TestDb;
use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::sqlite::SqliteConnection;
use roster_app::ports::{
    AccountRepository, NewSession, PasswordHash, Readiness, SessionId, SessionRecord, SessionStore,
    StatusChange, StoreError, TokenDigest,
};
use roster_domain::{
    Account, AccountId, AccountStatus, ActionPattern, DisplayName, Email, Grant, GrantId,
    Permission, RoleName, ScopePath,
};
use roster_store::{Backend, DatabaseSettings, StartupError, Store};
use uuid::Uuid;

on_both_backends!(
    migrations_apply_once_and_gate_readiness,
    accounts_round_trip,
    canonical_email_is_unique,
    superadmin_exists_follows_inserts,
    missing_accounts_are_none,
    concurrent_inserts_of_one_email,
    sessions_round_trip,
    touch_only_moves_forward,
    duplicate_session_digest,
    session_needs_an_existing_account,
    grants_are_read_with_their_rules,
);

// ---------------------------------------------------------------------------------------
// Fixtures

const HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA";

/// Now, at the microsecond precision both databases keep.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn account(email: &str, name: Option<&str>, is_superadmin: bool, at: DateTime<Utc>) -> Account {
    Account {
        id: AccountId::new(Uuid::now_v7()),
        email: Email::parse(email).unwrap_or_else(|e| panic!("{email:?}: {e}")),
        name: name.map(|name| DisplayName::parse(name).unwrap()),
        status: AccountStatus::Active,
        is_superadmin,
        created_at: at,
        updated_at: at,
    }
}

fn hash() -> PasswordHash {
    PasswordHash::new(HASH)
}

/// `Account`'s `PartialEq` compares emails by canonical form only; this also checks that the
/// email comes back exactly as given.
fn assert_same_account(found: &Account, expected: &Account) {
    assert_eq!(found, expected);
    assert_eq!(
        found.email.as_str(),
        expected.email.as_str(),
        "the email must be kept as given"
    );
    assert_eq!(found.email.canonical(), expected.email.canonical());
}

/// A digest shaped like the real thing (64 hex characters), readable in a failure message.
fn digest(label: &str) -> TokenDigest {
    let hex = label.bytes().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    });
    TokenDigest::new(format!("{hex:0>64}"))
}

fn new_session(
    account: &Account,
    token_digest: TokenDigest,
    created_at: DateTime<Utc>,
) -> NewSession {
    NewSession {
        id: SessionId::new(Uuid::now_v7()),
        account_id: account.id,
        token_digest,
        created_at,
        expires_at: created_at + TimeDelta::days(30),
    }
}

async fn find_session(store: &Store, digest: &TokenDigest) -> SessionRecord {
    store
        .find_by_digest(digest)
        .await
        .expect("find_by_digest")
        .expect("the session exists")
}

/// Runs a blocking start-up call on its own thread and gives up after `limit`, so a hang
/// fails the test instead of stalling the run.
fn connect_within(
    settings: DatabaseSettings,
    limit: Duration,
) -> (Result<Store, StartupError>, Duration) {
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let _ = tx.send(Store::connect(&settings));
    });
    let result = rx
        .recv_timeout(limit)
        .unwrap_or_else(|_| panic!("Store::connect still blocked after {limit:?}"));
    (result, started.elapsed())
}

// ---------------------------------------------------------------------------------------
// Migrations and readiness

async fn migrations_apply_once_and_gate_readiness(db: TestDb) {
    let store = db.connect();
    match store.check_ready().await {
        Err(StoreError::Unavailable(reason)) => assert!(reason.contains("pending"), "{reason}"),
        other => panic!("an unmigrated database must not be ready, got {other:?}"),
    }

    let applied = store.run_migrations().expect("first run");
    assert_eq!(
        applied.len(),
        db.migration_count(),
        "every migration: {applied:?}"
    );
    assert!(applied.is_sorted(), "applied in version order: {applied:?}");
    store.check_ready().await.expect("ready once migrated");

    assert_eq!(
        store.run_migrations().expect("second run"),
        Vec::<String>::new()
    );
    // Another node starting on the same database finds nothing to do either.
    let other = db.connect();
    assert_eq!(
        other.run_migrations().expect("other node"),
        Vec::<String>::new()
    );
    other.check_ready().await.expect("ready on the other node");
    assert_eq!(store.backend_name(), db.backend().name());
}

// ---------------------------------------------------------------------------------------
// Accounts

async fn accounts_round_trip(db: TestDb) {
    let store = db.store();
    let created = now();
    let mut ada = account(" Ada@Example.COM ", Some("Ada Lovelace"), false, created);
    ada.updated_at = created + TimeDelta::microseconds(1_500_001);
    // Whole seconds and a lone microsecond: SQLite stores text whose fraction length varies.
    let at = Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap();
    let mut root = account("root@example.org", None, true, at);
    root.status = AccountStatus::Disabled;
    root.updated_at = at + TimeDelta::microseconds(1);

    store.insert(&ada, &hash()).await.expect("insert ada");
    store
        .insert(&root, &PasswordHash::new("$argon2id$other"))
        .await
        .expect("insert root");

    let found = store
        .find_by_email("ada@example.com")
        .await
        .unwrap()
        .expect("found by canonical email");
    assert_same_account(&found.account, &ada);
    assert_eq!(
        found.account.email.as_str(),
        "Ada@Example.COM",
        "stored and shown as given (trimmed)"
    );
    assert_eq!(found.password_hash, hash());
    let by_id = store
        .find_by_id(ada.id)
        .await
        .unwrap()
        .expect("found by id");
    assert_same_account(&by_id, &ada);
    assert_eq!(
        by_id.updated_at - by_id.created_at,
        TimeDelta::microseconds(1_500_001)
    );

    let found = store
        .find_by_email("root@example.org")
        .await
        .unwrap()
        .expect("root by email");
    assert_same_account(&found.account, &root);
    assert_eq!(found.account.name, None);
    assert!(found.account.is_superadmin);
    assert_eq!(found.account.status, AccountStatus::Disabled);
    assert_eq!(found.password_hash, PasswordHash::new("$argon2id$other"));
    assert_same_account(
        &store
            .find_by_id(root.id)
            .await
            .unwrap()
            .expect("root by id"),
        &root,
    );
}

async fn canonical_email_is_unique(db: TestDb) {
    let store = db.store();
    let first = account("JÜRGEN@example.com", None, false, now());
    store.insert(&first, &hash()).await.expect("first insert");

    // Same canonical email: other case, surrounding spaces, decomposed umlaut, upper-case domain.
    for spelling in [
        "jürgen@example.com",
        "  Jürgen@Example.com\t",
        "ju\u{308}rgen@EXAMPLE.COM",
    ] {
        let twin = account(spelling, Some("Twin"), false, now());
        assert_eq!(
            twin.email.canonical(),
            first.email.canonical(),
            "test premise for {spelling:?}"
        );
        assert_eq!(
            store.insert(&twin, &hash()).await,
            Err(StoreError::Duplicate("email")),
            "{spelling:?}"
        );
        assert_eq!(
            store.find_by_id(twin.id).await.unwrap(),
            None,
            "nothing of {spelling:?} was written"
        );
    }

    let other = account("juergen@example.com", None, false, now());
    store
        .insert(&other, &hash())
        .await
        .expect("a different email is accepted");
    let found = store
        .find_by_email("jürgen@example.com")
        .await
        .unwrap()
        .expect("first account");
    assert_same_account(&found.account, &first);
    assert_eq!(found.account.email.as_str(), "JÜRGEN@example.com");
}

async fn superadmin_exists_follows_inserts(db: TestDb) {
    let store = db.store();
    assert!(!store.superadmin_exists().await.unwrap(), "empty database");
    store
        .insert(&account("user@example.com", None, false, now()), &hash())
        .await
        .unwrap();
    assert!(
        !store.superadmin_exists().await.unwrap(),
        "only an ordinary account"
    );
    store
        .insert(&account("admin@example.com", None, true, now()), &hash())
        .await
        .unwrap();
    assert!(store.superadmin_exists().await.unwrap());
}

async fn missing_accounts_are_none(db: TestDb) {
    let store = db.store();
    let ada = account("Ada@Example.com", None, false, now());
    store.insert(&ada, &hash()).await.unwrap();

    assert_eq!(
        store
            .find_by_id(AccountId::new(Uuid::now_v7()))
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .find_by_email("nobody@example.com")
            .await
            .unwrap()
            .is_none()
    );
    // The lookup takes the canonical form; the given form is not a key.
    assert!(
        store
            .find_by_email("Ada@Example.com")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .find_by_email("ada@example.com")
            .await
            .unwrap()
            .is_some()
    );
}

/// 24 tasks insert the same canonical email at once (spelled four ways): exactly one wins,
/// every other gets `Duplicate("email")` and nothing else (no "database is locked", no pool
/// timeout). Several rounds, because one round rarely exposes a missing busy timeout.
async fn concurrent_inserts_of_one_email(db: TestDb) {
    const RACERS: usize = 24;
    const ROUNDS: usize = 8;
    let store = db.store();
    for round in 0..ROUNDS {
        let spellings = [
            format!("race{round}@example.com"),
            format!("RACE{round}@example.com"),
            format!(" Race{round}@Example.COM "),
            format!("race{round}@EXAMPLE.com"),
        ];
        let barrier = Arc::new(tokio::sync::Barrier::new(RACERS));
        let tasks: Vec<_> = (0..RACERS)
            .map(|i| {
                let store = store.clone();
                let barrier = Arc::clone(&barrier);
                let racer = account(&spellings[i % spellings.len()], None, false, now());
                tokio::spawn(async move {
                    barrier.wait().await;
                    let result = store.insert(&racer, &hash()).await;
                    (racer, result)
                })
            })
            .collect();

        let mut winners = Vec::new();
        let mut duplicates = 0;
        let mut unexpected = Vec::new();
        for task in tasks {
            match task.await.expect("insert task panicked") {
                (racer, Ok(())) => winners.push(racer),
                (_, Err(StoreError::Duplicate("email"))) => duplicates += 1,
                (_, Err(other)) => unexpected.push(other),
            }
        }
        assert!(
            unexpected.is_empty(),
            "round {round}: only Duplicate(\"email\") may fail an insert: {unexpected:?}"
        );
        assert_eq!(winners.len(), 1, "round {round}: exactly one insert wins");
        assert_eq!(duplicates, RACERS - 1, "round {round}");
        let stored = store
            .find_by_email(&format!("race{round}@example.com"))
            .await
            .unwrap()
            .expect("the winner");
        assert_same_account(&stored.account, &winners[0]);
    }
}

// ---------------------------------------------------------------------------------------
// Sessions

async fn sessions_round_trip(db: TestDb) {
    let store = db.store();
    let ada = account(
        "Ada@Example.com",
        Some("Ada"),
        false,
        now() - TimeDelta::hours(1),
    );
    store.insert(&ada, &hash()).await.unwrap();
    let session = new_session(&ada, digest("ada-1"), now());
    store.create(&session).await.expect("create");

    let found = find_session(&store, &session.token_digest).await;
    assert_eq!(found.id, session.id);
    assert_same_account(&found.account, &ada);
    assert_eq!(found.created_at, session.created_at);
    assert_eq!(
        found.last_seen_at, session.created_at,
        "a new session was last seen when created"
    );
    assert_eq!(found.expires_at, session.expires_at);
    assert!(!found.revoked);

    assert!(
        store
            .find_by_digest(&digest("unknown"))
            .await
            .unwrap()
            .is_none()
    );
    // Same prefix, other digest: lookups are exact.
    let mut near = session.token_digest.as_str().to_owned();
    near.pop();
    near.push('f');
    assert!(
        store
            .find_by_digest(&TokenDigest::new(near))
            .await
            .unwrap()
            .is_none()
    );

    // A revoked session is still found, marked revoked: authentication refuses it.
    assert!(store.revoke(ada.id, session.id, now()).await.unwrap());
    assert!(find_session(&store, &session.token_digest).await.revoked);
}

async fn touch_only_moves_forward(db: TestDb) {
    let store = db.store();
    let ada = account("ada@example.com", None, false, now());
    store.insert(&ada, &hash()).await.unwrap();
    // Whole seconds: on SQLite the stored text has no fraction at all, the next values do.
    let created = Utc.with_ymd_and_hms(2026, 11, 28, 10, 0, 0).unwrap();
    let session = new_session(&ada, digest("ada-touch"), created);
    store.create(&session).await.unwrap();
    let last_seen = async || {
        find_session(&store, &session.token_digest)
            .await
            .last_seen_at
    };

    let later = created + TimeDelta::seconds(90) + TimeDelta::microseconds(250_000);
    store.touch(session.id, later).await.expect("touch forward");
    assert_eq!(last_seen().await, later);

    store
        .touch(session.id, later - TimeDelta::seconds(60))
        .await
        .expect("touch with an older time");
    assert_eq!(last_seen().await, later, "an older time changes nothing");
    store
        .touch(session.id, later)
        .await
        .expect("touch with the same time");
    assert_eq!(last_seen().await, later);

    let one_microsecond_on = later + TimeDelta::microseconds(1);
    store.touch(session.id, one_microsecond_on).await.unwrap();
    assert_eq!(
        last_seen().await,
        one_microsecond_on,
        "microsecond precision"
    );
    store
        .touch(
            session.id,
            later + TimeDelta::days(1) - TimeDelta::microseconds(250_000),
        )
        .await
        .unwrap();
    assert_eq!(
        last_seen().await,
        created + TimeDelta::days(1) + TimeDelta::seconds(90)
    );
    store.touch(session.id, created).await.unwrap();
    assert_eq!(
        last_seen().await,
        created + TimeDelta::days(1) + TimeDelta::seconds(90),
        "never backward"
    );

    let found = find_session(&store, &session.token_digest).await;
    assert_eq!(found.created_at, created, "touch leaves created_at alone");
    assert_eq!(
        found.expires_at, session.expires_at,
        "touch leaves expires_at alone"
    );
    // Touching a session that does not exist is not an error.
    store
        .touch(SessionId::new(Uuid::now_v7()), later)
        .await
        .expect("touch of a missing session");
}

async fn duplicate_session_digest(db: TestDb) {
    let store = db.store();
    let ada = account("ada@example.com", None, false, now());
    let bob = account("bob@example.com", None, false, now());
    store.insert(&ada, &hash()).await.unwrap();
    store.insert(&bob, &hash()).await.unwrap();
    let first = new_session(&ada, digest("shared"), now());
    store.create(&first).await.unwrap();

    let collision = new_session(&bob, digest("shared"), now());
    assert_eq!(
        store.create(&collision).await,
        Err(StoreError::Duplicate("session"))
    );
    let found = find_session(&store, &first.token_digest).await;
    assert_eq!(found.id, first.id, "the first session is untouched");
    assert_eq!(found.account.id, ada.id);

    let second = new_session(&ada, digest("other"), now());
    store
        .create(&second)
        .await
        .expect("an account may hold several sessions");
}

async fn session_needs_an_existing_account(db: TestDb) {
    let store = db.store();
    let ghost = account("ghost@example.com", None, false, now());
    let session = new_session(&ghost, digest("ghost"), now());
    match store.create(&session).await {
        Err(StoreError::Internal(_)) => {}
        other => {
            panic!("the foreign key must refuse a session of a missing account, got {other:?}")
        }
    }
    assert!(
        store
            .find_by_digest(&session.token_digest)
            .await
            .unwrap()
            .is_none()
    );
}

// ---------------------------------------------------------------------------------------
// Grants

async fn grants_are_read_with_their_rules(db: TestDb) {
    let store = db.store();
    let ada = account("ada@example.com", None, false, now());
    let bob = account("bob@example.com", None, false, now());
    store.insert(&ada, &hash()).await.unwrap();
    store.insert(&bob, &hash()).await.unwrap();
    assert_eq!(store.grants_of(ada.id).await.unwrap(), []);

    // The store does not write roles and grants yet: insert them by hand.
    let mut raw = db.raw_connection();
    let add_role = "INSERT INTO roles (name, description, permissions, created_at, updated_at) \
                    VALUES ($1, $2, $3, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)";
    raw.execute(
        add_role,
        &[
            "ops",
            "Everything but the issuer",
            r#"[{"action":"all","effect":"allow"},{"action":"issuer-*","effect":"deny"}]"#,
        ],
    )
    .unwrap();
    raw.execute(
        add_role,
        &[
            "viewer",
            "Reads accounts",
            r#"[{"action":"account-read","effect":"allow"}]"#,
        ],
    )
    .unwrap();
    let add_grant = "INSERT INTO account_grants (id, account_id, role_name, scope, created_at) \
                     VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)";
    // UUID v7 ids sort by creation: the order grants_of returns them in.
    let (first, second, bobs) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    raw.execute(
        add_grant,
        &[
            &second.to_string(),
            &ada.id.to_string(),
            "viewer",
            "acme.*.issuer",
        ],
    )
    .unwrap();
    raw.execute(
        add_grant,
        &[
            &first.to_string(),
            &ada.id.to_string(),
            "ops",
            "acme.berlin",
        ],
    )
    .unwrap();
    raw.execute(
        add_grant,
        &[&bobs.to_string(), &bob.id.to_string(), "viewer", "*"],
    )
    .unwrap();

    let ops = Grant {
        id: GrantId::new(first),
        role: RoleName::parse("ops").unwrap(),
        scope: ScopePath::parse("acme.berlin").unwrap(),
        permissions: vec![
            Permission::allow(ActionPattern::All),
            Permission::deny(ActionPattern::parse("issuer-*").unwrap()),
        ],
    };
    let viewer = Grant {
        id: GrantId::new(second),
        role: RoleName::parse("viewer").unwrap(),
        scope: ScopePath::parse("acme.*.issuer").unwrap(),
        permissions: vec![Permission::allow(
            ActionPattern::parse("account-read").unwrap(),
        )],
    };
    assert_eq!(store.grants_of(ada.id).await.unwrap(), [ops, viewer]);
    let bobs_grants = store.grants_of(bob.id).await.unwrap();
    assert_eq!(bobs_grants.len(), 1);
    assert_eq!(bobs_grants[0].id, GrantId::new(bobs));
    assert!(bobs_grants[0].scope.is_root());
    assert_eq!(
        store
            .grants_of(AccountId::new(Uuid::now_v7()))
            .await
            .unwrap(),
        []
    );
}

// Written out by hand for the ignored PostgreSQL variant; once fixed, move the case into
// `on_both_backends!` above.
mod two_superadmins_disabled_at_once_leave_one {
    #[tokio::test(flavor = "multi_thread")]
    async fn sqlite() {
        super::two_superadmins_disabled_at_once_leave_one(crate::common::TestDb::sqlite()).await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn postgres() {
        let Some(db) = crate::common::TestDb::postgres() else {
            return;
        };
        super::two_superadmins_disabled_at_once_leave_one(db).await;
    }
}

/// Two requests disabling the only two active super admins at once: one succeeds, the other
/// is refused with `LastSuperadmin`, decided under the write lock; neither fails. Several
/// rounds, since one race rarely interleaves badly.
async fn two_superadmins_disabled_at_once_leave_one(db: TestDb) {
    const ROUNDS: usize = 20;
    let store = db.store();
    let a = account("a@example.com", None, true, now());
    let b = account("b@example.com", None, true, now());
    store.insert(&a, &hash()).await.unwrap();
    store.insert(&b, &hash()).await.unwrap();
    for round in 0..ROUNDS {
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let tasks: Vec<_> = [a.id, b.id]
            .into_iter()
            .map(|id| {
                let store = store.clone();
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.set_status(id, AccountStatus::Disabled, now()).await
                })
            })
            .collect();
        let mut changed = Vec::new();
        let mut refused = 0;
        let mut unexpected = Vec::new();
        for task in tasks {
            match task.await.expect("set_status task panicked") {
                Ok(StatusChange::Changed(account)) => changed.push(account),
                Ok(StatusChange::LastSuperadmin) => refused += 1,
                other => unexpected.push(other),
            }
        }
        assert!(unexpected.is_empty(), "round {round}: {unexpected:?}");
        assert_eq!((changed.len(), refused), (1, 1), "round {round}");
        assert_eq!(changed[0].status, AccountStatus::Disabled);
        // Re-enable for the next round.
        let again = store
            .set_status(changed[0].id, AccountStatus::Active, now())
            .await
            .unwrap();
        assert!(
            matches!(again, StatusChange::Changed(ref account) if account.status == AccountStatus::Active)
        );
    }
}

// ---------------------------------------------------------------------------------------
// Backend-specific cases

/// The advisory lock lets nodes starting together migrate one at a time.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_migrations_postgres() {
    let Some(db) = TestDb::postgres() else { return };
    let stores: Vec<Store> = (0..4).map(|_| db.connect()).collect();
    let runs: Vec<_> = stores
        .iter()
        .cloned()
        .map(|store| tokio::task::spawn_blocking(move || store.run_migrations()))
        .collect();
    let mut applied = Vec::new();
    for run in runs {
        applied.extend(
            run.await
                .unwrap()
                .expect("every node's migration run succeeds"),
        );
    }
    assert_eq!(
        applied.len(),
        db.migration_count(),
        "each applied once in all: {applied:?}"
    );
    for store in &stores {
        store.check_ready().await.expect("ready");
    }
}

#[test]
fn refused_postgres_connection_fails_fast() {
    let mut settings = DatabaseSettings::new(Backend::Postgres(
        "postgres://postgres@127.0.0.1:1/nothing".into(),
    ));
    settings.connect_timeout = Duration::from_secs(2);
    let (result, elapsed) = connect_within(settings, Duration::from_secs(10));
    let error = result.expect_err("nothing listens on port 1");
    assert!(
        matches!(
            error,
            StartupError::Connect {
                backend: "postgres",
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("postgres"),
        "the message names the backend: {message}"
    );
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

/// A server that accepts the TCP connection but never answers (a stuck server, a proxy, a
/// wrong port): start-up should give up after `connect_timeout`.
#[test]
fn silent_postgres_server_times_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut settings = DatabaseSettings::new(Backend::Postgres(format!(
        "postgres://postgres@127.0.0.1:{port}/x"
    )));
    settings.connect_timeout = Duration::from_secs(2);
    let (result, elapsed) = connect_within(settings, Duration::from_secs(10));
    let error = result.expect_err("the server never answers");
    assert!(
        matches!(
            error,
            StartupError::Connect {
                backend: "postgres",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(elapsed < Duration::from_secs(6), "took {elapsed:?}");
    drop(listener);
}

#[test]
fn sqlite_folder_that_cannot_be_created_fails() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("plain-file");
    std::fs::write(&file, b"not a folder").unwrap();
    let path = file.join("data").join("roster.db");
    let (result, _) = connect_within(
        DatabaseSettings::new(Backend::Sqlite(path)),
        Duration::from_secs(10),
    );
    let error = result.expect_err("a folder cannot be created under a regular file");
    assert!(
        matches!(&error, StartupError::CreateFolder { path, .. } if path == &file.join("data")),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("SQLite") && message.contains("plain-file"),
        "{message}"
    );
}

#[test]
fn sqlite_path_that_is_a_folder_fails() {
    let folder = tempfile::tempdir().unwrap();
    let settings = DatabaseSettings::new(Backend::Sqlite(folder.path().to_owned()));
    let (result, _) = connect_within(settings, Duration::from_secs(10));
    let error = result.expect_err("a folder is no database file");
    assert!(
        matches!(
            error,
            StartupError::Connect {
                backend: "sqlite",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("sqlite"), "{error}");
}

/// Start-up on a SQLite file that another connection holds locked (a database still in
/// rollback-journal mode, e.g. a legacy file or one open in the `sqlite3` shell) should wait
/// up to `busy_timeout`, as every other statement does, instead of failing at once.
#[test]
fn sqlite_start_up_waits_for_a_locked_file() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("legacy.db");
    let mut other = SqliteConnection::establish(&path.to_string_lossy()).unwrap();
    other
        .batch_execute("CREATE TABLE t (x INTEGER); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);")
        .unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        other.batch_execute("COMMIT").unwrap();
    });
    let settings = DatabaseSettings::new(Backend::Sqlite(path));
    let (result, elapsed) = connect_within(settings, Duration::from_secs(10));
    release.join().unwrap();
    let store = result.unwrap_or_else(|e| {
        panic!("start-up gave up after {elapsed:?} instead of waiting for the lock: {e}")
    });
    store
        .run_migrations()
        .expect("migrations once the lock is released");
}
