//! Grants with mock ports: the privilege principle refuses before any write.
//! The mock ports and fixtures are in [`crate::usecases::test_support`].

use roster_domain::{ActionPattern, Grant, Permission, PrincipalId, RoleName};

use crate::error::AppError;
use crate::usecases::test_support::*;
use crate::usecases::{Authenticated, GrantForm};

/// A delegate holding `grant-manage` and everything else on `acme.berlin` only.
fn berlin_admin() -> Authenticated {
    actor(false, vec![grant(5, "acme.berlin", vec![allow("all")])])
}

#[tokio::test]
async fn a_delegate_cannot_give_its_superior_a_deny() {
    let mut ports = Ports::new();
    ports.clock_at(now());
    ports.target_account(false, vec![grant(9, "acme", vec![allow("all")])]);
    let locked = role_record("locked", vec![Permission::deny(ActionPattern::All)]);
    ports
        .roles
        .expect_find_role()
        .returning(move |_| Ok(Some(locked.clone())));
    ports.grants.expect_insert_grant().never();
    let roster = ports.build();

    let form = GrantForm {
        role: "locked".into(),
        scope: "acme.berlin".into(),
    };
    let result = roster
        .create_grant(&berlin_admin(), PrincipalId::Account(target_id()), &form)
        .await;
    assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
}

#[tokio::test]
async fn a_grant_is_taken_away_only_by_who_could_give_it() {
    let deny_grant = crate::model::GrantRecord {
        grant: Grant {
            role: RoleName::parse("locked").unwrap(),
            ..grant(7, "acme.berlin", vec![Permission::deny(ActionPattern::All)])
        },
        created_at: now(),
        created_by: None,
    };
    let grant_id = deny_grant.grant.id;
    // The holder is restricted by the deny, and holds all on acme besides: lifting the
    // deny would free rights on acme.berlin's subtree the delegate cannot vouch for.
    let held = vec![
        grant(9, "acme", vec![allow("all")]),
        deny_grant.grant.clone(),
    ];
    let mut ports = Ports::new();
    ports.clock_at(now());
    ports.target_account(false, held);
    ports
        .grants
        .expect_find_grant()
        .returning(move |_, _| Ok(Some(deny_grant.clone())));
    ports.grants.expect_delete_grant().never();
    let roster = ports.build();

    let result = roster
        .delete_grant(&berlin_admin(), PrincipalId::Account(target_id()), grant_id)
        .await;
    assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
}

/// A role allowing `issuer-*`, as the store returns it.
fn issuer_role() -> crate::model::StoredRole {
    role_record("issuer-admin", vec![allow("issuer-*")])
}

fn issuer_form(scope: &str) -> GrantForm {
    GrantForm {
        role: "issuer-admin".into(),
        scope: scope.into(),
    }
}

fn berlin_grant_id() -> roster_domain::GrantId {
    roster_domain::GrantId::new(uuid::Uuid::from_u128(0x6a))
}

/// The grant `issuer-admin@acme.berlin` of [`target_id`], as the store finds it.
fn berlin_grant_record() -> crate::model::GrantRecord {
    crate::model::GrantRecord {
        grant: Grant {
            id: berlin_grant_id(),
            role: RoleName::parse("issuer-admin").unwrap(),
            scope: roster_domain::ScopePath::parse("acme.berlin").unwrap(),
            permissions: vec![allow("issuer-*")],
        },
        created_at: now(),
        created_by: None,
    }
}

impl Ports {
    /// `find_role` answers [`issuer_role`] for `issuer-admin`.
    fn issuer_role_exists(&mut self) -> &mut Self {
        let role = issuer_role();
        self.roles
            .expect_find_role()
            .withf(|name: &RoleName| name.as_str() == "issuer-admin")
            .returning(move |_| Ok(Some(role.clone())));
        self
    }

    /// `find_grant` answers [`berlin_grant_record`] for the target and its id.
    fn berlin_grant_exists(&mut self) -> &mut Self {
        let record = berlin_grant_record();
        self.grants
            .expect_find_grant()
            .with(
                mockall::predicate::eq(PrincipalId::Account(target_id())),
                mockall::predicate::eq(berlin_grant_id()),
            )
            .times(1)
            .returning(move |_, _| Ok(Some(record.clone())));
        self
    }
}

