//! Account administration with mock ports: a password reset or status change needs every
//! right of the target, and refuses before any write.
//! The mock ports and fixtures are in [`crate::usecases::test_support`].

use std::sync::Arc;

use mockall::predicate::eq;
use roster_domain::{AccountStatus, PrincipalId};

use crate::error::AppError;
use crate::model::PasswordHash;
use crate::usecases::Authenticated;
use crate::usecases::test_support::*;

/// An account with only `account-password-reset` and `account-disable` on `*`.
fn helpdesk() -> Authenticated {
    actor(
        false,
        vec![grant(
            4,
            "*",
            vec![allow("account-password-reset"), allow("account-disable")],
        )],
    )
}

impl Ports {
    fn forbid_account_changes(&mut self) -> &mut Self {
        self.hasher.expect_hash().never();
        self.accounts.expect_set_password().never();
        self.accounts.expect_set_status().never();
        self
    }
}

#[tokio::test]
async fn a_password_reset_or_status_change_needs_every_right_of_the_target() {
    let stronger = vec![grant(9, "acme", vec![allow("issuer-*")])];
    for (is_superadmin, grants, why) in [
        (true, vec![], "a super admin"),
        (false, stronger, "an account holding more"),
    ] {
        let mut ports = Ports::new();
        ports
            .target_account(is_superadmin, grants)
            .forbid_account_changes();
        let roster = ports.build();
        let reset = roster
            .reset_password(&helpdesk(), target_id(), &secret(STRONG))
            .await;
        assert!(
            matches!(reset, Err(AppError::Forbidden)),
            "reset of {why}: {reset:?}"
        );
        for status in [AccountStatus::Disabled, AccountStatus::Active] {
            let result = roster
                .set_account_status(&helpdesk(), target_id(), status)
                .await;
            assert!(
                matches!(result, Err(AppError::Forbidden)),
                "{status:?} of {why}: {result:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_password_reset_of_an_account_holding_less_goes_ahead() {
    let mut ports = Ports::new();
    ports.target_account(false, vec![]).clock_at(now());
    ports
        .hasher
        .expect_hash()
        .times(1)
        .returning(|_| Ok(PasswordHash::new(HASH)));
    ports
        .accounts
        .expect_set_password()
        .withf(|id, _, keep, _, _| *id == target_id() && keep.is_none())
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    let roster = ports.build();

    roster
        .reset_password(&helpdesk(), target_id(), &secret(STRONG))
        .await
        .unwrap();
}

#[tokio::test]
async fn disabling_an_account_is_weighed_with_the_keys_it_created() {
    let mut stronger_key = stored_key(None, None, None);
    stronger_key.grants = Arc::from([grant(9, "acme", vec![allow("issuer-*")])]);
    let mut ports = Ports::new();
    ports
        .clock_at(now())
        .target_account(false, vec![])
        .forbid_account_changes();
    ports
        .api_keys
        .expect_live_keys_created_by()
        .with(eq(PrincipalId::Account(target_id())))
        .times(1)
        .returning(|_| Ok(vec![api_key_id()]));
    ports
        .api_keys
        .expect_find_api_key()
        .returning(move |_| Ok(Some(stronger_key.clone())));
    let roster = ports.build();

    let result = roster
        .set_account_status(&helpdesk(), target_id(), AccountStatus::Disabled)
        .await;
    assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
}

fn account_reader() -> Authenticated {
    actor(false, vec![grant(2, "*", vec![allow("account-read")])])
}

#[tokio::test]
async fn listing_accounts_needs_account_read_and_filters_by_the_canonical_email() {
    let page = crate::model::AccountPage {
        accounts: vec![account("ada@example.com", AccountStatus::Active, false)],
        next_after: Some(target_id()),
    };
    let mut ports = Ports::new();
    ports
        .accounts
        .expect_list()
        .with(
            eq(Some("ada@example.com".to_owned())),
            eq(Some(target_id())),
            eq(25),
        )
        .times(1)
        .returning(move |_, _, _| Ok(page.clone()));
    let roster = ports.build();

    let refused = roster
        .list_accounts(&helpdesk(), Some("ada@example.com"), None, 25)
        .await;
    assert!(matches!(refused, Err(AppError::Forbidden)), "{refused:?}");

    let listed = roster
        .list_accounts(
            &account_reader(),
            Some("Ada@Example.COM"),
            Some(target_id()),
            25,
        )
        .await
        .unwrap();
    assert_eq!(listed.accounts.len(), 1);
    assert_eq!(listed.next_after, Some(target_id()));

    // An address that cannot be any account's matches nothing, without a query.
    let none = roster
        .list_accounts(&account_reader(), Some("not an email"), None, 25)
        .await
        .unwrap();
    assert!(none.accounts.is_empty() && none.next_after.is_none());
}

#[tokio::test]
async fn account_details_need_account_read_and_an_existing_account() {
    let record = crate::model::GrantRecord {
        grant: grant(9, "acme", vec![allow("issuer-*")]),
        created_at: now(),
        created_by: None,
    };
    let mut ports = Ports::new();
    ports.target_account(false, vec![]);
    ports
        .grants
        .expect_list_grants()
        .with(eq(PrincipalId::Account(target_id())))
        .times(1)
        .returning(move |_| Ok(vec![record.clone()]));
    let roster = ports.build();

    let refused = roster.account_details(&helpdesk(), target_id()).await;
    assert!(matches!(refused, Err(AppError::Forbidden)), "{refused:?}");
    let details = roster
        .account_details(&account_reader(), target_id())
        .await
        .unwrap();
    assert_eq!(details.account.id, target_id());
    assert_eq!(details.grants.len(), 1);

    let mut ports = Ports::new();
    ports.accounts.expect_find_by_id().returning(|_| Ok(None));
    ports.grants.expect_list_grants().never();
    let missing = ports
        .build()
        .account_details(&account_reader(), target_id())
        .await;
    assert!(
        matches!(missing, Err(AppError::NotFound("account"))),
        "{missing:?}"
    );
}

#[tokio::test]
async fn admin_actions_on_accounts_need_their_own_permission_before_any_lookup() {
    let mut ports = Ports::new();
    ports.accounts.expect_find_by_id().never();
    ports.forbid_account_changes();
    let roster = ports.build();

    // Reading accounts is not enough to disable one or reset its password.
    let reset = roster
        .reset_password(&account_reader(), target_id(), &secret(STRONG))
        .await;
    assert!(matches!(reset, Err(AppError::Forbidden)), "{reset:?}");
    let status = roster
        .set_account_status(&account_reader(), target_id(), AccountStatus::Disabled)
        .await;
    assert!(matches!(status, Err(AppError::Forbidden)), "{status:?}");
}

#[tokio::test]
async fn a_password_reset_refuses_a_password_built_from_the_accounts_own_data() {
    // Strong on its own, but essentially the target's name ("Ada Lovelace").
    let password = "Lovelace!Lovelace!1815";
    let mut ports = Ports::new();
    ports.target_account(false, vec![]).forbid_account_changes();
    let roster = ports.build();

    let result = roster
        .reset_password(&helpdesk(), target_id(), &secret(password))
        .await;
    assert_eq!(
        fields_and_codes(&field_errors(result)),
        [("new_password", "weak_password")]
    );
}

#[tokio::test]
async fn a_password_reset_of_an_account_deleted_meanwhile_is_not_found() {
    let mut ports = Ports::new();
    ports.target_account(false, vec![]).clock_at(now());
    ports
        .hasher
        .expect_hash()
        .times(1)
        .returning(|_| Ok(PasswordHash::new(HASH)));
    ports
        .accounts
        .expect_set_password()
        .withf(|_, hash, _, at, audit| {
            hash.as_str() == HASH
                && *at == now()
                && audit.target == Some(format!("account:{}", target_id()))
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(false));
    let roster = ports.build();

    let result = roster
        .reset_password(&helpdesk(), target_id(), &secret(STRONG))
        .await;
    assert!(
        matches!(result, Err(AppError::NotFound("account"))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_status_change_maps_each_store_outcome_and_audits_the_right_action() {
    use crate::model::AuditAction;
    use crate::model::StatusChange;

    let changed = account("target@example.com", AccountStatus::Disabled, false);
    for (status, action, outcome, expected) in [
        (
            AccountStatus::Disabled,
            AuditAction::AccountDisabled,
            StatusChange::Changed(changed.clone()),
            format!("Ok({changed:?})"),
        ),
        (
            AccountStatus::Active,
            AuditAction::AccountEnabled,
            StatusChange::NotFound,
            "Err(NotFound(\"account\"))".to_owned(),
        ),
        (
            AccountStatus::Disabled,
            AuditAction::AccountDisabled,
            StatusChange::LastSuperadmin,
            "Err(LastSuperadmin)".to_owned(),
        ),
    ] {
        let mut ports = Ports::new();
        ports.target_account(false, vec![]).clock_at(now());
        ports
            .api_keys
            .expect_live_keys_created_by()
            .returning(|_| Ok(vec![]));
        ports
            .accounts
            .expect_set_status()
            .withf(move |id, s, at, audit| {
                *id == target_id() && *s == status && *at == now() && audit.action == action
            })
            .times(1)
            .returning(move |_, _, _, _| Ok(outcome.clone()));
        let roster = ports.build();

        let result = roster
            .set_account_status(&helpdesk(), target_id(), status)
            .await;
        assert_eq!(format!("{result:?}"), expected);
    }
}

#[tokio::test]
async fn disabling_skips_keys_that_can_no_longer_act() {
    // The account created a stronger key, but it is revoked (or gone): it goes nowhere.
    let mut revoked = stored_key(None, None, Some(now() - chrono::Duration::hours(1)));
    revoked.grants = Arc::from([grant(9, "acme", vec![allow("issuer-*")])]);
    let gone = crate::usecases::test_support::api_key_id();
    let revoked_id = roster_domain::ApiKeyId::new(uuid::Uuid::from_u128(0xbb));
    let mut ports = Ports::new();
    ports.clock_at(now()).target_account(false, vec![]);
    ports
        .api_keys
        .expect_live_keys_created_by()
        .returning(move |_| Ok(vec![gone, revoked_id]));
    ports
        .api_keys
        .expect_find_api_key()
        .returning(move |id| Ok((id == revoked_id).then(|| revoked.clone())));
    ports
        .accounts
        .expect_set_status()
        .times(1)
        .returning(|_, _, _, _| {
            Ok(crate::model::StatusChange::Changed(account(
                "target@example.com",
                AccountStatus::Disabled,
                false,
            )))
        });
    let roster = ports.build();

    let result = roster
        .set_account_status(&helpdesk(), target_id(), AccountStatus::Disabled)
        .await;
    assert!(result.is_ok(), "{result:?}");
}
