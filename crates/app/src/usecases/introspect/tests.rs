//! Introspection with mock ports: who may ask, the one inactive answer, what an active answer
//! carries, and that asking records no use of the token.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::Duration;
use roster_domain::mfa::MfaPolicy;
use roster_domain::{AccountStatus, Permission, PrincipalId};
use secrecy::SecretString;

use crate::error::AppError;
use crate::model::{SessionRecord, StoreError, StoredApiKey, TokenDigest};
use crate::usecases::test_support::*;
use crate::usecases::{
    ActiveToken, Introspection, MfaSettings, RosterSettings, SessionSettings, TokenHolder,
};

/// A service's key holding `token-introspect` on `*` and nothing else.
fn service() -> crate::usecases::Authenticated {
    actor(false, vec![grant(1, "*", vec![allow("token-introspect")])])
}

fn presented(token: &str) -> SecretString {
    SecretString::from(token)
}

/// The token is never looked at, and nothing is written.
fn forbid_any_lookup(ports: &mut Ports) {
    ports.tokens.expect_looks_like_session_token().never();
    ports.tokens.expect_api_key_id().never();
    ports.tokens.expect_digest().never();
    ports.sessions.expect_find_by_digest().never();
    ports.api_keys.expect_find_api_key().never();
    forbid_writes(ports);
}

/// Introspection records no use: no session touched, no key touched.
fn forbid_writes(ports: &mut Ports) {
    ports.sessions.expect_touch().never();
    ports.api_keys.expect_touch_api_key().never();
}

fn active(outcome: Result<Introspection, AppError>) -> ActiveToken {
    match outcome {
        Ok(Introspection::Active(token)) => token,
        other => panic!("expected an active token, got {other:?}"),
    }
}

fn assert_inactive(outcome: &Result<Introspection, AppError>, why: &str) {
    assert!(
        matches!(outcome, Ok(Introspection::Inactive)),
        "{why}: {outcome:?}"
    );
}

#[tokio::test]
async fn only_token_introspect_on_the_root_may_ask_and_before_any_lookup() {
    let callers = [
        ("no grants", actor(false, vec![])),
        (
            "below the root",
            actor(
                false,
                vec![grant(1, "acme", vec![allow("token-introspect")])],
            ),
        ),
        (
            "allowed and denied",
            actor(
                false,
                vec![grant(
                    1,
                    "*",
                    vec![allow("all"), Permission::deny(pattern("token-introspect"))],
                )],
            ),
        ),
        (
            "another built-in action",
            actor(false, vec![grant(1, "*", vec![allow("account-read")])]),
        ),
    ];
    for (why, caller) in callers {
        let mut ports = Ports::new();
        forbid_any_lookup(&mut ports);
        let roster = ports.build();

        let result = roster.introspect(&caller, &presented(TOKEN)).await;

        assert!(
            matches!(result, Err(AppError::Forbidden)),
            "{why}: {result:?}"
        );
    }
}

#[tokio::test]
async fn a_super_admin_may_ask() {
    let mut ports = Ports::new();
    ports.presented_session(None).clock_at(now());
    forbid_writes(&mut ports);
    let roster = ports.build();

    let result = roster
        .introspect(&actor(true, vec![]), &presented(TOKEN))
        .await;

    assert_inactive(&result, "an unknown token, asked by a super admin");
}

#[tokio::test]
async fn a_live_session_is_active_with_its_account_grants_version_and_expiry() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let grants = vec![
        grant(7, "acme", vec![allow("issuer-*")]),
        grant(
            8,
            "acme.berlin",
            vec![Permission::deny(pattern("issuer-key-delete"))],
        ),
    ];
    let record = SessionRecord {
        grants: grants.clone().into(),
        grants_version: 42,
        // Idle for 30 minutes: authenticating would write the use back; introspecting must not.
        ..session(ada.clone(), now() - Duration::minutes(30))
    };
    let expires_at = record.expires_at;
    let mut ports = Ports::new();
    ports.presented_session(Some(record)).clock_at(now());
    forbid_writes(&mut ports);
    ports.accounts.expect_find_with_grants().never();
    let roster = ports.build();

    let token = active(roster.introspect(&service(), &presented(TOKEN)).await);

    assert!(
        matches!(&token.holder, TokenHolder::Account(account) if *account == ada),
        "{:?}",
        token.holder
    );
    assert_eq!(&*token.grants, grants.as_slice());
    assert_eq!(token.grants_version, 42);
    assert_eq!(token.expires_at, Some(expires_at));
    let principal = token.principal();
    assert_eq!(principal.id, PrincipalId::Account(ada.id));
    assert!(!principal.is_superadmin);
}