#[tokio::test]
async fn creating_a_grant_needs_grant_manage_before_the_holder_or_role_is_looked_up() {
    // Everything on acme.berlin, nothing on acme: granting on acme is refused at once.
    let mut ports = Ports::new();
    ports.accounts.expect_find_by_id().never();
    ports.api_keys.expect_find_api_key().never();
    ports.roles.expect_find_role().never();
    ports.grants.expect_insert_grant().never();
    let roster = ports.build();

    for holder in [
        PrincipalId::Account(target_id()),
        PrincipalId::ApiKey(api_key_id()),
    ] {
        let result = roster
            .create_grant(&berlin_admin(), holder, &issuer_form("acme"))
            .await;
        assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
    }
}

#[tokio::test]
async fn a_super_admin_grants_without_holding_grant_manage() {
    let caller = actor(true, vec![]);
    let inserted: Calls<(PrincipalId, crate::model::NewGrant, u32, Option<String>)> =
        Calls::default();
    let sink = std::sync::Arc::clone(&inserted);
    let mut ports = Ports::new();
    ports
        .clock_at(now())
        .target_account(false, vec![])
        .issuer_role_exists();
    ports
        .grants
        .expect_insert_grant()
        .times(1)
        .returning(move |holder, grant, limit, audit| {
            sink.lock()
                .unwrap()
                .push((holder, grant.clone(), limit, audit.detail.clone()));
            Ok(crate::model::GrantInsertion::Inserted)
        });
    let roster = ports.build();

    let holder = PrincipalId::Account(target_id());
    let created = roster
        .create_grant(&caller, holder, &issuer_form("acme.berlin"))
        .await
        .unwrap();

    assert_eq!(created.role.as_str(), "issuer-admin");
    assert_eq!(created.scope.to_string(), "acme.berlin");
    assert_eq!(created.created_at, now());
    assert_eq!(created.created_by, Some(caller.principal.id));
    assert_eq!(created.role_rules, vec![allow("issuer-*")]);
    let inserted = recorded(&inserted);
    assert_eq!(
        inserted,
        [(
            holder,
            created,
            1000,
            Some(format!("issuer-admin@acme.berlin to {holder}"))
        )]
    );
}

#[tokio::test]
async fn a_delegate_grants_within_its_scope() {
    let mut ports = Ports::new();
    ports
        .clock_at(now())
        .target_account(false, vec![])
        .issuer_role_exists();
    ports
        .grants
        .expect_insert_grant()
        .times(1)
        .returning(|_, _, _, _| Ok(crate::model::GrantInsertion::Inserted));
    let roster = ports.build();

    let created = roster
        .create_grant(
            &berlin_admin(),
            PrincipalId::Account(target_id()),
            &issuer_form("acme.berlin.issuer"),
        )
        .await
        .unwrap();
    assert_eq!(created.scope.to_string(), "acme.berlin.issuer");
}

#[tokio::test]
async fn a_grant_of_an_unknown_role_is_role_not_found_and_writes_nothing() {
    let mut ports = Ports::new();
    ports.clock_at(now()).target_account(false, vec![]);
    ports
        .roles
        .expect_find_role()
        .times(1)
        .returning(|_| Ok(None));
    ports.grants.expect_insert_grant().never();
    let roster = ports.build();

    let result = roster
        .create_grant(
            &berlin_admin(),
            PrincipalId::Account(target_id()),
            &issuer_form("acme.berlin"),
        )
        .await;
    assert!(matches!(result, Err(AppError::RoleNotFound)), "{result:?}");
}

#[tokio::test]
async fn a_grant_for_a_missing_holder_is_not_found_before_the_role_is_read() {
    let mut ports = Ports::new();
    ports
        .accounts
        .expect_find_with_grants()
        .times(1)
        .returning(|_| Ok(None));
    ports
        .api_keys
        .expect_find_api_key()
        .times(1)
        .returning(|_| Ok(None));
    ports.roles.expect_find_role().never();
    ports.grants.expect_insert_grant().never();
    let roster = ports.build();

    let caller = berlin_admin();
    let form = issuer_form("acme.berlin");
    let account = roster
        .create_grant(&caller, PrincipalId::Account(target_id()), &form)
        .await;
    assert!(
        matches!(account, Err(AppError::NotFound("account"))),
        "{account:?}"
    );
    let key = roster
        .create_grant(&caller, PrincipalId::ApiKey(api_key_id()), &form)
        .await;
    assert!(matches!(key, Err(AppError::NotFound("api key"))), "{key:?}");
}

