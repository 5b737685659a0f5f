//! "Who may do what where" with mock ports: the principal found by email, id or pick, then
//! the same decision as `check`. The fixtures are in [`crate::usecases::test_support`].

use chrono::Duration;
use mockall::predicate::eq;
use roster_domain::{AccountStatus, Decision, Match, Reason};
use uuid::Uuid;

use crate::error::AppError;
use crate::model::{AccountPage, ApiKeyPage};
use crate::usecases::test_support::*;
use crate::usecases::{Authenticated, CheckChoices, CheckOutcome, CheckSubject, SubjectCheckForm};

/// `account-read` on `*`, and each of `more`.
fn reader_with(more: &[&str]) -> Authenticated {
    let mut rules = vec![allow("account-read")];
    rules.extend(more.iter().map(|action| allow(action)));
    actor(false, vec![grant(1, "*", rules)])
}

fn form(principal: &str, api_key_id: &str, action: &str, scope: &str) -> SubjectCheckForm {
    SubjectCheckForm {
        principal: principal.to_owned(),
        api_key_id: api_key_id.to_owned(),
        action: action.to_owned(),
        scope: scope.to_owned(),
    }
}

#[tokio::test]
async fn the_tool_and_its_choices_need_account_read_on_root() {
    let mut ports = Ports::new();
    ports.api_keys.expect_list_api_keys().never();
    ports.accounts.expect_list().never();
    let roster = ports.build();
    // Key managers too: this is a tool for those who may read other principals.
    let key_manager = actor(false, vec![grant(1, "*", vec![allow("apikey-manage")])]);
    let local_reader = actor(false, vec![grant(1, "acme", vec![allow("account-read")])]);

    for caller in [key_manager, local_reader] {
        let choices = roster.check_choices(&caller).await;
        assert!(matches!(choices, Err(AppError::Forbidden)), "{choices:?}");
        // Even for checking itself.
        let checked = roster
            .check_subject(&caller, &form("", "", "audit-read", "acme"))
            .await;
        assert!(matches!(checked, Err(AppError::Forbidden)), "{checked:?}");
    }
}

#[tokio::test]
async fn api_keys_are_offered_only_to_key_managers_and_only_usable_ones() {
    let mut ports = Ports::new();
    ports.api_keys.expect_list_api_keys().never();
    let choices = ports
        .build()
        .check_choices(&reader_with(&[]))
        .await
        .unwrap();
    assert_eq!(choices, CheckChoices::default());

    let live = stored_key(None, None, None).key;
    let revoked = stored_key(None, None, Some(now() - Duration::hours(1))).key;
    let expired = stored_key(Some(now() - Duration::minutes(1)), None, None).key;
    let page = ApiKeyPage {
        keys: vec![revoked, live.clone(), expired],
        next_after: Some(live.id),
    };
    let mut ports = Ports::new();
    ports.clock_at(now());
    ports
        .api_keys
        .expect_list_api_keys()
        .with(eq(None), eq(crate::usecases::CHECK_CHOICE_LIMIT))
        .times(1)
        .returning(move |_, _| Ok(page.clone()));
    let choices = ports
        .build()
        .check_choices(&reader_with(&["apikey-manage"]))
        .await
        .unwrap();
    assert_eq!(choices.api_keys, Some(vec![live]));
    assert!(choices.more_api_keys);
}

#[tokio::test]
async fn an_account_named_by_email_is_decided_over_its_grants() {
    let target = account("Target@Example.com", AccountStatus::Active, false);
    let mut ports = Ports::new();
    ports.account_listed_by_email("target@example.com", target.clone());
    ports.target_account(false, vec![grant(9, "acme", vec![allow("issuer-*")])]);
    let roster = ports.build();

    let checked = roster
        .check_subject(
            &reader_with(&[]),
            &form(" Target@Example.com ", "", "issuer-sign", "acme.berlin"),
        )
        .await
        .unwrap();

    assert_eq!(checked.subject, CheckSubject::Account(target));
    let CheckOutcome::Decided(Decision::Allowed(Reason::AllowedBy(Match { grant, rule, .. }))) =
        checked.outcome
    else {
        panic!("{:?}", checked.outcome);
    };
    assert_eq!(grant.as_uuid(), &Uuid::from_u128(9));
    assert_eq!(rule, allow("issuer-*"));
}

#[tokio::test]
async fn an_empty_principal_is_the_caller_itself() {
    let mut ports = Ports::new();
    ports.accounts.expect_list().never();
    ports.accounts.expect_find_by_id().never();
    ports.accounts.expect_find_with_grants().never();
    let roster = ports.build();

    let checked = roster
        .check_subject(&reader_with(&[]), &form("  ", "", "account-read", "acme"))
        .await
        .unwrap();

    assert_eq!(checked.subject, CheckSubject::Caller);
    assert!(checked.outcome.is_allowed(), "{:?}", checked.outcome);
}