#[tokio::test]
async fn a_super_admins_session_says_so() {
    let root = account("root@example.com", AccountStatus::Active, true);
    let mut ports = Ports::new();
    ports
        .presented_session(Some(session(root, now())))
        .clock_at(now());
    forbid_writes(&mut ports);
    let roster = ports.build();

    let token = active(roster.introspect(&service(), &presented(TOKEN)).await);

    assert!(token.principal().is_superadmin);
}

#[tokio::test]
async fn unusable_sessions_are_all_inactive_and_untouched() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let idle = SessionSettings::default().idle_timeout;
    let live = || session(ada.clone(), now() - Duration::minutes(5));
    let cases: Vec<(&str, Option<SessionRecord>)> = vec![
        ("unknown", None),
        (
            "revoked",
            Some(SessionRecord {
                revoked: true,
                ..live()
            }),
        ),
        (
            "expired",
            Some(SessionRecord {
                expires_at: now(),
                ..live()
            }),
        ),
        ("idle", Some(session(ada.clone(), now() - idle))),
        (
            "of a disabled account",
            Some(session(
                account("ada@example.com", AccountStatus::Disabled, false),
                now() - Duration::minutes(5),
            )),
        ),
    ];
    for (why, record) in cases {
        let mut ports = Ports::new();
        ports.presented_session(record).clock_at(now());
        forbid_writes(&mut ports);
        let roster = ports.build();

        let result = roster.introspect(&service(), &presented(TOKEN)).await;

        assert_inactive(&result, why);
    }
}

#[tokio::test]
async fn a_session_the_mfa_policy_holds_back_is_inactive() {
    let settings = RosterSettings {
        mfa: MfaSettings {
            policy: MfaPolicy {
                required_for_superadmins: true,
                required_for_actions: Vec::new(),
            },
            ..MfaSettings::default()
        },
        ..RosterSettings::default()
    };
    for (has_second_factor, expect_active) in [(false, false), (true, true)] {
        let root = roster_domain::Account {
            has_second_factor,
            ..account("root@example.com", AccountStatus::Active, true)
        };
        let mut ports = Ports::new();
        ports
            .presented_session(Some(session(root, now())))
            .clock_at(now());
        forbid_writes(&mut ports);
        let roster = ports.build_with(settings.clone());

        let result = roster.introspect(&service(), &presented(TOKEN)).await;

        assert_eq!(
            matches!(result, Ok(Introspection::Active(_))),
            expect_active,
            "second factor {has_second_factor}: {result:?}"
        );
    }
}

#[tokio::test]
async fn a_token_of_no_known_shape_is_inactive_without_a_lookup() {
    let mut ports = Ports::new();
    ports
        .tokens
        .expect_looks_like_session_token()
        .times(1)
        .return_const(false);
    ports.tokens.expect_api_key_id().times(1).return_const(None);
    ports.tokens.expect_digest().never();
    ports.sessions.expect_find_by_digest().never();
    ports.api_keys.expect_find_api_key().never();
    ports.clock.expect_now().never();
    forbid_writes(&mut ports);
    let roster = ports.build();

    let result = roster
        .introspect(&service(), &presented("eyJhbGciOiJIUzI1NiJ9.e30.sig"))
        .await;

    assert_inactive(&result, "malformed");
}

