//! Bearer-token authentication with mock ports: session tokens and API keys.
//! The mock ports and fixtures are in [`crate::usecases::test_support`].

use chrono::Duration;
use mockall::predicate::eq;
use roster_domain::{AccountStatus, Permission, Principal, PrincipalId};

use crate::error::AppError;
use crate::model::{SessionRecord, StoreError, StoredApiKey, TokenDigest};
use crate::usecases::CallerKind;
use crate::usecases::SessionSettings;
use crate::usecases::test_support::*;

// ---------------------------------------------------------------------------------------------
// authenticate_bearer
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn authenticate_refuses_a_foreign_token_without_a_lookup() {
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
    ports.forbid_session_use();
    let roster = ports.build();

    let result = roster
        .authenticate_bearer("eyJhbGciOiJIUzI1NiJ9.e30.sig", None)
        .await;

    assert!(
        matches!(result, Err(AppError::Unauthenticated)),
        "{result:?}"
    );
}

#[tokio::test]
async fn authenticate_refuses_an_unknown_digest() {
    let mut ports = Ports::new();
    ports.presented_session(None).forbid_session_use();
    let roster = ports.build();

    let result = roster.authenticate_bearer(TOKEN, None).await;

    assert!(
        matches!(result, Err(AppError::Unauthenticated)),
        "{result:?}"
    );
}

/// `record` (found by [`TOKEN`]) must be refused at [`now`] without touching or loading grants.
async fn assert_refused(record: SessionRecord, why: &str) {
    let mut ports = Ports::new();
    ports
        .presented_session(Some(record))
        .clock_at(now())
        .forbid_session_use();
    let roster = ports.build();

    let result = roster.authenticate_bearer(TOKEN, None).await;

    assert!(
        matches!(result, Err(AppError::Unauthenticated)),
        "{why}: {result:?}"
    );
}

#[tokio::test]
async fn authenticate_refuses_a_revoked_session() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let mut record = session(ada, now() - Duration::minutes(5));
    record.revoked = true;

    assert_refused(record, "revoked").await;
}

#[tokio::test]
async fn authenticate_refuses_an_expired_session() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    for expires_at in [
        now(),
        now() - Duration::microseconds(1),
        now() - Duration::days(3),
    ] {
        let mut record = session(ada.clone(), now() - Duration::minutes(5));
        record.expires_at = expires_at;
        assert_refused(record, &format!("expired at {expires_at}")).await;
    }
}

#[tokio::test]
async fn authenticate_refuses_an_idle_session() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let idle = SessionSettings::default().idle_timeout;
    for last_seen in [now() - idle, now() - idle - Duration::seconds(1)] {
        assert_refused(
            session(ada.clone(), last_seen),
            &format!("last seen {last_seen}"),
        )
        .await;
    }
}

#[tokio::test]
async fn authenticate_refuses_a_session_of_a_disabled_account() {
    for is_superadmin in [false, true] {
        let disabled = account("ada@example.com", AccountStatus::Disabled, is_superadmin);
        assert_refused(session(disabled, now() - Duration::minutes(5)), "disabled").await;
    }
}

#[tokio::test]
async fn authenticate_accepts_a_session_just_inside_its_limits() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let idle = SessionSettings::default().idle_timeout;
    let mut record = session(ada.clone(), now() - idle + Duration::microseconds(1));
    record.expires_at = now() + Duration::microseconds(1);

    let mut ports = Ports::new();
    ports.presented_session(Some(record)).clock_at(now());
    ports
        .sessions
        .expect_touch()
        .times(1)
        .returning(|_, _| Ok(()));
    let roster = ports.build();

    let result = roster.authenticate_bearer(TOKEN, None).await;

    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn authenticate_does_not_touch_a_fresh_session() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    for last_seen in [
        now(),
        now() - Duration::seconds(59),
        now() - Duration::milliseconds(59_999),
    ] {
        let mut ports = Ports::new();
        ports
            .presented_session(Some(session(ada.clone(), last_seen)))
            .clock_at(now());
        ports.sessions.expect_touch().never();
        let roster = ports.build();

        let result = roster.authenticate_bearer(TOKEN, None).await;

        assert!(result.is_ok(), "last seen {last_seen}: {result:?}");
    }
}

#[tokio::test]
async fn authenticate_touches_a_stale_session_once() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    for last_seen in [now() - Duration::seconds(60), now() - Duration::minutes(30)] {
        let mut ports = Ports::new();
        ports
            .presented_session(Some(session(ada.clone(), last_seen)))
            .clock_at(now());
        ports
            .sessions
            .expect_touch()
            .with(eq(session_id()), eq(now()))
            .times(1)
            .returning(|_, _| Ok(()));
        let roster = ports.build();

        let result = roster.authenticate_bearer(TOKEN, None).await;

        assert!(result.is_ok(), "last seen {last_seen}: {result:?}");
    }
}