#[tokio::test]
async fn create_grant_reports_invalid_fields_before_any_check() {
    let mut ports = Ports::new();
    ports.accounts.expect_find_by_id().never();
    ports.roles.expect_find_role().never();
    let roster = ports.build();

    let form = GrantForm {
        role: "Not A Role".into(),
        scope: "acme..x".into(),
    };
    let result = roster
        .create_grant(&berlin_admin(), PrincipalId::Account(target_id()), &form)
        .await;
    let errors = field_errors(result);
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["role", "scope"]);
}

#[tokio::test]
async fn create_grant_maps_each_store_outcome() {
    use crate::model::{Conflict, GrantInsertion, Missing, StoreError};

    type Outcome = Result<GrantInsertion, StoreError>;
    let cases: [(PrincipalId, Outcome, &str); 7] = [
        (
            PrincipalId::Account(target_id()),
            Ok(GrantInsertion::TooManyGrants),
            "TooManyGrants { limit: 1000 }",
        ),
        (
            PrincipalId::Account(target_id()),
            Err(StoreError::Duplicate(Conflict::Grant)),
            "GrantExists",
        ),
        (
            PrincipalId::Account(target_id()),
            Err(StoreError::Missing(Missing::Role)),
            "RoleNotFound",
        ),
        (
            PrincipalId::Account(target_id()),
            Err(StoreError::Missing(Missing::Holder)),
            "NotFound(\"account\")",
        ),
        (
            PrincipalId::ApiKey(api_key_id()),
            Err(StoreError::Missing(Missing::Holder)),
            "NotFound(\"api key\")",
        ),
        (
            PrincipalId::Account(target_id()),
            Err(StoreError::Unavailable("down".into())),
            "Unavailable(\"down\")",
        ),
        (
            PrincipalId::Account(target_id()),
            Err(StoreError::RoleChanged),
            "RoleChanged",
        ),
    ];
    for (holder, outcome, expected) in cases {
        let mut ports = Ports::new();
        ports
            .clock_at(now())
            .target_account(false, vec![])
            .issuer_role_exists();
        ports
            .api_keys
            .expect_find_api_key()
            .returning(|_| Ok(Some(stored_key(None, None, None))));
        ports
            .grants
            .expect_insert_grant()
            .times(1)
            .returning(move |_, _, _, _| outcome.clone());
        let roster = ports.build();

        let result = roster
            .create_grant(&berlin_admin(), holder, &issuer_form("acme.berlin"))
            .await;
        assert_eq!(format!("{:?}", result.unwrap_err()), expected);
    }
}

#[tokio::test]
async fn listing_grants_needs_the_read_permission_of_the_holder_kind() {
    let account_reader = actor(false, vec![grant(2, "*", vec![allow("account-read")])]);
    let key_manager = actor(false, vec![grant(3, "*", vec![allow("apikey-manage")])]);
    let mut ports = Ports::new();
    ports.accounts.expect_find_by_id().never();
    ports.api_keys.expect_find_api_key().never();
    ports.grants.expect_list_grants_page().never();
    let roster = ports.build();

    let key = roster
        .list_grants(&account_reader, PrincipalId::ApiKey(api_key_id()), None, 10)
        .await;
    assert!(matches!(key, Err(AppError::Forbidden)), "{key:?}");
    let account = roster
        .list_grants(&key_manager, PrincipalId::Account(target_id()), None, 10)
        .await;
    assert!(matches!(account, Err(AppError::Forbidden)), "{account:?}");
}

#[tokio::test]
async fn listing_grants_reads_the_page_of_an_existing_holder() {
    let account_reader = actor(false, vec![grant(2, "*", vec![allow("account-read")])]);
    let key_manager = actor(false, vec![grant(3, "*", vec![allow("apikey-manage")])]);
    let after = Some(berlin_grant_id());
    let mut ports = Ports::new();
    ports.target_account(false, vec![]);
    ports
        .api_keys
        .expect_find_api_key()
        .returning(|_| Ok(Some(stored_key(None, None, None))));
    ports
        .grants
        .expect_list_grants_page()
        .withf(move |_, a, limit| *a == after && *limit == 10)
        .times(2)
        .returning(|_, _, _| {
            Ok(crate::model::GrantPage {
                grants: vec![berlin_grant_record()],
                next_after: None,
            })
        });
    let roster = ports.build();

    for (caller, holder) in [
        (&account_reader, PrincipalId::Account(target_id())),
        (&key_manager, PrincipalId::ApiKey(api_key_id())),
    ] {
        let page = roster.list_grants(caller, holder, after, 10).await.unwrap();
        assert_eq!(page.grants, vec![berlin_grant_record()]);
    }
}

