//! Self-registration, registration by an administrator and the super-admin bootstrap, with
//! mock ports.
//! The mock ports and fixtures are in [`crate::usecases::test_support`].

use roster_domain::{
    AccountId, AccountStatus, ActionPattern, DisplayName, PasswordPolicy, Permission,
};
use uuid::Uuid;

use crate::error::AppError;
use crate::model::{Conflict, HashError, StoreError};
use crate::usecases::test_support::*;
use crate::usecases::{EmailVerification, RegistrationPolicy, RosterSettings};
use roster_domain::AllowedDomains;

// ---------------------------------------------------------------------------------------------
// register_self
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn register_self_is_refused_while_the_flag_is_off() {
    let mut ports = Ports::new();
    ports.registration(false).forbid_account_creation();
    let roster = ports.build();

    let result = roster
        .register_self(form("ada@example.com", STRONG, Some("Ada")), None)
        .await;

    assert!(
        matches!(
            result,
            Err(AppError::FeatureDisabled("account-registration"))
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn register_self_flag_off_wins_over_an_invalid_body() {
    let mut ports = Ports::new();
    ports.registration(false).forbid_account_creation();
    let roster = ports.build();

    let result = roster
        .register_self(form("not an email", "short", Some("\n")), None)
        .await;

    assert!(
        matches!(
            result,
            Err(AppError::FeatureDisabled("account-registration"))
        ),
        "validation must not run while the feature is off: {result:?}"
    );
}

#[tokio::test]
async fn register_self_rejects_an_invalid_email() {
    let mut ports = Ports::new();
    ports.registration(true).forbid_account_creation();
    let roster = ports.build();

    for email in [
        "not-an-email",
        "",
        "   ",
        "Ada <ada@example.com>",
        "ada@",
        "@example.com",
    ] {
        let errors = field_errors(roster.register_self(form(email, STRONG, None), None).await);
        assert_eq!(
            fields_and_codes(&errors),
            [("email", "invalid_email")],
            "{email:?}"
        );
    }
}

#[tokio::test]
async fn register_self_rejects_a_short_password() {
    let mut ports = Ports::new();
    ports.registration(true).forbid_account_creation();
    let roster = ports.build();

    // 14 characters: one short of the default minimum.
    let errors = field_errors(
        roster
            .register_self(form("ada@example.com", "Zq7!vR2#mK9$wL", None), None)
            .await,
    );

    assert_eq!(
        fields_and_codes(&errors),
        [("password", "password_too_short")]
    );
    assert!(errors[0].message.contains("15"), "{:?}", errors[0].message);
}

#[tokio::test]
async fn register_self_rejects_a_too_long_password() {
    let mut ports = Ports::new();
    ports.registration(true).forbid_account_creation();
    let roster = ports.build();
    let long = "correct horse battery staple ".repeat(5); // 145 characters

    let errors = field_errors(
        roster
            .register_self(form("ada@example.com", &long, None), None)
            .await,
    );

    assert_eq!(
        fields_and_codes(&errors),
        [("password", "password_too_long")]
    );
    assert!(errors[0].message.contains("128"), "{:?}", errors[0].message);
}

#[tokio::test]
async fn register_self_rejects_a_weak_password() {
    let mut ports = Ports::new();
    ports.registration(true).forbid_account_creation();
    let roster = ports.build();

    for weak in [
        "passwordpassword",
        "aaaaaaaaaaaaaaaa",
        "1234567890123456",
        "qwertyuiopasdfgh",
    ] {
        let errors = field_errors(
            roster
                .register_self(form("ada@example.com", weak, None), None)
                .await,
        );
        assert_eq!(
            fields_and_codes(&errors),
            [("password", "weak_password")],
            "{weak:?}"
        );
        assert!(
            !errors[0].message.contains(weak),
            "the message must not echo the password"
        );
    }
}

#[tokio::test]
async fn register_self_rejects_a_password_that_is_essentially_the_email_local_part() {
    let password = "Quixotic.QUIXOTIC.2024!";
    // The password is strong on its own: only the personal input makes it weak.
    assert!(PasswordPolicy::default().check(password, &[]).is_ok());
    // A passphrase that merely contains it is judged like any other (NIST SP 800-63B).
    let passphrase = "quixotic correct horse battery staple";
    let inputs = ["quixotic@example.com", "quixotic"];
    assert!(PasswordPolicy::default().check(passphrase, &inputs).is_ok());

    let mut ports = Ports::new();
    ports.registration(true).forbid_account_creation();
    let roster = ports.build();

    // Case-insensitively, and whatever the domain.
    for email in ["quixotic@example.com", "QuiXotic@Example.org"] {
        let errors = field_errors(
            roster
                .register_self(form(email, password, None), None)
                .await,
        );
        assert_eq!(
            fields_and_codes(&errors),
            [("password", "weak_password")],
            "{email}"
        );
        assert!(
            errors[0].message.contains("email"),
            "{:?}",
            errors[0].message
        );
    }
}

#[tokio::test]
async fn register_self_rejects_a_password_that_is_essentially_the_name() {
    let password = "Lovelace!Lovelace!1815";
    assert!(PasswordPolicy::default().check(password, &[]).is_ok());

    let mut ports = Ports::new();
    ports.registration(true).forbid_account_creation();
    let roster = ports.build();

    let errors = field_errors(
        roster
            .register_self(
                form("countess@example.com", password, Some("Ada Lovelace")),
                None,
            )
            .await,
    );

    assert_eq!(fields_and_codes(&errors), [("password", "weak_password")]);
}

#[tokio::test]
async fn register_self_reports_every_problem_at_once() {
    let mut ports = Ports::new();
    ports.registration(true).forbid_account_creation();
    let roster = ports.build();

    let errors = field_errors(
        roster
            .register_self(form("not-an-email", "short", Some("Ada\nLovelace")), None)
            .await,
    );

    assert_eq!(
        fields_and_codes(&errors),
        [
            ("email", "invalid_email"),
            ("name", "invalid_name"),
            ("password", "password_too_short")
        ]
    );
    for error in &errors {
        assert!(!error.message.is_empty(), "{error:?}");
        assert!(
            !error.message.contains("short"),
            "the password is never echoed: {error:?}"
        );
    }
}

#[tokio::test]
async fn register_self_with_an_invalid_name_alone_is_refused() {
    let mut ports = Ports::new();
    ports.registration(true).forbid_account_creation();
    let roster = ports.build();

    for name in ["   ", "Ada\tLovelace", &"x".repeat(201)] {
        let errors = field_errors(
            roster
                .register_self(form("ada@example.com", STRONG, Some(name)), None)
                .await,
        );
        assert_eq!(
            fields_and_codes(&errors),
            [("name", "invalid_name")],
            "{name:?}"
        );
    }
}

#[tokio::test]
async fn register_self_refuses_a_taken_email_without_hashing() {
    let existing = account("ada.lovelace@example.com", AccountStatus::Active, false);
    let mut ports = Ports::new();
    ports.registration(true).stored_account(&existing);
    ports.hasher.expect_hash().never();
    ports.accounts.expect_insert().never();
    let roster = ports.build();

    // Looked up by the canonical form of what was typed.
    let result = roster
        .register_self(form("  Ada.Lovelace@EXAMPLE.com ", STRONG, None), None)
        .await;

    assert!(matches!(result, Err(AppError::EmailTaken)), "{result:?}");
}

#[tokio::test]
async fn register_self_maps_a_duplicate_insert_to_email_taken() {
    // Two registrations race: both pass the early check, the unique index refuses the second.
    let mut ports = Ports::new();
    ports
        .registration(true)
        .clock_at(now())
        .email_free("ada@example.com")
        .hash_ok(STRONG);
    ports
        .accounts
        .expect_insert()
        .times(1)
        .returning(|_, _, _, _| Err(StoreError::Duplicate(Conflict::Email)));
    let roster = ports.build();

    let result = roster
        .register_self(form("ada@example.com", STRONG, None), None)
        .await;

    assert!(matches!(result, Err(AppError::EmailTaken)), "{result:?}");
}

#[tokio::test]
async fn register_self_creates_an_active_ordinary_account() {
    let mut ports = Ports::new();
    ports.registration(true);
    let inserted = ports.creation_succeeds("ada.lovelace@example.com", STRONG);
    let roster = ports.build();

    let account = roster
        .register_self(
            form(
                "  Ada.Lovelace@Example.COM\n",
                STRONG,
                Some("  Ada Lovelace  "),
            ),
            None,
        )
        .await
        .unwrap()
        .into_account()
        .expect("created");

    assert_eq!(
        account.email.as_str(),
        "Ada.Lovelace@Example.COM",
        "trimmed, case kept"
    );
    assert_eq!(account.email.canonical(), "ada.lovelace@example.com");
    assert_eq!(
        account.name.as_ref().map(DisplayName::as_str),
        Some("Ada Lovelace")
    );
    assert_eq!(account.status, AccountStatus::Active);
    assert!(account.can_log_in());
    assert!(!account.is_superadmin);
    assert_eq!(account.created_at, now());
    assert_eq!(account.updated_at, now());
    assert_ne!(account.id, AccountId::new(Uuid::nil()));

    let inserted = recorded(&inserted);
    assert_eq!(inserted.len(), 1);
    let (stored, hash) = &inserted[0];
    assert_eq!(stored, &account, "the returned account is the one stored");
    assert_eq!(hash.as_str(), HASH, "the hasher's output is stored");
}

#[tokio::test]
async fn register_self_without_a_name_stores_none() {
    let mut ports = Ports::new();
    ports.registration(true);
    let inserted = ports.creation_succeeds("grace@example.com", STRONG);
    let roster = ports.build();

    let account = roster
        .register_self(form("grace@example.com", STRONG, None), None)
        .await
        .unwrap()
        .into_account()
        .expect("created");

    assert_eq!(account.name, None);
    assert_eq!(recorded(&inserted)[0].0.name, None);
}

#[tokio::test]
async fn register_self_normalizes_the_password_before_hashing() {
    // NFKC turns the ligature "ﬁ" (U+FB01) into "fi": the hasher sees the normalized form.
    let mut ports = Ports::new();
    ports.registration(true);
    let _inserted = ports.creation_succeeds("ada@example.com", "fine horse battery staple orbit");
    let roster = ports.build();

    let result = roster
        .register_self(
            form(
                "ada@example.com",
                "\u{FB01}ne horse battery staple orbit",
                None,
            ),
            None,
        )
        .await;

    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn register_self_reports_an_overloaded_hasher() {
    let mut ports = Ports::new();
    ports.registration(true).email_free("ada@example.com");
    ports.hasher.expect_hash().times(1).returning(|_| {
        Err(HashError::Overloaded {
            retry_after_secs: 7,
        })
    });
    ports.accounts.expect_insert().never();
    let roster = ports.build();

    let result = roster
        .register_self(form("ada@example.com", STRONG, None), None)
        .await;

    assert!(
        matches!(
            result,
            Err(AppError::Overloaded {
                retry_after_secs: 7
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn register_self_reports_an_unavailable_store_at_the_lookup() {
    let mut ports = Ports::new();
    ports.registration(true);
    ports
        .accounts
        .expect_find_by_email()
        .times(1)
        .returning(|_| Err(StoreError::Unavailable("connection refused".to_owned())));
    ports.hasher.expect_hash().never();
    ports.accounts.expect_insert().never();
    let roster = ports.build();

    let result = roster
        .register_self(form("ada@example.com", STRONG, None), None)
        .await;

    assert!(
        matches!(&result, Err(AppError::Unavailable(cause)) if cause == "connection refused"),
        "{result:?}"
    );
}

#[tokio::test]
async fn register_self_reports_an_unavailable_store_at_the_insert() {
    let mut ports = Ports::new();
    ports
        .registration(true)
        .clock_at(now())
        .email_free("ada@example.com")
        .hash_ok(STRONG);
    ports
        .accounts
        .expect_insert()
        .times(1)
        .returning(|_, _, _, _| Err(StoreError::Unavailable("timeout".to_owned())));
    let roster = ports.build();

    let result = roster
        .register_self(form("ada@example.com", STRONG, None), None)
        .await;

    assert!(
        matches!(&result, Err(AppError::Unavailable(cause)) if cause == "timeout"),
        "{result:?}"
    );
}

#[tokio::test]
async fn register_self_reports_other_store_failures_as_internal() {
    let mut ports = Ports::new();
    ports
        .registration(true)
        .clock_at(now())
        .email_free("ada@example.com")
        .hash_ok(STRONG);
    ports
        .accounts
        .expect_insert()
        .times(1)
        .returning(|_, _, _, _| Err(StoreError::Internal("check constraint".to_owned())));
    let roster = ports.build();

    let result = roster
        .register_self(form("ada@example.com", STRONG, None), None)
        .await;

    assert!(matches!(result, Err(AppError::Internal(_))), "{result:?}");
}

// ---------------------------------------------------------------------------------------------
// register_by_admin
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn register_by_admin_refuses_a_principal_without_grants_before_any_work() {
    let mut ports = Ports::new();
    ports.forbid_account_creation();
    ports.features.expect_is_enabled().never();
    let roster = ports.build();
    let nobody = actor(false, Vec::new());

    // An invalid body too: authorization comes first, so validation leaks nothing.
    for body in [
        form("ada@example.com", STRONG, None),
        form("nope", "short", None),
    ] {
        let result = roster
            .register_by_admin(&nobody, body, vec![])
            .await
            .map(|(account, _)| account);
        assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
    }
}

#[tokio::test]
async fn register_by_admin_lets_a_super_admin_create_while_registration_is_off() {
    let mut ports = Ports::new();
    ports.registration(false);
    let inserted = ports.creation_succeeds("ada@example.com", STRONG);
    let roster = ports.build();

    let account = roster
        .register_by_admin(
            &actor(true, Vec::new()),
            form("ada@example.com", STRONG, Some("Ada")),
            vec![],
        )
        .await
        .map(|(account, _)| account)
        .unwrap();

    assert!(!account.is_superadmin, "admins create ordinary accounts");
    assert_eq!(account.status, AccountStatus::Active);
    assert_eq!(recorded(&inserted)[0].0, account);
}

#[tokio::test]
async fn register_by_admin_accepts_a_grant_allowing_account_create_on_root() {
    for allowed in ["account-create", "account-*", "all"] {
        let mut ports = Ports::new();
        ports.registration(false);
        let inserted = ports.creation_succeeds("ada@example.com", STRONG);
        let roster = ports.build();
        let admin = actor(
            false,
            vec![grant(1, "*", vec![Permission::allow(pattern(allowed))])],
        );

        let result = roster
            .register_by_admin(&admin, form("ada@example.com", STRONG, None), vec![])
            .await
            .map(|(account, _)| account);

        let account = result.unwrap_or_else(|e| panic!("{allowed}: {e:?}"));
        assert!(!account.is_superadmin);
        assert_eq!(recorded(&inserted).len(), 1, "{allowed}");
    }
}

#[tokio::test]
async fn register_by_admin_refuses_a_grant_below_root() {
    // Accounts are global: a grant on an organisation does not reach them.
    for scope in ["acme", "acme.*", "acme.berlin"] {
        let mut ports = Ports::new();
        ports.forbid_account_creation();
        let roster = ports.build();
        let admin = actor(
            false,
            vec![grant(1, scope, vec![Permission::allow(ActionPattern::All)])],
        );

        let result = roster
            .register_by_admin(&admin, form("ada@example.com", STRONG, None), vec![])
            .await
            .map(|(account, _)| account);

        assert!(
            matches!(result, Err(AppError::Forbidden)),
            "{scope}: {result:?}"
        );
    }
}

#[tokio::test]
async fn register_by_admin_refuses_other_actions_on_root() {
    let mut ports = Ports::new();
    ports.forbid_account_creation();
    let roster = ports.build();
    let reader = actor(
        false,
        vec![grant(
            1,
            "*",
            vec![
                Permission::allow(pattern("account-read")),
                Permission::allow(pattern("account-creator")),
                Permission::allow(pattern("role-*")),
            ],
        )],
    );

    let result = roster
        .register_by_admin(&reader, form("ada@example.com", STRONG, None), vec![])
        .await
        .map(|(account, _)| account);

    assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
}

#[tokio::test]
async fn register_by_admin_deny_wins_over_allow() {
    let deny_in_another_grant = vec![
        grant(1, "*", vec![Permission::allow(ActionPattern::All)]),
        grant(2, "*", vec![Permission::deny(pattern("account-create"))]),
    ];
    let deny_in_the_same_role = vec![grant(
        1,
        "*",
        vec![
            Permission::allow(pattern("account-create")),
            Permission::deny(pattern("account-*")),
        ],
    )];
    let deny_listed_first = vec![
        grant(1, "*", vec![Permission::deny(ActionPattern::All)]),
        grant(2, "*", vec![Permission::allow(pattern("account-create"))]),
    ];
    for grants in [
        deny_in_another_grant,
        deny_in_the_same_role,
        deny_listed_first,
    ] {
        let mut ports = Ports::new();
        ports.forbid_account_creation();
        let roster = ports.build();

        let result = roster
            .register_by_admin(
                &actor(false, grants.clone()),
                form("ada@example.com", STRONG, None),
                vec![],
            )
            .await
            .map(|(account, _)| account);

        assert!(
            matches!(result, Err(AppError::Forbidden)),
            "{grants:?}: {result:?}"
        );
    }
}

#[tokio::test]
async fn register_by_admin_still_validates_the_form() {
    let mut ports = Ports::new();
    ports.forbid_account_creation();
    let roster = ports.build();

    let errors = field_errors(
        roster
            .register_by_admin(&actor(true, Vec::new()), form("x", "short", None), vec![])
            .await
            .map(|(account, _)| account),
    );

    assert_eq!(
        fields_and_codes(&errors),
        [
            ("email", "invalid_email"),
            ("password", "password_too_short")
        ]
    );
}

#[tokio::test]
async fn register_by_admin_refuses_a_taken_email() {
    let existing = account("ada@example.com", AccountStatus::Disabled, false);
    let mut ports = Ports::new();
    ports.stored_account(&existing);
    ports.hasher.expect_hash().never();
    ports.accounts.expect_insert().never();
    let roster = ports.build();

    let result = roster
        .register_by_admin(
            &actor(true, Vec::new()),
            form("ADA@example.com", STRONG, None),
            vec![],
        )
        .await
        .map(|(account, _)| account);

    assert!(matches!(result, Err(AppError::EmailTaken)), "{result:?}");
}

// ---------------------------------------------------------------------------------------------
// create_superadmin / superadmin_exists
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_superadmin_creates_an_active_super_admin() {
    let mut ports = Ports::new();
    ports.features.expect_is_enabled().never();
    let inserted = ports.creation_succeeds("root@example.com", STRONG);
    let roster = ports.build();

    let account = roster
        .create_superadmin(form("root@example.com", STRONG, Some("Root")))
        .await
        .unwrap();

    assert!(account.is_superadmin);
    assert_eq!(account.status, AccountStatus::Active);
    assert_eq!(account.email.as_str(), "root@example.com");
    assert_eq!(account.name.as_ref().map(DisplayName::as_str), Some("Root"));
    assert_eq!((account.created_at, account.updated_at), (now(), now()));
    let inserted = recorded(&inserted);
    assert!(inserted[0].0.is_superadmin, "stored as super admin");
    assert_eq!(inserted[0].1.as_str(), HASH);
}

#[tokio::test]
async fn create_superadmin_applies_the_password_policy() {
    let mut ports = Ports::new();
    ports.forbid_account_creation();
    ports.features.expect_is_enabled().never();
    let roster = ports.build();

    let short = field_errors(
        roster
            .create_superadmin(form("root@example.com", "toor", None))
            .await,
    );
    let weak = field_errors(
        roster
            .create_superadmin(form("root@example.com", "passwordpassword", None))
            .await,
    );
    let personal = field_errors(
        roster
            .create_superadmin(form(
                "quixotic@example.com",
                "Quixotic.QUIXOTIC.2024!",
                None,
            ))
            .await,
    );

    assert_eq!(
        fields_and_codes(&short),
        [("password", "password_too_short")]
    );
    assert_eq!(fields_and_codes(&weak), [("password", "weak_password")]);
    assert_eq!(fields_and_codes(&personal), [("password", "weak_password")]);
}

#[tokio::test]
async fn create_superadmin_refuses_a_taken_email() {
    let existing = account("root@example.com", AccountStatus::Active, true);
    let mut ports = Ports::new();
    ports.stored_account(&existing);
    ports.hasher.expect_hash().never();
    ports.accounts.expect_insert().never();
    let roster = ports.build();

    let result = roster
        .create_superadmin(form("root@example.com", STRONG, None))
        .await;

    assert!(matches!(result, Err(AppError::EmailTaken)), "{result:?}");
}

#[tokio::test]
async fn superadmin_exists_asks_the_repository() {
    for (answer, expected) in [
        (Ok(true), Some(true)),
        (Ok(false), Some(false)),
        (Err(()), None),
    ] {
        let mut ports = Ports::new();
        ports
            .accounts
            .expect_superadmin_exists()
            .times(1)
            .returning(move || answer.map_err(|()| StoreError::Unavailable("down".to_owned())));
        let roster = ports.build();

        let result = roster.superadmin_exists().await;

        match expected {
            Some(value) => assert_eq!(result.unwrap(), value),
            None => assert!(
                matches!(result, Err(AppError::Unavailable(_))),
                "{result:?}"
            ),
        }
    }
}

mod strength_pool_tests {
    //! Registration asks the strength port (the bounded pool) for the estimate, after the
    //! cheap length check.

    use mockall::predicate::eq;

    use super::super::*;
    use crate::model::HashError;
    use crate::ports::MockPasswordStrength;
    use crate::usecases::test_support::{Ports, field_errors, fields_and_codes};

    fn form(password: &str) -> RegistrationForm {
        RegistrationForm::new(
            "ada@example.com".to_owned(),
            SecretString::from(password),
            Some("Ada Lovelace".to_owned()),
        )
    }

    fn ports(strength: MockPasswordStrength) -> Ports {
        let mut ports = Ports::new();
        ports
            .features
            .expect_is_enabled()
            .with(eq(Feature::AccountRegistration))
            .return_const(true);
        ports.strength = strength;
        ports.accounts.expect_find_by_email().never();
        ports.accounts.expect_insert().never();
        ports.hasher.expect_hash().never();
        ports
    }

    #[tokio::test]
    async fn a_full_strength_pool_is_overloaded_before_any_write() {
        let mut strength = MockPasswordStrength::new();
        strength
            .expect_weakness()
            .withf(|password, inputs| {
                password.expose() == "quartz-lantern-fjord-obelisk-9"
                    && *inputs == ["ada@example.com", "ada", "Ada Lovelace"]
            })
            .times(1)
            .returning(|_, _| {
                Err(HashError::Overloaded {
                    retry_after_secs: 1,
                })
            });
        let result = ports(strength)
            .build()
            .register_self(form("quartz-lantern-fjord-obelisk-9"), None)
            .await;
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
    async fn the_estimate_is_the_ports_answer_and_length_problems_skip_it() {
        let mut strength = MockPasswordStrength::new();
        strength.expect_weakness().times(1).returning(|_, _| {
            Ok(Some(PasswordProblem::Weak {
                hint: "Checked on the pool.".to_owned(),
            }))
        });
        let roster = ports(strength).build();
        let errors = field_errors(
            roster
                .register_self(form("quartz-lantern-fjord-obelisk-9"), None)
                .await,
        );
        assert_eq!(fields_and_codes(&errors), [("password", "weak_password")]);
        assert_eq!(
            errors[0].message,
            "password is too easy to guess. Checked on the pool."
        );
        // Too short: refused without a second estimate (`times(1)` above).
        let errors = field_errors(roster.register_self(form("short"), None).await);
        assert_eq!(
            fields_and_codes(&errors),
            [("password", "password_too_short")]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// registration policy: allowed domains and email verification
// ---------------------------------------------------------------------------------------------

fn policy(domains: &[&str], verification: EmailVerification, safe: bool) -> RosterSettings {
    RosterSettings {
        registration: RegistrationPolicy {
            allowed_domains: AllowedDomains::parse(domains.iter().copied()).unwrap(),
            email_verification: verification,
            enumeration_safe: safe,
        },
        ..RosterSettings::default()
    }
}

#[tokio::test]
async fn register_self_refuses_a_disallowed_domain_before_any_password_work() {
    let mut ports = Ports::new();
    ports.registration(true).forbid_account_creation();
    // Not even the strength estimate runs.
    ports.strength = crate::ports::MockPasswordStrength::new();
    ports.strength.expect_weakness().never();
    let roster = ports.build_with(policy(
        &["example.org", "*.example.com"],
        EmailVerification::Off,
        false,
    ));

    for email in [
        "ada@example.net",
        "ada@example.com",
        "ada@example.org.evil.test",
    ] {
        let result = roster
            .register_self(form(email, "short", Some("Ada")), None)
            .await;
        assert!(
            matches!(result, Err(AppError::DomainNotAllowed)),
            "{email}: {result:?}"
        );
    }
    // An email that does not parse is a validation error, as without the policy.
    let errors = field_errors(
        roster
            .register_self(form("nope", "short", None), None)
            .await,
    );
    assert_eq!(
        fields_and_codes(&errors),
        [
            ("email", "invalid_email"),
            ("password", "password_too_short")
        ]
    );
}

#[tokio::test]
async fn register_self_at_an_allowed_domain_creates_a_verified_account_by_default() {
    let mut ports = Ports::new();
    ports.registration(true);
    let inserted = ports.creation_succeeds("ada@eu.example.com", STRONG);
    let roster = ports.build_with(policy(&["*.example.com"], EmailVerification::Off, false));

    let account = roster
        .register_self(form("Ada@EU.Example.com", STRONG, None), None)
        .await
        .unwrap()
        .into_account()
        .expect("created");

    assert!(account.email_verified);
    assert!(recorded(&inserted)[0].0.email_verified);
}

// Under verification (required or implied): see `verify_email/tests.rs`.

#[tokio::test]
async fn accounts_made_by_an_admin_or_the_bootstrap_are_verified_and_exempt_from_the_domains() {
    let settings = policy(&["example.org"], EmailVerification::Required, true);
    let mut ports = Ports::new();
    let inserted = ports.creation_succeeds("root@elsewhere.test", STRONG);
    let roster = ports.build_with(settings.clone());
    let root = roster
        .create_superadmin(form("root@elsewhere.test", STRONG, None))
        .await
        .unwrap();
    assert!(root.email_verified);
    assert!(recorded(&inserted)[0].0.email_verified);

    let mut ports = Ports::new();
    let inserted = ports.creation_succeeds("grace@elsewhere.test", STRONG);
    let roster = ports.build_with(settings);
    let (grace, _) = roster
        .register_by_admin(
            &actor(true, Vec::new()),
            form("grace@elsewhere.test", STRONG, None),
            Vec::new(),
        )
        .await
        .unwrap();
    assert!(grace.email_verified);
    assert!(recorded(&inserted)[0].0.email_verified);
}
