//! Password login and login throttling with mock ports.
//! The mock ports and fixtures are in [`crate::usecases::test_support`].

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use mockall::predicate::eq;
use roster_domain::AccountStatus;
use secrecy::{ExposeSecret, SecretString};

use crate::error::AppError;
use crate::model::{
    AuditAction, AuditEvent, ClientInfo, HashError, IssuedToken, NewSession, StoreError,
    ThrottleState, TokenDigest,
};
use crate::usecases::test_support::*;
use crate::usecases::{LoginOutcome, LoginThrottlePolicy, SessionSettings};

// ---------------------------------------------------------------------------------------------
// login
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn login_with_an_unknown_email_verifies_against_the_dummy_hash() {
    let mut ports = Ports::new();
    ports.unthrottled();
    ports
        .accounts
        .expect_find_by_email()
        .with(eq("nobody@example.com".to_owned()))
        .times(1)
        .returning(|_| Ok(None));
    ports.verify(STRONG, None, Ok(false)).forbid_session();
    let roster = ports.build();

    let result = roster
        .login(
            " Nobody@Example.com ",
            &secret(STRONG),
            &ClientInfo::default(),
        )
        .await;

    assert!(
        matches!(result, Err(AppError::InvalidCredentials)),
        "{result:?}"
    );
}

#[tokio::test]
async fn login_with_a_malformed_email_still_costs_one_verify() {
    for email in ["not-an-email", "", "Ada <ada@example.com>"] {
        let mut ports = Ports::new();
        ports.accounts.expect_find_by_email().never();
        ports.login_throttle.expect_state().never();
        // Even a hasher that (wrongly) accepted the dummy would not open a session.
        ports.verify(STRONG, None, Ok(true)).forbid_session();
        let roster = ports.build();

        let result = roster
            .login(email, &secret(STRONG), &ClientInfo::default())
            .await;

        assert!(
            matches!(result, Err(AppError::InvalidCredentials)),
            "{email:?}: {result:?}"
        );
    }
}

#[tokio::test]
async fn login_with_a_wrong_password_opens_no_session() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let mut ports = Ports::new();
    ports
        .unthrottled()
        .stored_account(&ada)
        .verify("wrong horse battery staple", Some(HASH), Ok(false))
        .forbid_session();
    let roster = ports.build();

    let result = roster
        .login(
            "ada@example.com",
            &secret("wrong horse battery staple"),
            &ClientInfo::default(),
        )
        .await;

    assert!(
        matches!(result, Err(AppError::InvalidCredentials)),
        "{result:?}"
    );
}

#[tokio::test]
async fn login_to_a_disabled_account_fails_like_a_wrong_password() {
    let ada = account("ada@example.com", AccountStatus::Disabled, false);
    let mut ports = Ports::new();
    // The hash is still checked, so timing does not tell a disabled account apart.
    ports
        .unthrottled()
        .stored_account(&ada)
        .verify(STRONG, Some(HASH), Ok(true))
        .forbid_session();
    let roster = ports.build();

    let result = roster
        .login("ada@example.com", &secret(STRONG), &ClientInfo::default())
        .await;

    assert!(
        matches!(result, Err(AppError::InvalidCredentials)),
        "{result:?}"
    );
}

