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
        HASH, Ports, account, field_errors, fields_and_codes, now,
    };

    const STRONG: &str = "quartz-lantern-fjord-obelisk-9";

    fn caller() -> Authenticated {
        let account = account("ada@example.com", AccountStatus::Active, false);
        crate::usecases::test_support::session_caller(account, Vec::new())
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

mod own_session_tests {
    //! Logout, listing and revoking one's own sessions, and the periodic session jobs.

    use chrono::Duration;
    use mockall::predicate::eq;
    use roster_domain::AccountStatus;
    use uuid::Uuid;

    use super::super::*;
    use crate::model::{SessionId, SessionSummary};
    use crate::usecases::SessionSettings;
    use crate::usecases::test_support::{Ports, account, now, session_id, stored_key};

    fn ada() -> roster_domain::Account {
        account("ada@example.com", AccountStatus::Active, false)
    }

    /// Ada, calling with the session [`session_id`].
    fn caller() -> Authenticated {
        crate::usecases::test_support::session_caller(ada(), Vec::new())
    }

    /// An API key: a caller without a session.
    fn key_caller() -> Authenticated {
        let stored = stored_key(None, None, None);
        Authenticated::by_api_key(stored.key, stored.grants, None)
    }

    fn other_session_id() -> SessionId {
        SessionId::new(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0043))
    }

    fn summary(id: SessionId, last_seen_at: chrono::DateTime<chrono::Utc>) -> SessionSummary {
        SessionSummary {
            id,
            created_at: now() - Duration::hours(2),
            last_seen_at,
            expires_at: now() + Duration::hours(10),
            user_agent: Some("curl/8.5.0".to_owned()),
            source_ip: Some("192.0.2.7".parse().unwrap()),
            auth_methods: crate::model::AuthMethods::of(crate::model::AuthMethod::Password),
        }
    }

    #[tokio::test]
    async fn callers_without_a_session_have_no_sessions_to_manage() {
        let mut ports = Ports::new();
        ports.sessions.expect_revoke().never();
        ports.sessions.expect_list_active().never();
        ports.accounts.expect_set_password().never();
        let roster = ports.build();
        let caller = key_caller();

        let logout = roster.logout(&caller).await;
        assert!(
            matches!(logout, Err(AppError::Unauthenticated)),
            "{logout:?}"
        );
        let listed = roster.my_sessions(&caller).await;
        assert!(
            matches!(listed, Err(AppError::Unauthenticated)),
            "{listed:?}"
        );
        let revoked = roster.revoke_my_session(&caller, session_id()).await;
        assert!(
            matches!(revoked, Err(AppError::Unauthenticated)),
            "{revoked:?}"
        );
        let changed = roster
            .change_my_password(&caller, &SecretString::from("a"), &SecretString::from("b"))
            .await;
        assert!(
            matches!(changed, Err(AppError::Unauthenticated)),
            "{changed:?}"
        );
    }

    #[tokio::test]
    async fn logout_revokes_the_calling_session_with_an_audit_event() {
        let mut ports = Ports::new();
        ports.clock_at(now());
        let label = caller().principal_label();
        ports
            .sessions
            .expect_revoke()
            .withf(move |account, id, at, audit| {
                *account == ada().id
                    && *id == session_id()
                    && *at == now()
                    && audit.actor.as_deref() == Some(label.as_str())
                    && audit.target == Some(format!("session:{}", session_id()))
            })
            .times(1)
            .returning(|_, _, _, _| Ok(true));
        let roster = ports.build();

        roster.logout(&caller()).await.unwrap();
    }

    #[tokio::test]
    async fn revoking_an_own_session_needs_it_to_be_live_and_the_callers() {
        for (found, expected) in [(true, "Ok(())"), (false, "Err(NotFound(\"session\"))")] {
            let mut ports = Ports::new();
            ports.clock_at(now());
            ports
                .sessions
                .expect_revoke()
                .withf(|account, id, _, _| *account == ada().id && *id == other_session_id())
                .times(1)
                .returning(move |_, _, _, _| Ok(found));
            let roster = ports.build();

            let result = roster
                .revoke_my_session(&caller(), other_session_id())
                .await;
            assert_eq!(format!("{result:?}"), expected);
        }
    }

    #[tokio::test]
    async fn my_sessions_leaves_out_idle_ones_and_marks_the_current_one() {
        let idle = SessionSettings::default().idle_timeout;
        let just_alive = summary(other_session_id(), now() - idle + Duration::seconds(1));
        let just_idle = summary(SessionId::new(Uuid::from_u128(0x44)), now() - idle);
        let current = summary(session_id(), now() - Duration::minutes(1));
        let listed = vec![current.clone(), just_alive.clone(), just_idle];
        let mut ports = Ports::new();
        ports.clock_at(now());
        ports
            .sessions
            .expect_list_active()
            .with(eq(ada().id), eq(now()))
            .times(1)
            .returning(move |_, _| Ok(listed.clone()));
        let roster = ports.build();

        let sessions = roster.my_sessions(&caller()).await.unwrap();
        assert_eq!(
            sessions,
            [
                OwnSession {
                    session: current,
                    current: true
                },
                OwnSession {
                    session: just_alive,
                    current: false
                },
            ]
        );
    }

    #[tokio::test]
    async fn the_session_jobs_pass_the_clock_and_report_the_store_counts() {
        let idle = SessionSettings::default().idle_timeout;
        let mut ports = Ports::new();
        ports.clock_at(now());
        ports
            .sessions
            .expect_count_active()
            .with(eq(now()))
            .times(1)
            .returning(|_| Ok(17));
        ports
            .sessions
            .expect_delete_dead()
            .with(eq(now()), eq(now() - idle), eq(1000))
            .times(1)
            .returning(|_, _, _| Ok(3));
        let roster = ports.build();

        assert_eq!(roster.active_sessions().await.unwrap(), 17);
        assert_eq!(roster.clean_up_sessions().await.unwrap(), 3);
    }

    #[tokio::test]
    async fn a_proven_password_change_keeps_the_current_session_and_reports_a_lost_race() {
        use crate::model::AuditAction;
        use crate::model::PasswordHash;
        use crate::usecases::test_support::HASH;

        const NEW: &str = "quartz-lantern-fjord-obelisk-9";
        for (written, expected) in [(true, "Ok(())"), (false, "Err(Unauthenticated)")] {
            let mut ports = Ports::new();
            ports.clock_at(now());
            ports
                .login_throttle
                .expect_state()
                .times(1)
                .returning(|_| Ok(None));
            ports.login_throttle.expect_clear().never();
            ports.login_throttle.expect_record_failure().never();
            ports
                .accounts
                .expect_password_hash()
                .with(eq(ada().id))
                .times(1)
                .returning(|_| Ok(Some(PasswordHash::new(HASH))));
            ports
                .hasher
                .expect_verify()
                .times(1)
                .returning(|_, _| Ok(true));
            ports
                .hasher
                .expect_hash()
                .withf(|new| new.expose() == NEW)
                .times(1)
                .returning(|_| Ok(PasswordHash::new(HASH)));
            ports
                .accounts
                .expect_set_password()
                .withf(|id, hash, keep, at, audit| {
                    *id == ada().id
                        && hash.as_str() == HASH
                        && *keep == Some(session_id())
                        && *at == now()
                        && audit.action == AuditAction::PasswordChanged
                })
                .times(1)
                .returning(move |_, _, _, _, _| Ok(written));
            let roster = ports.build();

            // The account was deleted meanwhile when nothing was written.
            let result = roster
                .change_my_password(
                    &caller(),
                    &SecretString::from("the current one"),
                    &SecretString::from(NEW),
                )
                .await;
            assert_eq!(format!("{result:?}"), expected);
        }
    }
}
