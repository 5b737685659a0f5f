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