#[tokio::test]
async fn login_opens_a_session_and_returns_the_issued_token() {
    let ada = account("Ada@Example.com", AccountStatus::Active, false);
    let mut ports = Ports::new();
    ports
        .unthrottled()
        .stored_account(&ada)
        .verify(STRONG, Some(HASH), Ok(true))
        .clock_at(now());
    ports
        .tokens
        .expect_new_session_token()
        .times(1)
        .returning(|| IssuedToken {
            token: SecretString::from(TOKEN),
            digest: TokenDigest::new(DIGEST),
        });
    let created: Calls<NewSession> = Calls::default();
    let sink = Arc::clone(&created);
    ports
        .sessions
        .expect_create()
        .times(1)
        .returning(move |session, _| {
            sink.lock().unwrap().push(session.clone());
            Ok(())
        });
    let roster = ports.build();

    let client = ClientInfo {
        source_ip: Some("192.0.2.7".parse().unwrap()),
        user_agent: Some(format!(
            "Mozilla/5.0\r\nX-Injected: 1 \u{202e}{}",
            "a".repeat(300)
        )),
    };
    let LoginOutcome::Session(success) = roster
        .login("  ada@EXAMPLE.com ", &secret(STRONG), &client)
        .await
        .unwrap()
    else {
        panic!("an account without a second factor gets a session at once");
    };

    let created = recorded(&created);
    assert_eq!(created.len(), 1);
    let session = &created[0];
    assert_eq!(session.account_id, ada.id);
    assert_eq!(
        session.token_digest,
        TokenDigest::new(DIGEST),
        "only the digest is stored"
    );
    assert_eq!(session.created_at, now());
    assert_eq!(session.expires_at, now() + SessionSettings::default().ttl);
    assert_eq!(session.expires_at, now() + Duration::hours(12));
    // Where the session was opened from, for its owner's list: the address as is, the
    // user agent without its control characters and cut to 200 characters.
    assert_eq!(session.source_ip, client.source_ip);
    let user_agent = session.user_agent.as_deref().unwrap();
    assert!(
        user_agent.starts_with("Mozilla/5.0X-Injected: 1 aaa"),
        "{user_agent:?}"
    );
    assert_eq!(user_agent.chars().count(), 200);
    assert_eq!(session.auth_methods.to_string(), "pwd");
    assert_eq!(session.second_factor_at, None);

    assert_eq!(success.token.expose_secret(), TOKEN);
    assert_eq!(success.session_id, session.id);
    assert_eq!(success.expires_at, session.expires_at);
    assert_eq!(success.account, ada);
}

