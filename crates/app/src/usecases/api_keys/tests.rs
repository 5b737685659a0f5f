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

/// The token source issues [`API_KEY`] (as often as asked).
fn issues_key(ports: &mut Ports) {
    ports
        .tokens
        .expect_new_api_key()
        .returning(|_| IssuedToken {
            token: SecretString::from(API_KEY),
            digest: TokenDigest::new(API_KEY_DIGEST),
        });
}

fn grant_form(role: &str, scope: &str) -> crate::usecases::GrantForm {
    crate::usecases::GrantForm {
        role: role.into(),
        scope: scope.into(),
    }
}

/// `find_role` knows `issuer-admin` (allowing `issuer-*`), as often as asked.
fn issuer_role_exists(ports: &mut Ports) {
    ports.roles.expect_find_role().returning(|name| {
        Ok((name.as_str() == "issuer-admin")
            .then(|| role_record("issuer-admin", vec![allow("issuer-*")])))
    });
}

/// Records the grants and audit detail of each insert, which answers `answer`.
fn insert_answers(
    ports: &mut Ports,
    answer: Result<(), crate::model::StoreError>,
) -> Calls<(Vec<crate::model::NewGrant>, Option<String>)> {
    let calls: Calls<(Vec<crate::model::NewGrant>, Option<String>)> = Calls::default();
    let sink = Arc::clone(&calls);
    ports
        .api_keys
        .expect_insert_api_key()
        .times(1)
        .returning(move |_, _, grants, audit| {
            sink.lock()
                .unwrap()
                .push((grants.to_vec(), audit.detail.clone()));
            answer.clone()
        });
    calls
}

#[tokio::test]
async fn a_key_is_created_with_its_authorized_grants_named_in_the_audit_event() {
    let caller = actor(
        false,
        vec![
            grant(3, "*", vec![allow("apikey-manage")]),
            grant(4, "acme", vec![allow("all")]),
        ],
    );
    let mut ports = Ports::new();
    ports.clock_at(now());
    issues_key(&mut ports);
    issuer_role_exists(&mut ports);
    let inserted = insert_answers(&mut ports, Ok(()));
    let roster = ports.build();

    let created = roster
        .create_api_key(
            &caller,
            "ci",
            None,
            &[
                grant_form("issuer-admin", "acme.berlin"),
                grant_form("issuer-admin", "acme.paris"),
            ],
        )
        .await
        .unwrap();

    let described: Vec<String> = created
        .grants
        .iter()
        .map(|g| format!("{}@{}", g.role, g.scope))
        .collect();
    assert_eq!(
        described,
        ["issuer-admin@acme.berlin", "issuer-admin@acme.paris"]
    );
    assert_eq!(
        recorded(&inserted),
        [(
            created.grants.clone(),
            Some("name \"ci\"; issuer-admin@acme.berlin, issuer-admin@acme.paris".to_owned())
        )]
    );
}

#[tokio::test]
async fn a_key_without_grants_says_so_in_the_audit_event() {
    let mut ports = Ports::new();
    ports.clock_at(now());
    issues_key(&mut ports);
    let inserted = insert_answers(&mut ports, Ok(()));
    let roster = ports.build();

    let created = roster
        .create_api_key(&key_manager(), "ci", None, &[])
        .await
        .unwrap();
    assert!(created.grants.is_empty());
    assert_eq!(
        recorded(&inserted),
        [(vec![], Some("name \"ci\"; no grants".to_owned()))]
    );
}

#[tokio::test]
async fn the_grants_of_a_new_key_are_validated_each_by_its_index() {
    let mut ports = Ports::new();
    ports.roles.expect_find_role().never();
    ports.api_keys.expect_insert_api_key().never();
    let roster = ports.build();

    let result = roster
        .create_api_key(
            &actor(true, vec![]),
            "ci",
            None,
            &[
                grant_form("issuer-admin", "acme"),
                grant_form("Bad Role", "acme..x"),
                grant_form("issuer-admin", "acme.paris"),
                grant_form("issuer-admin", "acme"),
            ],
        )
        .await;
    let errors = field_errors(result);
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["grants[1].role", "grants[1].scope", "grants[3]"]);
    assert_eq!(errors[2].code, "duplicate_grant");
}

#[tokio::test]
async fn a_new_key_holds_at_most_the_grant_cap() {
    let limit = crate::usecases::GrantLimits::default().max_per_holder as usize;
    let forms = |n: usize| -> Vec<crate::usecases::GrantForm> {
        (0..n)
            .map(|i| grant_form("issuer-admin", &format!("acme.site{i}")))
            .collect()
    };

    let mut ports = Ports::new();
    ports.clock_at(now());
    issues_key(&mut ports);
    issuer_role_exists(&mut ports);
    insert_answers(&mut ports, Ok(()));
    let at_the_cap = ports
        .build()
        .create_api_key(&actor(true, vec![]), "ci", None, &forms(limit))
        .await
        .unwrap();
    assert_eq!(at_the_cap.grants.len(), limit);

    let mut ports = Ports::new();
    ports.roles.expect_find_role().never();
    ports.api_keys.expect_insert_api_key().never();
    let over = ports
        .build()
        .create_api_key(&actor(true, vec![]), "ci", None, &forms(limit + 1))
        .await;
    assert!(
        matches!(over, Err(AppError::TooManyGrants { limit: 1000 })),
        "{over:?}"
    );
}