#[tokio::test]
async fn authenticate_builds_the_principal_from_the_account_and_its_grants() {
    let grants = vec![
        grant(7, "acme", vec![Permission::allow(pattern("issuer-*"))]),
        grant(8, "*", vec![Permission::allow(pattern("audit-read"))]),
    ];
    for is_superadmin in [false, true] {
        let ada = account("ada@example.com", AccountStatus::Active, is_superadmin);
        let mut ports = Ports::new();
        let record = SessionRecord {
            grants: grants.clone().into(),
            ..session(ada.clone(), now() - Duration::seconds(10))
        };
        ports.presented_session(Some(record)).clock_at(now());
        // The grants come with the session, in the same database call.
        ports.accounts.expect_find_with_grants().never();
        ports.sessions.expect_touch().never();
        let roster = ports.build();

        let authenticated = roster.authenticate_bearer(TOKEN, None).await.unwrap();

        assert_eq!(
            authenticated.principal,
            Principal {
                id: PrincipalId::Account(ada.id),
                is_superadmin,
                grants: grants.clone().into()
            }
        );
        assert!(
            matches!(
                &authenticated.kind,
                CallerKind::Session { account, session_id: id, .. }
                    if *account == ada && *id == session_id()
            ),
            "{:?}",
            authenticated.kind
        );
        assert_eq!(authenticated.account(), Some(&ada));
        assert!(authenticated.api_key().is_none());
        assert_eq!(
            authenticated.principal_label(),
            format!("account:{}", ada.id)
        );
    }
}

#[tokio::test]
async fn authenticate_reports_an_unavailable_store() {
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
    ports.forbid_session_use();
    let roster = ports.build();

    let result = roster.authenticate_bearer(TOKEN, None).await;

    assert!(
        matches!(result, Err(AppError::Unavailable(_))),
        "{result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// API keys
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn authenticate_accepts_an_api_key_with_exactly_its_own_grants() {
    let grants = vec![grant(
        9,
        "acme",
        vec![Permission::allow(pattern("issuer-*"))],
    )];
    let mut ports = Ports::new();
    let stored = StoredApiKey {
        grants: grants.clone().into(),
        ..stored_key(None, None, None)
    };
    ports.presented_api_key(API_KEY_DIGEST, Some(stored));
    ports
        .api_keys
        .expect_touch_api_key()
        .with(eq(api_key_id()), eq(now()))
        .times(1)
        .returning(|_, _| Ok(()));
    ports.accounts.expect_find_with_grants().never();
    let roster = ports.build();

    let caller = roster.authenticate_bearer(API_KEY, None).await.unwrap();

    assert_eq!(
        caller.principal,
        Principal {
            id: PrincipalId::ApiKey(api_key_id()),
            is_superadmin: false,
            grants: grants.into()
        }
    );
    assert!(
        matches!(&caller.kind, CallerKind::ApiKey { key } if key.id == api_key_id()),
        "{:?}",
        caller.kind
    );
    assert!(caller.account().is_none());
}

#[tokio::test]
async fn authenticate_writes_api_key_use_back_at_most_once_a_minute() {
    let mut ports = Ports::new();
    ports.presented_api_key(
        API_KEY_DIGEST,
        Some(stored_key(None, Some(now() - Duration::seconds(59)), None)),
    );
    ports.api_keys.expect_touch_api_key().never();
    let roster = ports.build();

    roster.authenticate_bearer(API_KEY, None).await.unwrap();
}

#[tokio::test]
async fn authenticate_refuses_wrong_revoked_and_expired_api_keys() {
    let cases = [
        ("unknown id", API_KEY_DIGEST, None),
        (
            "wrong secret",
            "2222222222222222222222222222222222222222222222222222222222222222",
            Some(stored_key(None, None, None)),
        ),
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
        ports.api_keys.expect_touch_api_key().never();
        let roster = ports.build();

        let result = roster.authenticate_bearer(API_KEY, None).await;

        assert!(
            matches!(result, Err(AppError::Unauthenticated)),
            "{why}: {result:?}"
        );
    }
}

#[test]
fn a_callers_label_names_its_kind_and_id_and_nothing_else() {
    let account = actor(false, vec![]);
    assert_eq!(
        account.principal_label(),
        "account:00000000-0000-0000-0000-0000000000ad"
    );
    let mut key = actor(false, vec![]);
    key.principal.id = PrincipalId::ApiKey(api_key_id());
    assert_eq!(
        key.principal_label(),
        "api_key:01900000-0000-7000-8000-00000000aaaa"
    );
}

#[tokio::test]
async fn a_short_idle_timeout_touches_sessions_at_half_of_it() {
    // Idle after 90 s: activity is written back after 45 s, not the usual 60 s, so a session
    // in use cannot go idle between two writes.
    let settings = crate::usecases::RosterSettings {
        sessions: SessionSettings {
            idle_timeout: Duration::seconds(90),
            ..SessionSettings::default()
        },
        ..crate::usecases::RosterSettings::default()
    };
    let ada = account("ada@example.com", AccountStatus::Active, false);
    for (seconds_ago, touched) in [(44, false), (45, true), (89, true), (90, false)] {
        let last_seen = now() - Duration::seconds(seconds_ago);
        let mut ports = Ports::new();
        ports
            .presented_session(Some(session(ada.clone(), last_seen)))
            .clock_at(now());
        ports
            .sessions
            .expect_touch()
            .times(usize::from(touched))
            .returning(|_, _| Ok(()));
        let roster = ports.build_with(settings.clone());

        let result = roster.authenticate_bearer(TOKEN, None).await;

        // At 90 s the session is idle: refused, and not touched.
        assert_eq!(
            result.is_ok(),
            seconds_ago < 90,
            "{seconds_ago}s: {result:?}"
        );
    }
}

#[test]
fn the_roster_uses_the_password_policy_from_its_settings_and_hides_its_ports() {
    let policy = roster_domain::PasswordPolicy::new(20, 64).unwrap();
    let settings = crate::usecases::RosterSettings {
        password_policy: policy,
        ..crate::usecases::RosterSettings::default()
    };
    let roster = Ports::new().build_with(settings);
    assert_eq!(roster.password_policy(), &policy);
    // Debug output names the ports without dumping the adapters behind them.
    assert!(
        format!("{roster:?}").contains("RosterPorts { .. }"),
        "{roster:?}"
    );
}