#[tokio::test]
async fn login_reports_an_overloaded_hasher() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let mut ports = Ports::new();
    ports
        .unthrottled()
        .stored_account(&ada)
        .verify(
            STRONG,
            Some(HASH),
            Err(HashError::Overloaded {
                retry_after_secs: 2,
            }),
        )
        .forbid_session();
    let roster = ports.build();

    let result = roster
        .login("ada@example.com", &secret(STRONG), &ClientInfo::default())
        .await;

    assert!(
        matches!(
            result,
            Err(AppError::Overloaded {
                retry_after_secs: 2
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn login_reports_an_overloaded_hasher_for_unknown_emails_too() {
    let mut ports = Ports::new();
    ports
        .verify(
            STRONG,
            None,
            Err(HashError::Overloaded {
                retry_after_secs: 2,
            }),
        )
        .forbid_session();
    let roster = ports.build();

    let result = roster
        .login("not-an-email", &secret(STRONG), &ClientInfo::default())
        .await;

    assert!(
        matches!(
            result,
            Err(AppError::Overloaded {
                retry_after_secs: 2
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn login_reports_an_unavailable_store() {
    let ada = account("ada@example.com", AccountStatus::Active, false);

    let mut ports = Ports::new();
    ports.unthrottled();
    ports
        .accounts
        .expect_find_by_email()
        .times(1)
        .returning(|_| Err(StoreError::Unavailable("down".to_owned())));
    ports.hasher.expect_verify().never();
    ports.forbid_session();
    let roster = ports.build();
    let result = roster
        .login("ada@example.com", &secret(STRONG), &ClientInfo::default())
        .await;
    assert!(
        matches!(result, Err(AppError::Unavailable(_))),
        "lookup: {result:?}"
    );

    let mut ports = Ports::new();
    ports
        .unthrottled()
        .stored_account(&ada)
        .verify(STRONG, Some(HASH), Ok(true))
        .clock_at(now());
    ports
        .tokens
        .expect_new_session_token()
        .times(1)
        .returning(|| IssuedToken {
            token: SecretString::from(TOKEN),
            digest: TokenDigest::new(DIGEST),
        });
    ports
        .sessions
        .expect_create()
        .times(1)
        .returning(|_, _| Err(StoreError::Unavailable("down".to_owned())));
    let roster = ports.build();
    let result = roster
        .login("ada@example.com", &secret(STRONG), &ClientInfo::default())
        .await;
    assert!(
        matches!(result, Err(AppError::Unavailable(_))),
        "session create: {result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// login throttling
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn login_refuses_a_throttled_email_before_any_lookup_or_hashing() {
    let mut ports = Ports::new();
    ports
        .login_throttle
        .expect_state()
        .with(eq("ada@example.com".to_owned()))
        .times(1)
        .returning(|_| {
            Ok(Some(ThrottleState {
                failures: 5,
                locked_until: Some(now() + Duration::seconds(42)),
            }))
        });
    ports.clock_at(now());
    ports.accounts.expect_find_by_email().never();
    ports.hasher.expect_verify().never();
    ports.login_throttle.expect_record_failure().never();
    ports.forbid_session();
    let roster = ports.build();

    let result = roster
        .login("Ada@Example.com", &secret(STRONG), &ClientInfo::default())
        .await;

    assert!(
        matches!(
            result,
            Err(AppError::TooManyAttempts {
                retry_after_secs: 43
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn login_records_a_failure_with_the_configured_policy() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let mut ports = Ports::new();
    ports
        .login_throttle
        .expect_state()
        .times(1)
        .returning(|_| Ok(None));
    ports
        .login_throttle
        .expect_record_failure()
        .withf(
            |email: &str, at: &DateTime<Utc>, policy: &LoginThrottlePolicy, audit: &AuditEvent| {
                email == "ada@example.com"
                    && *at == now()
                    && *policy == LoginThrottlePolicy::default()
                    && audit.action == AuditAction::LoginFailed
                    && audit.target.as_deref() == Some("email:ada@example.com")
            },
        )
        .times(1)
        .returning(|_, _, _, _| {
            Ok(ThrottleState {
                failures: 5,
                locked_until: Some(now() + Duration::minutes(1)),
            })
        });
    ports
        .clock_at(now())
        .stored_account(&ada)
        .verify("wrong horse battery staple", Some(HASH), Ok(false))
        .forbid_session();
    let roster = ports.build();

    let result = roster
        .login(
            "ada@example.com",
            &secret("wrong horse battery staple"),
            &ClientInfo::default(),
        )
        .await;

    assert!(
        matches!(result, Err(AppError::InvalidCredentials)),
        "{result:?}"
    );
}

/// Logs in Ada successfully while the throttle holds `state` for her email.
async fn successful_login_with_throttle_state(state: ThrottleState, expect_clear: bool) {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let mut ports = Ports::new();
    ports
        .login_throttle
        .expect_state()
        .times(1)
        .returning(move |_| Ok(Some(state)));
    ports
        .login_throttle
        .expect_clear()
        .with(eq("ada@example.com".to_owned()))
        .times(usize::from(expect_clear))
        .returning(|_| Ok(()));
    ports
        .clock_at(now())
        .stored_account(&ada)
        .verify(STRONG, Some(HASH), Ok(true));
    ports
        .tokens
        .expect_new_session_token()
        .returning(|| IssuedToken {
            token: SecretString::from(TOKEN),
            digest: TokenDigest::new(DIGEST),
        });
    ports
        .sessions
        .expect_create()
        .times(1)
        .returning(|_, _| Ok(()));
    let roster = ports.build();

    roster
        .login("ada@example.com", &secret(STRONG), &ClientInfo::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn login_after_the_lock_expired_succeeds_and_forgets_the_failures() {
    successful_login_with_throttle_state(
        ThrottleState {
            failures: 6,
            locked_until: Some(now() - Duration::seconds(1)),
        },
        true,
    )
    .await;
    successful_login_with_throttle_state(
        ThrottleState {
            failures: 2,
            locked_until: None,
        },
        true,
    )
    .await;
}

#[test]
fn the_throttle_policy_doubles_from_the_base_delay_up_to_the_cap() {
    let policy = LoginThrottlePolicy::default();
    let delays: Vec<Option<i64>> = (0..=12)
        .map(|failures| policy.delay_after(failures).map(|d| d.num_seconds()))
        .collect();
    assert_eq!(
        delays,
        [
            None,
            None,
            None,
            None,
            None,
            Some(60),
            Some(120),
            Some(240),
            Some(480),
            Some(900),
            Some(900),
            Some(900),
            Some(900)
        ]
    );
    assert_eq!(policy.delay_after(u32::MAX), Some(Duration::minutes(15)));
}

mod over_long_password_tests {
    use roster_domain::{AccountStatus, PlainPassword};
    use secrecy::SecretString;

    use crate::error::AppError;
    use crate::model::{ClientInfo, PasswordHash, StoredAccount, ThrottleState};
    use crate::usecases::test_support::{HASH, Ports, account, now};

    /// A password no policy could have accepted is never normalized whole and fails like a
    /// wrong one: one verify against the dummy hash, one failure counted.
    #[tokio::test]
    async fn an_over_long_password_fails_after_the_dummy_verify() {
        let ada = account("ada@example.com", AccountStatus::Active, false);
        let mut ports = Ports::new();
        ports.clock.expect_now().return_const(now());
        ports
            .login_throttle
            .expect_state()
            .times(1)
            .returning(|_| Ok(None));
        let stored = StoredAccount {
            account: ada.clone(),
            password_hash: PasswordHash::new(HASH),
        };
        ports
            .accounts
            .expect_find_by_email()
            .times(1)
            .returning(move |_| Ok(Some(stored.clone())));
        ports
            .hasher
            .expect_verify()
            .withf(|password: &PlainPassword, stored| {
                password.expose().is_empty() && stored.is_none()
            })
            .times(1)
            .returning(|_, _| Ok(false));
        ports
            .login_throttle
            .expect_record_failure()
            .times(1)
            .returning(|_, _, _, _| {
                Ok(ThrottleState {
                    failures: 1,
                    locked_until: None,
                })
            });
        ports.sessions.expect_create().never();
        // The finding: 63 KB of a character that NFKC expands eighteen-fold.
        let password = SecretString::from("\u{FDFA}".repeat(21_000));
        let result = ports
            .build()
            .login("ada@example.com", &password, &ClientInfo::default())
            .await;
        assert!(
            matches!(result, Err(AppError::InvalidCredentials)),
            "{result:?}"
        );
    }
}

#[tokio::test]
async fn old_login_failures_are_forgotten_a_day_later_in_batches() {
    let mut ports = Ports::new();
    ports.clock_at(now());
    ports
        .login_throttle
        .expect_forget_stale()
        .with(eq(now() - Duration::days(1)), eq(1000))
        .times(1)
        .returning(|_, _| Ok(7));
    let roster = ports.build();

    assert_eq!(roster.forget_old_login_failures().await.unwrap(), 7);
}

#[tokio::test]
async fn login_to_an_unverified_account_with_the_right_password_is_email_unverified() {
    let mut ada = account("ada@example.com", AccountStatus::Active, false);
    ada.email_verified = false;
    let mut ports = Ports::new();
    // Not a failure: nothing is recorded or cleared, no session is opened.
    ports
        .login_throttle
        .expect_state()
        .times(1)
        .returning(|_| Ok(None));
    ports.login_throttle.expect_record_failure().never();
    ports.login_throttle.expect_clear().never();
    ports
        .stored_account(&ada)
        .verify(STRONG, Some(HASH), Ok(true))
        .forbid_session();
    let roster = ports.build();

    let result = roster
        .login("ada@example.com", &secret(STRONG), &ClientInfo::default())
        .await;

    assert!(
        matches!(result, Err(AppError::EmailUnverified)),
        "{result:?}"
    );
}

#[tokio::test]
async fn login_to_an_unverified_account_with_a_wrong_password_is_invalid_credentials() {
    for status in [AccountStatus::Active, AccountStatus::Disabled] {
        let mut ada = account("ada@example.com", status, false);
        ada.email_verified = false;
        let mut ports = Ports::new();
        ports
            .unthrottled()
            .stored_account(&ada)
            .verify("wrong horse battery staple", Some(HASH), Ok(false))
            .forbid_session();
        let roster = ports.build();

        let result = roster
            .login(
                "ada@example.com",
                &secret("wrong horse battery staple"),
                &ClientInfo::default(),
            )
            .await;

        assert!(
            matches!(result, Err(AppError::InvalidCredentials)),
            "{status:?}: {result:?}"
        );
    }
}

#[tokio::test]
async fn login_to_a_disabled_unverified_account_with_the_right_password_says_nothing_more() {
    let mut ada = account("ada@example.com", AccountStatus::Disabled, false);
    ada.email_verified = false;
    let mut ports = Ports::new();
    ports
        .unthrottled()
        .stored_account(&ada)
        .verify(STRONG, Some(HASH), Ok(true))
        .forbid_session();
    let roster = ports.build();

    let result = roster
        .login("ada@example.com", &secret(STRONG), &ClientInfo::default())
        .await;

    assert!(
        matches!(result, Err(AppError::InvalidCredentials)),
        "{result:?}"
    );
}