#[tokio::test]
async fn a_malformed_principal_is_named_with_the_other_problems_and_looked_up_nowhere() {
    let key = api_key_id().to_string();
    let cases: Vec<(SubjectCheckForm, Vec<(&str, &str)>)> = vec![
        (
            form("bob", "", "Not An Action", "acme.*"),
            vec![
                ("principal", "invalid_principal"),
                ("action", "invalid_action"),
                ("scope", "wildcard_scope"),
            ],
        ),
        (
            form("bob@", "", "audit-read", ""),
            vec![("principal", "invalid_email"), ("scope", "invalid_scope")],
        ),
        (
            form("bob@example.com", &key, "audit-read", "acme"),
            vec![("api_key_id", "conflicting_subject")],
        ),
        (
            form("", "not-a-key", "audit-read", "acme"),
            vec![("api_key_id", "invalid_id")],
        ),
    ];
    for (form, expected) in cases {
        let mut ports = Ports::new();
        ports.accounts.expect_list().never();
        ports.accounts.expect_find_by_id().never();
        ports.api_keys.expect_find_api_key().never();
        let roster = ports.build();
        let result = roster.check_subject(&reader_with(&[]), &form).await;
        assert_eq!(
            fields_and_codes(&field_errors(result)),
            expected,
            "{form:?}"
        );
    }
}

#[tokio::test]
async fn nobody_by_that_name_is_a_problem_of_the_field_that_named_them() {
    let mut ports = Ports::new();
    ports
        .accounts
        .expect_list()
        .times(2)
        .returning(|_, _, _| Ok(AccountPage::default()));
    ports
        .accounts
        .expect_find_by_id()
        .times(2)
        .returning(|_| Ok(None));
    ports
        .api_keys
        .expect_find_api_key()
        .times(2)
        .returning(|_| Ok(None));
    ports.accounts.expect_find_with_grants().never();
    let roster = ports.build();
    let key = api_key_id().to_string();
    let cases = [
        form("ghost@example.com", "", "audit-read", "acme"),
        form(
            &format!("account:{}", target_id()),
            "",
            "audit-read",
            "acme",
        ),
        form("", &key, "audit-read", "acme"),
        // A bare id is looked for among accounts, then API keys.
        form(&key, "", "audit-read", "acme"),
    ];
    let fields = ["principal", "principal", "api_key_id", "principal"];

    for (form, field) in cases.iter().zip(fields) {
        let result = roster.check_subject(&reader_with(&[]), form).await;
        assert_eq!(
            fields_and_codes(&field_errors(result)),
            [(field, "unknown_principal")],
            "{form:?}"
        );
    }
    // Named together with the form's other problems.
    let result = roster
        .check_subject(
            &reader_with(&[]),
            &form("ghost@example.com", "", "Bad!", "acme"),
        )
        .await;
    assert_eq!(
        fields_and_codes(&field_errors(result)),
        [
            ("principal", "unknown_principal"),
            ("action", "invalid_action")
        ]
    );
}

/// The key [`api_key_id`] exists (looked up by the subject search and by the check).
fn ports_with_key(revoked: bool) -> Ports {
    let mut ports = Ports::new();
    ports.clock_at(now());
    let revoked_at = revoked.then(|| now() - Duration::hours(1));
    ports
        .api_keys
        .expect_find_api_key()
        .with(eq(api_key_id()))
        .times(2)
        .returning(move |_| Ok(Some(stored_key(None, None, revoked_at))));
    ports
}

#[tokio::test]
async fn an_api_key_is_named_only_for_key_managers() {
    let key = api_key_id().to_string();
    let mut ports = ports_with_key(false);
    // A bare id: not an account, so the key.
    ports
        .accounts
        .expect_find_by_id()
        .times(1)
        .returning(|_| Ok(None));
    let checked = ports
        .build()
        .check_subject(&reader_with(&[]), &form(&key, "", "audit-read", "acme"))
        .await
        .unwrap();
    assert_eq!(
        checked.subject,
        CheckSubject::ApiKey {
            id: api_key_id(),
            name: None
        }
    );
    assert_eq!(
        checked.outcome,
        CheckOutcome::Decided(Decision::Denied(Reason::NoMatchingGrant))
    );

    let checked = ports_with_key(false)
        .build()
        .check_subject(
            &reader_with(&["apikey-manage"]),
            &form("", &key, "audit-read", "acme"),
        )
        .await
        .unwrap();
    assert_eq!(
        checked.subject,
        CheckSubject::ApiKey {
            id: api_key_id(),
            name: Some("ci deploy".to_owned())
        }
    );
}

#[tokio::test]
async fn a_revoked_key_or_a_disabled_account_is_inactive() {
    let label = format!("api_key:{}", api_key_id());
    let checked = ports_with_key(true)
        .build()
        .check_subject(&reader_with(&[]), &form(&label, "", "audit-read", "acme"))
        .await
        .unwrap();
    assert_eq!(checked.outcome, CheckOutcome::Inactive);

    let disabled = account("target@example.com", AccountStatus::Disabled, false);
    let mut ports = Ports::new();
    let found = disabled.clone();
    ports
        .accounts
        .expect_find_by_id()
        .times(1)
        .returning(move |_| Ok(Some(found.clone())));
    let with_grants = crate::model::AccountWithGrants {
        account: disabled,
        grants: vec![grant(9, "*", vec![allow("all")])].into(),
    };
    ports
        .accounts
        .expect_find_with_grants()
        .times(1)
        .returning(move |_| Ok(Some(with_grants.clone())));
    let checked = ports
        .build()
        .check_subject(
            &reader_with(&[]),
            &form(&target_id().to_string(), "", "audit-read", "acme"),
        )
        .await
        .unwrap();
    assert_eq!(checked.outcome, CheckOutcome::Inactive);
}
