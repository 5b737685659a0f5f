//! API keys with mock ports: creation, revocation, and a child key's expiry.
//! The mock ports and fixtures are in [`crate::usecases::test_support`].

use std::sync::Arc;

use chrono::Duration;
use mockall::predicate::eq;
use roster_domain::Permission;
use secrecy::{ExposeSecret, SecretString};

use crate::error::AppError;
use crate::model::{ApiKey, IssuedToken, TokenDigest};
use crate::usecases::Authenticated;
use crate::usecases::test_support::*;

fn key_manager() -> Authenticated {
    actor(
        false,
        vec![grant(
            3,
            "*",
            vec![Permission::allow(pattern("apikey-manage"))],
        )],
    )
}

#[tokio::test]
async fn create_api_key_needs_apikey_manage_on_root() {
    for caller in [
        actor(false, vec![]),
        actor(
            false,
            vec![grant(
                3,
                "acme",
                vec![Permission::allow(pattern("apikey-manage"))],
            )],
        ),
    ] {
        let mut ports = Ports::new();
        ports.api_keys.expect_insert_api_key().never();
        ports.tokens.expect_new_api_key().never();
        let roster = ports.build();

        let result = roster.create_api_key(&caller, "ci", None, &[]).await;

        assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
    }
}

#[tokio::test]
async fn create_api_key_reports_a_bad_name_and_lifetime_together() {
    let mut ports = Ports::new();
    ports.api_keys.expect_insert_api_key().never();
    let roster = ports.build();

    let result = roster
        .create_api_key(&key_manager(), "  ", Some("next tuesday"), &[])
        .await;

    let fields: Vec<(String, &str)> = field_errors(result)
        .into_iter()
        .map(|e| (e.field, e.code))
        .collect();
    assert_eq!(
        fields,
        [
            ("name".to_owned(), "invalid_name"),
            ("expires_in".to_owned(), "invalid_duration")
        ]
    );
}

#[tokio::test]
async fn create_api_key_stores_only_the_digest_and_returns_the_secret_once() {
    for (expires_in, expires_at) in [
        (None, None),
        (Some("PT90M"), Some(now() + Duration::minutes(90))),
        (Some("30d"), Some(now() + Duration::days(30))),
    ] {
        let mut ports = Ports::new();
        ports.clock_at(now());
        ports
            .tokens
            .expect_new_api_key()
            .times(1)
            .returning(|_| IssuedToken {
                token: SecretString::from(API_KEY),
                digest: TokenDigest::new(API_KEY_DIGEST),
            });
        let inserted: Calls<(ApiKey, TokenDigest)> = Calls::default();
        let sink = Arc::clone(&inserted);
        ports
            .api_keys
            .expect_insert_api_key()
            .times(1)
            .returning(move |key, digest, _, _| {
                sink.lock().unwrap().push((key.clone(), digest.clone()));
                Ok(())
            });
        let roster = ports.build();
        let caller = key_manager();

        let created = roster
            .create_api_key(&caller, " ci deploy ", expires_in, &[])
            .await
            .unwrap();

        let inserted = recorded(&inserted);
        assert_eq!(inserted.len(), 1);
        let (key, digest) = &inserted[0];
        assert_eq!(digest, &TokenDigest::new(API_KEY_DIGEST));
        assert_eq!(key, &created.key);
        assert_eq!(key.name, "ci deploy");
        assert_eq!(key.created_at, now());
        assert_eq!(key.expires_at, expires_at);
        assert_eq!(key.created_by, Some(caller.principal.id));
        assert_eq!((key.last_used_at, key.revoked_at), (None, None));
        assert_eq!(created.secret.expose_secret(), API_KEY);
    }
}

#[tokio::test]
async fn revoke_api_key_reports_an_unknown_key() {
    let mut ports = Ports::new();
    ports
        .api_keys
        .expect_find_api_key()
        .with(eq(api_key_id()))
        .times(1)
        .returning(|_| Ok(None));
    ports.api_keys.expect_revoke_api_key().never();
    let roster = ports.build();

    let result = roster.revoke_api_key(&key_manager(), api_key_id()).await;

    assert!(
        matches!(result, Err(AppError::NotFound("api key"))),
        "{result:?}"
    );
}
#[tokio::test]
async fn a_key_worth_more_than_the_caller_is_not_revoked() {
    let mut stored = stored_key(None, None, None);
    stored.grants = Arc::from([grant(9, "acme", vec![allow("issuer-*")])]);
    let mut ports = Ports::new();
    ports
        .api_keys
        .expect_find_api_key()
        .returning(move |_| Ok(Some(stored.clone())));
    ports.api_keys.expect_revoke_api_key().never();
    let roster = ports.build();

    let result = roster.revoke_api_key(&key_manager(), api_key_id()).await;
    assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
}

mod child_expiry_tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::super::*;

    fn parent(expires_at: Option<DateTime<Utc>>) -> ApiKey {
        ApiKey {
            id: ApiKeyId::new(Uuid::now_v7()),
            name: "parent".into(),
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            created_by: None,
            expires_at,
            last_used_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn a_child_never_outlives_its_parent() {
        let t = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let (earlier, later) = (t - Duration::days(1), t + Duration::days(1));
        // Created by an account (no parent key): as asked.
        assert_eq!(child_expiry(None, None), None);
        assert_eq!(child_expiry(Some(t), None), Some(t));
        // By a key that never expires: as asked.
        assert_eq!(child_expiry(None, Some(&parent(None))), None);
        assert_eq!(child_expiry(Some(t), Some(&parent(None))), Some(t));
        // By an expiring key: never later than the parent.
        assert_eq!(child_expiry(None, Some(&parent(Some(t)))), Some(t));
        assert_eq!(child_expiry(Some(later), Some(&parent(Some(t)))), Some(t));
        assert_eq!(
            child_expiry(Some(earlier), Some(&parent(Some(t)))),
            Some(earlier)
        );
    }
}