#[tokio::test]
async fn a_usable_api_key_is_active_with_its_own_grants_and_expiry() {
    let grants = vec![grant(9, "acme", vec![allow("issuer-*")])];
    let expiry = now() + Duration::days(30);
    for expires_at in [None, Some(expiry)] {
        let stored = StoredApiKey {
            grants: grants.clone().into(),
            grants_version: 5,
            // Never used: authenticating would write the use back; introspecting must not.
            ..stored_key(expires_at, None, None)
        };
        let mut ports = Ports::new();
        ports.presented_api_key(API_KEY_DIGEST, Some(stored));
        forbid_writes(&mut ports);
        let roster = ports.build();

        let token = active(roster.introspect(&service(), &presented(API_KEY)).await);

        assert!(
            matches!(&token.holder, TokenHolder::ApiKey(key) if key.id == api_key_id()),
            "{:?}",
            token.holder
        );
        assert_eq!(&*token.grants, grants.as_slice());
        assert_eq!(token.grants_version, 5);
        assert_eq!(token.expires_at, expires_at);
        let principal = token.principal();
        assert_eq!(principal.id, PrincipalId::ApiKey(api_key_id()));
        assert!(!principal.is_superadmin);
    }
}

#[tokio::test]
async fn unusable_api_keys_are_all_inactive() {
    let wrong = "2222222222222222222222222222222222222222222222222222222222222222";
    let cases = [
        ("unknown id", API_KEY_DIGEST, None),
        ("wrong secret", wrong, Some(stored_key(None, None, None))),
        (
            "revoked",
            API_KEY_DIGEST,
            Some(stored_key(None, None, Some(now() - Duration::seconds(1)))),
        ),
        (
            "expired",
            API_KEY_DIGEST,
            Some(stored_key(Some(now()), None, None)),
        ),
    ];
    for (why, digest, stored) in cases {
        let mut ports = Ports::new();
        ports.presented_api_key(digest, stored);
        forbid_writes(&mut ports);
        let roster = ports.build();

        let result = roster.introspect(&service(), &presented(API_KEY)).await;

        assert_inactive(&result, why);
    }
}

#[tokio::test]
async fn an_unavailable_store_is_an_error_not_an_inactive_token() {
    let mut ports = Ports::new();
    ports
        .tokens
        .expect_looks_like_session_token()
        .return_const(true);
    ports
        .tokens
        .expect_digest()
        .returning(|_| TokenDigest::new(DIGEST));
    ports
        .sessions
        .expect_find_by_digest()
        .times(1)
        .returning(|_| Err(StoreError::Unavailable("down".to_owned())));
    forbid_writes(&mut ports);
    let roster = ports.build();

    let result = roster.introspect(&service(), &presented(TOKEN)).await;

    assert!(
        matches!(result, Err(AppError::Unavailable(_))),
        "{result:?}"
    );
}

/// The ports of a service's key, `stored`, asked about repeatedly: every lookup counted, the
/// clock read from `clock`, and `rak_..._wrong` a wrong secret for the same key id.
fn remembering_ports(
    stored: StoredApiKey,
    clock: &Arc<Mutex<chrono::DateTime<chrono::Utc>>>,
    lookups: &Arc<AtomicUsize>,
) -> Ports {
    let mut ports = Ports::new();
    ports
        .tokens
        .expect_looks_like_session_token()
        .return_const(false);
    ports
        .tokens
        .expect_api_key_id()
        .return_const(Some(api_key_id()));
    ports.tokens.expect_digest().returning(|token: &str| {
        TokenDigest::new(if token == API_KEY {
            API_KEY_DIGEST
        } else {
            "2222222222222222222222222222222222222222222222222222222222222222"
        })
    });
    let counted = Arc::clone(lookups);
    ports.api_keys.expect_find_api_key().returning(move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
        Ok(Some(stored.clone()))
    });
    ports
        .api_keys
        .expect_touch_api_key()
        .returning(|_, _| Ok(()));
    let clock = Arc::clone(clock);
    ports
        .clock
        .expect_now()
        .returning(move || *clock.lock().unwrap());
    ports
}