#[tokio::test]
async fn listing_the_grants_of_a_missing_holder_is_not_found() {
    let reader = actor(
        false,
        vec![grant(
            2,
            "*",
            vec![allow("account-read"), allow("apikey-manage")],
        )],
    );
    let mut ports = Ports::new();
    ports.accounts.expect_find_by_id().returning(|_| Ok(None));
    ports.api_keys.expect_find_api_key().returning(|_| Ok(None));
    ports.grants.expect_list_grants_page().never();
    let roster = ports.build();

    let account = roster
        .list_grants(&reader, PrincipalId::Account(target_id()), None, 10)
        .await;
    assert!(
        matches!(account, Err(AppError::NotFound("account"))),
        "{account:?}"
    );
    let key = roster
        .list_grants(&reader, PrincipalId::ApiKey(api_key_id()), None, 10)
        .await;
    assert!(matches!(key, Err(AppError::NotFound("api key"))), "{key:?}");
}

#[tokio::test]
async fn deleting_a_grant_needs_grant_manage_on_its_scope_before_the_holder_is_read() {
    // Everything on acme.paris: no say over a grant on acme.berlin.
    let paris_admin = actor(false, vec![grant(5, "acme.paris", vec![allow("all")])]);
    let mut ports = Ports::new();
    ports.berlin_grant_exists();
    ports.accounts.expect_find_by_id().never();
    ports.accounts.expect_find_with_grants().never();
    ports.grants.expect_delete_grant().never();
    let roster = ports.build();

    let result = roster
        .delete_grant(
            &paris_admin,
            PrincipalId::Account(target_id()),
            berlin_grant_id(),
        )
        .await;
    assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
}

#[tokio::test]
async fn deleting_a_grant_of_a_holder_worth_more_is_refused() {
    // Holding grant-manage alone on acme.berlin is not enough to take issuer-* away there.
    let manager = actor(
        false,
        vec![grant(5, "acme.berlin", vec![allow("grant-manage")])],
    );
    let mut ports = Ports::new();
    ports.berlin_grant_exists().target_account(false, vec![]);
    ports.grants.expect_delete_grant().never();
    let roster = ports.build();

    let result = roster
        .delete_grant(
            &manager,
            PrincipalId::Account(target_id()),
            berlin_grant_id(),
        )
        .await;
    assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
}

#[tokio::test]
async fn deleting_an_unknown_grant_is_not_found() {
    let mut ports = Ports::new();
    ports
        .grants
        .expect_find_grant()
        .times(1)
        .returning(|_, _| Ok(None));
    ports.grants.expect_delete_grant().never();
    let roster = ports.build();

    let result = roster
        .delete_grant(
            &berlin_admin(),
            PrincipalId::Account(target_id()),
            berlin_grant_id(),
        )
        .await;
    assert!(
        matches!(result, Err(AppError::NotFound("grant"))),
        "{result:?}"
    );
}

#[tokio::test]
async fn deleting_a_grant_writes_it_with_an_audit_event_and_reports_a_lost_race() {
    for (deleted, super_admin) in [(true, false), (false, false), (true, true)] {
        let caller = if super_admin {
            actor(true, vec![])
        } else {
            berlin_admin()
        };
        let label = caller.principal_label();
        let holder = PrincipalId::Account(target_id());
        let mut ports = Ports::new();
        ports
            .clock_at(now())
            .berlin_grant_exists()
            .target_account(false, vec![berlin_grant_record().grant]);
        ports
            .grants
            .expect_delete_grant()
            .withf(move |h, id, audit| {
                *h == holder
                    && *id == berlin_grant_id()
                    && audit.actor.as_deref() == Some(label.as_str())
                    && audit.detail.as_deref()
                        == Some(format!("issuer-admin@acme.berlin from {holder}").as_str())
            })
            .times(1)
            .returning(move |_, _, _| Ok(deleted));
        let roster = ports.build();

        let result = roster
            .delete_grant(&caller, holder, berlin_grant_id())
            .await;
        if deleted {
            assert!(result.is_ok(), "{result:?}");
        } else {
            assert!(
                matches!(result, Err(AppError::NotFound("grant"))),
                "{result:?}"
            );
        }
    }
}