#[tokio::test]
async fn create_api_key_maps_the_store_refusals() {
    use crate::model::{Missing, StoreError};
    for (answer, expected) in [
        (StoreError::Missing(Missing::Role), "RoleNotFound"),
        (StoreError::Missing(Missing::Creator), "Unauthenticated"),
        (
            StoreError::Unavailable("down".into()),
            "Unavailable(\"down\")",
        ),
    ] {
        let mut ports = Ports::new();
        ports.clock_at(now());
        issues_key(&mut ports);
        insert_answers(&mut ports, Err(answer));
        let result = ports
            .build()
            .create_api_key(&key_manager(), "ci", None, &[])
            .await;
        assert_eq!(format!("{:?}", result.unwrap_err()), expected);
    }
}

#[tokio::test]
async fn a_key_created_by_an_expiring_key_expires_with_it() {
    let mut parent = stored_key(Some(now() + Duration::hours(1)), None, None).key;
    parent.id = roster_domain::ApiKeyId::new(uuid::Uuid::from_u128(0xcc));
    let caller = Authenticated::by_api_key(parent, key_manager().principal.grants, None);
    let mut ports = Ports::new();
    ports.clock_at(now());
    issues_key(&mut ports);
    insert_answers(&mut ports, Ok(()));
    let roster = ports.build();

    let created = roster
        .create_api_key(&caller, "ci", Some("30d"), &[])
        .await
        .unwrap();
    assert_eq!(created.key.expires_at, Some(now() + Duration::hours(1)));
}

#[tokio::test]
async fn listing_and_reading_keys_need_apikey_manage() {
    let page = crate::model::ApiKeyPage {
        keys: vec![stored_key(None, None, None).key],
        next_after: Some(api_key_id()),
    };
    let record = crate::model::GrantRecord {
        grant: grant(9, "acme", vec![allow("issuer-*")]),
        created_at: now(),
        created_by: None,
    };
    let mut ports = Ports::new();
    ports
        .api_keys
        .expect_list_api_keys()
        .with(eq(Some(api_key_id())), eq(7))
        .times(1)
        .returning(move |_, _| Ok(page.clone()));
    ports
        .api_keys
        .expect_find_api_key()
        .times(2)
        .returning(|id| Ok((id == api_key_id()).then(|| stored_key(None, None, None))));
    ports
        .grants
        .expect_list_grants()
        .with(eq(roster_domain::PrincipalId::ApiKey(api_key_id())))
        .times(1)
        .returning(move |_| Ok(vec![record.clone()]));
    let roster = ports.build();
    let nobody = actor(false, vec![]);

    let refused = roster.list_api_keys(&nobody, None, 7).await;
    assert!(matches!(refused, Err(AppError::Forbidden)), "{refused:?}");
    let refused = roster.api_key_details(&nobody, api_key_id()).await;
    assert!(matches!(refused, Err(AppError::Forbidden)), "{refused:?}");

    let listed = roster
        .list_api_keys(&key_manager(), Some(api_key_id()), 7)
        .await
        .unwrap();
    assert_eq!(listed.keys.len(), 1);
    assert_eq!(listed.next_after, Some(api_key_id()));
    let details = roster
        .api_key_details(&key_manager(), api_key_id())
        .await
        .unwrap();
    assert_eq!(details.key.id, api_key_id());
    assert_eq!(details.grants.len(), 1);
    let other = roster_domain::ApiKeyId::new(uuid::Uuid::from_u128(0xdd));
    let missing = roster.api_key_details(&key_manager(), other).await;
    assert!(
        matches!(missing, Err(AppError::NotFound("api key"))),
        "{missing:?}"
    );
}

#[tokio::test]
async fn revoking_a_key_writes_the_revocation_with_an_audit_event() {
    let mut revoked = stored_key(None, None, Some(now())).key;
    revoked.revoked_at = Some(now());
    let answer = revoked.clone();
    let mut ports = Ports::new();
    ports.clock_at(now());
    ports
        .api_keys
        .expect_find_api_key()
        .returning(|_| Ok(Some(stored_key(None, None, None))));
    ports
        .api_keys
        .expect_live_keys_created_by()
        .returning(|_| Ok(vec![]));
    ports
        .api_keys
        .expect_revoke_api_key()
        .withf(|id, at, audit| {
            *id == api_key_id()
                && *at == now()
                && audit.target == Some(format!("api_key:{}", api_key_id()))
        })
        .times(1)
        .returning(move |_, _, _| Ok(Some(answer.clone())));
    let roster = ports.build();

    let refused = roster
        .revoke_api_key(&actor(false, vec![]), api_key_id())
        .await;
    assert!(matches!(refused, Err(AppError::Forbidden)), "{refused:?}");
    let key = roster
        .revoke_api_key(&key_manager(), api_key_id())
        .await
        .unwrap();
    assert_eq!(key, revoked);
}