#[tokio::test]
async fn a_key_allowed_to_introspect_is_remembered_for_a_second_and_no_longer() {
    let stored = StoredApiKey {
        grants: vec![grant(1, "*", vec![allow("token-introspect")])].into(),
        ..stored_key(None, Some(now()), None)
    };
    let clock = Arc::new(Mutex::new(now()));
    let lookups = Arc::new(AtomicUsize::new(0));
    let roster = remembering_ports(stored, &clock, &lookups).build();
    let ask = || roster.authenticate_introspector(API_KEY, None);

    ask().await.unwrap();
    ask().await.unwrap();
    assert_eq!(lookups.load(Ordering::SeqCst), 1, "remembered");

    *clock.lock().unwrap() += Duration::milliseconds(999);
    ask().await.unwrap();
    assert_eq!(lookups.load(Ordering::SeqCst), 1, "still remembered");
    *clock.lock().unwrap() += Duration::milliseconds(1);
    ask().await.unwrap();
    assert_eq!(
        lookups.load(Ordering::SeqCst),
        2,
        "a second later: looked up"
    );

    let wrong = roster
        .authenticate_introspector("rak_0190000000007000800000000000aaaa_wrong", None)
        .await;
    assert!(matches!(wrong, Err(AppError::Unauthenticated)), "{wrong:?}");
    assert_eq!(
        lookups.load(Ordering::SeqCst),
        3,
        "a wrong secret is never remembered"
    );

    roster.forget_introspectors();
    ask().await.unwrap();
    assert_eq!(
        lookups.load(Ordering::SeqCst),
        4,
        "forgotten after a change"
    );
}

#[tokio::test]
async fn a_key_without_the_right_or_expired_is_not_remembered() {
    let clock = Arc::new(Mutex::new(now()));
    let without_the_right = StoredApiKey {
        grants: vec![grant(1, "*", vec![allow("account-read")])].into(),
        ..stored_key(None, Some(now()), None)
    };
    let expiring = StoredApiKey {
        grants: vec![grant(1, "*", vec![allow("token-introspect")])].into(),
        ..stored_key(Some(now() + Duration::milliseconds(500)), Some(now()), None)
    };
    for (why, stored, expected_lookups) in [
        ("without the right", without_the_right, 2),
        ("expired since", expiring, 2),
    ] {
        let lookups = Arc::new(AtomicUsize::new(0));
        let roster = remembering_ports(stored, &clock, &lookups).build();
        *clock.lock().unwrap() = now();
        let first = roster.authenticate_introspector(API_KEY, None).await;
        assert!(first.is_ok(), "{why}: {first:?}");
        *clock.lock().unwrap() = now() + Duration::milliseconds(600);
        let _ = roster.authenticate_introspector(API_KEY, None).await;
        assert_eq!(lookups.load(Ordering::SeqCst), expected_lookups, "{why}");
    }
}

#[tokio::test]
async fn a_session_that_may_introspect_is_looked_up_every_time() {
    let root = account("root@example.com", AccountStatus::Active, true);
    let record = session(root, now());
    let lookups = Arc::new(AtomicUsize::new(0));
    let mut ports = Ports::new();
    ports
        .tokens
        .expect_looks_like_session_token()
        .return_const(true);
    ports.tokens.expect_api_key_id().return_const(None);
    ports
        .tokens
        .expect_digest()
        .returning(|_| TokenDigest::new(DIGEST));
    let counted = Arc::clone(&lookups);
    ports.sessions.expect_find_by_digest().returning(move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
        Ok(Some(record.clone()))
    });
    ports.clock_at(now());
    let roster = ports.build();

    for _ in 0..2 {
        let caller = roster.authenticate_introspector(TOKEN, None).await;
        assert!(caller.is_ok(), "{caller:?}");
    }

    assert_eq!(
        lookups.load(Ordering::SeqCst),
        2,
        "only API keys are remembered"
    );
    assert_eq!(roster.introspectors.entries.len(), 0, "nothing kept");
}