/// The role port holds `pages` of roles; `list_roles` answers them in turn, each page asked
/// for exactly once, continuing after the last name of the one before.
fn roles_in_pages(ports: &mut Ports, pages: Vec<Vec<crate::model::StoredRole>>) {
    let count = pages.len();
    for (i, page) in pages.into_iter().enumerate() {
        let after = i
            .checked_sub(1)
            .map(|_| page_marker(i - 1))
            .map(|name| RoleName::parse(&name).unwrap());
        let next_after = (i + 1 < count).then(|| RoleName::parse(&page_marker(i)).unwrap());
        ports
            .roles
            .expect_list_roles()
            .with(mockall::predicate::eq(after), mockall::predicate::always())
            .times(1)
            .returning(move |_, _| {
                Ok(crate::model::RolePage {
                    roles: page.clone(),
                    next_after: next_after.clone(),
                })
            });
    }
}

/// The cursor after page `i` of [`roles_in_pages`].
fn page_marker(i: usize) -> String {
    format!("zz-end-of-page-{i}")
}

fn names(options: &crate::usecases::GrantOptions) -> (Vec<&str>, Vec<String>) {
    (
        options.roles.iter().map(RoleName::as_str).collect(),
        options.scopes.iter().map(ToString::to_string).collect(),
    )
}

#[tokio::test]
async fn a_super_admin_is_offered_every_role_everywhere() {
    let mut ports = Ports::new();
    roles_in_pages(
        &mut ports,
        vec![
            vec![
                role_record("auditor", vec![allow("audit-read")]),
                role_record("owner", vec![allow("all")]),
            ],
            vec![role_record(
                "sealed",
                vec![Permission::deny(ActionPattern::All)],
            )],
        ],
    );
    let roster = ports.build();

    let options = roster.grant_options(&actor(true, vec![])).await.unwrap();

    assert_eq!(
        names(&options),
        (vec!["auditor", "owner", "sealed"], vec!["*".to_owned()])
    );
}

#[tokio::test]
async fn a_delegate_is_offered_only_roles_it_may_delegate_where_it_manages_grants() {
    // grant-manage and issuer-* on acme; issuer-sign besides on acme.berlin; reading on
    // globex (where it manages nothing).
    let delegate = actor(
        false,
        vec![
            grant(1, "acme", vec![allow("grant-manage"), allow("issuer-*")]),
            grant(2, "acme.berlin", vec![allow("issuer-sign")]),
            grant(3, "globex", vec![allow("audit-read")]),
        ],
    );
    let mut ports = Ports::new();
    roles_in_pages(
        &mut ports,
        vec![vec![
            // Within what it holds on acme.
            role_record("issuer-reader", vec![allow("issuer-read")]),
            // Would escalate: `all` is more than it holds anywhere.
            role_record("owner", vec![allow("all")]),
            // Held on globex only, where it may not grant.
            role_record("auditor", vec![allow("audit-read")]),
            // Would hand on grant-manage itself, which it holds on acme: allowed there.
            role_record("delegator", vec![allow("grant-manage")]),
        ]],
    );
    let roster = ports.build();

    let options = roster.grant_options(&delegate).await.unwrap();

    assert_eq!(
        names(&options),
        (
            vec!["issuer-reader", "delegator"],
            vec!["acme".to_owned(), "acme.berlin".to_owned()]
        )
    );
}

#[tokio::test]
async fn whoever_may_grant_nowhere_is_refused_without_reading_roles() {
    let mut ports = Ports::new();
    ports.roles.expect_list_roles().never();
    ports.roles.expect_find_role().never();
    let roster = ports.build();

    let nobody = actor(false, vec![]);
    // Plenty of rights, but grant management denied beneath the only grant's scope, so
    // it holds grant-manage throughout no scope it has a grant on.
    let fenced = actor(
        false,
        vec![
            grant(1, "acme", vec![allow("all")]),
            grant(
                2,
                "acme.berlin",
                vec![Permission::deny(pattern("grant-manage"))],
            ),
        ],
    );
    let reader = actor(false, vec![grant(3, "*", vec![allow("account-read")])]);
    for caller in [nobody, fenced, reader] {
        let result = roster.grant_options(&caller).await;
        assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
    }
}
