//! A signed-in account's own sessions and password, with mock ports.
//! The mock ports and fixtures are in [`crate::usecases::test_support`].

mod password_change_tests {
    //! `change_my_password` spends its expensive work last: a throttled caller or a wrong
    //! current password never reaches the strength estimate.

    use chrono::Duration;
    use roster_domain::AccountStatus;

    use super::super::*;
    use crate::model::{HashError, PasswordHash, ThrottleState};
    use crate::usecases::test_support::{
        HASH, Ports, account, field_errors, fields_and_codes, now, session_id,
    };

    const STRONG: &str = "quartz-lantern-fjord-obelisk-9";

    fn caller() -> Authenticated {
        let account = account("ada@example.com", AccountStatus::Active, false);
        Authenticated::by_session(account, session_id(), Vec::new().into(), None)
    }

    /// The throttle answers `state` once; the stored hash is [`HASH`].
    fn ports(state: Option<ThrottleState>) -> Ports {
        let mut ports = Ports::new();
        ports.clock.expect_now().return_const(now());
        ports
            .login_throttle
            .expect_state()
            .times(1)
            .returning(move |_| Ok(state));
        ports
            .accounts
            .expect_password_hash()
            .returning(|_| Ok(Some(PasswordHash::new(HASH))));
        ports
    }

    async fn change(ports: Ports, current: &str, new: &str) -> Result<(), AppError> {
        ports
            .build()
            .change_my_password(
                &caller(),
                &SecretString::from(current),
                &SecretString::from(new),
            )
            .await
    }

    #[tokio::test]
    async fn a_throttled_caller_gets_no_strength_estimate_nor_hashing() {
        let mut ports = ports(Some(ThrottleState {
            failures: 9,
            locked_until: Some(now() + Duration::minutes(5)),
        }));
        ports.strength = crate::ports::MockPasswordStrength::new();
        ports.strength.expect_weakness().never();
        ports.hasher.expect_verify().never();
        ports.hasher.expect_hash().never();
        let result = change(ports, "the current one", STRONG).await;
        assert!(
            matches!(result, Err(AppError::TooManyAttempts { retry_after_secs }) if retry_after_secs > 0),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn a_wrong_current_password_gets_no_strength_estimate() {
        let mut ports = ports(None);
        ports.strength = crate::ports::MockPasswordStrength::new();
        ports.strength.expect_weakness().never();
        ports
            .hasher
            .expect_verify()
            .times(1)
            .returning(|_, _| Ok(false));
        ports.hasher.expect_hash().never();
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
        let errors = field_errors(change(ports, "wrong", STRONG).await);
        assert_eq!(
            fields_and_codes(&errors),
            [("current_password", "incorrect_password")]
        );
    }

    #[tokio::test]
    async fn a_weak_new_password_is_refused_after_the_current_one_is_proven() {
        let mut ports = ports(None);
        ports
            .hasher
            .expect_verify()
            .times(1)
            .returning(|_, _| Ok(true));
        ports.hasher.expect_hash().never();
        let errors = field_errors(change(ports, "the current one", "passwordpassword").await);
        assert_eq!(
            fields_and_codes(&errors),
            [("new_password", "weak_password")]
        );
    }

    #[tokio::test]
    async fn a_full_strength_pool_is_overloaded() {
        let mut ports = ports(None);
        ports
            .hasher
            .expect_verify()
            .times(1)
            .returning(|_, _| Ok(true));
        ports.hasher.expect_hash().never();
        ports.strength = crate::ports::MockPasswordStrength::new();
        ports.strength.expect_weakness().times(1).returning(|_, _| {
            Err(HashError::Overloaded {
                retry_after_secs: 1,
            })
        });
        let result = change(ports, "the current one", STRONG).await;
        assert!(
            matches!(
                result,
                Err(AppError::Overloaded {
                    retry_after_secs: 1
                })
            ),
            "{result:?}"
        );
    }

    #[tokio::test]
    async fn an_over_long_current_password_fails_against_the_dummy_hash() {
        let mut ports = ports(None);
        ports.strength = crate::ports::MockPasswordStrength::new();
        ports.strength.expect_weakness().never();
        ports
            .hasher
            .expect_verify()
            .withf(|_, stored| stored.is_none())
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
        let current = "\u{FDFA}".repeat(21_000);
        let errors = field_errors(change(ports, &current, STRONG).await);
        assert_eq!(
            fields_and_codes(&errors),
            [("current_password", "incorrect_password")]
        );
    }
}

mod api_key_callers {
    //! An API key has no session: the session use cases refuse it before any port call (the
    //! bare mocks panic on any call).

    use secrecy::SecretString;

    use crate::error::AppError;
    use crate::usecases::Authenticated;
    use crate::usecases::test_support::{Ports, api_key_id, stored_key};

    fn key_caller() -> Authenticated {
        let stored = stored_key(None, None, None);
        Authenticated::by_api_key(stored.key, stored.grants, None)
    }

    #[tokio::test]
    async fn an_api_key_cannot_use_the_session_use_cases() {
        let roster = Ports::new().build();
        let caller = key_caller();
        assert_eq!(
            caller.principal_label(),
            format!("api_key:{}", api_key_id())
        );
        let secret = SecretString::from("quartz-lantern-fjord-obelisk-9");
        let results = [
            ("logout", roster.logout(&caller).await.err()),
            ("my_sessions", roster.my_sessions(&caller).await.err()),
            (
                "change_my_password",
                roster
                    .change_my_password(&caller, &secret, &secret)
                    .await
                    .err(),
            ),
        ];
        for (use_case, error) in results {
            assert!(
                matches!(error, Some(AppError::Unauthenticated)),
                "{use_case}: {error:?}"
            );
        }
    }
}
