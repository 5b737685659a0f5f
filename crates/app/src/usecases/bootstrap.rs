//! The start-up bootstrap of the first super admin (`bootstrap.superadmin_email` and
//! `bootstrap.superadmin_password` in settings).
//!
//! A use case rather than server code so that its rules are proven with mock ports: it runs
//! at every start of every node, so it must be idempotent, and nodes starting together must
//! agree on one super admin without failing.

use roster_domain::Account;
use tracing::instrument;

use super::{RegistrationForm, Roster};
use crate::error::AppError;

/// What the bootstrap did.
#[derive(Debug)]
pub enum BootstrapOutcome {
    /// This call created the super admin.
    Created(Account),
    /// A super admin exists already (from an earlier start, the CLI, or a node that won the
    /// race): nothing was done.
    AlreadyExists,
}

impl Roster {
    /// Creates the configured super admin unless a super admin exists. Idempotent across
    /// restarts; nodes starting together race on the unique email, and the losers see the
    /// winner's super admin as [`BootstrapOutcome::AlreadyExists`].
    ///
    /// # Errors
    /// `EmailTaken` when an ordinary account (not a super admin) already uses the email;
    /// `Validation`, `Overloaded`, `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn bootstrap_superadmin(
        &self,
        form: RegistrationForm,
    ) -> Result<BootstrapOutcome, AppError> {
        if self.superadmin_exists().await? {
            return Ok(BootstrapOutcome::AlreadyExists);
        }
        match self.create_superadmin(form).await {
            Ok(account) => Ok(BootstrapOutcome::Created(account)),
            // Another node created it between the check above and the insert.
            Err(AppError::EmailTaken) if self.superadmin_exists().await? => {
                Ok(BootstrapOutcome::AlreadyExists)
            }
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The bootstrap against mock ports. Self-contained apart from the shared harness
    //! ([`Ports`]) and its fixtures.

    use std::sync::{Arc, Mutex};

    use mockall::Sequence;
    use roster_domain::{AccountStatus, PlainPassword};
    use secrecy::SecretString;

    use super::*;
    use crate::model::{AuditAction, AuditEvent};
    use crate::model::{PasswordHash, StoreError, StoredAccount};
    use crate::usecases::test_support::{
        HASH, Ports, account, field_errors, fields_and_codes, now,
    };

    const EMAIL: &str = "boot@example.com";
    /// Passes the default policy.
    const PASSWORD: &str = "quartz-lantern-fjord-obelisk-9";

    fn form(password: &str) -> RegistrationForm {
        RegistrationForm::new(EMAIL.to_owned(), SecretString::from(password), None)
    }

    /// `superadmin_exists` answers these values, in this order, once each.
    fn superadmin_exists_answers(ports: &mut Ports, answers: &[bool]) {
        let mut order = Sequence::new();
        for &answer in answers {
            ports
                .accounts
                .expect_superadmin_exists()
                .times(1)
                .in_sequence(&mut order)
                .returning(move || Ok(answer));
        }
    }

    /// Nothing may be written or hashed.
    fn forbid_creation(ports: &mut Ports) {
        ports.accounts.expect_find_by_email().never();
        ports.accounts.expect_insert().never();
        ports.hasher.expect_hash().never();
    }

    /// The email is free at the early check and the password is hashed once.
    fn creation_reaches_insert(ports: &mut Ports) {
        ports.clock.expect_now().return_const(now());
        ports
            .accounts
            .expect_find_by_email()
            .withf(|canonical: &str| canonical == EMAIL)
            .times(1)
            .returning(|_| Ok(None));
        ports
            .hasher
            .expect_hash()
            .withf(|plain: &PlainPassword| plain.expose() == PASSWORD)
            .times(1)
            .returning(|_| Ok(PasswordHash::new(HASH)));
    }

    #[tokio::test]
    async fn creates_a_super_admin_when_there_is_none() {
        let mut ports = Ports::new();
        superadmin_exists_answers(&mut ports, &[false]);
        creation_reaches_insert(&mut ports);
        let inserted: Arc<Mutex<Vec<(Account, AuditEvent)>>> = Arc::default();
        let sink = Arc::clone(&inserted);
        ports
            .accounts
            .expect_insert()
            .times(1)
            .returning(move |account, _, grants, audit| {
                assert!(grants.is_empty(), "a bootstrap grants nothing");
                sink.lock().unwrap().push((account.clone(), audit.clone()));
                Ok(())
            });
        let outcome = ports.build().bootstrap_superadmin(form(PASSWORD)).await;

        let Ok(BootstrapOutcome::Created(created)) = outcome else {
            panic!("expected Created, got {outcome:?}");
        };
        let inserted = inserted.lock().unwrap();
        let [(account, audit)] = inserted.as_slice() else {
            panic!("expected one insert, got {}", inserted.len());
        };
        assert_eq!(account.id, created.id);
        assert!(account.is_superadmin);
        assert_eq!(account.status, AccountStatus::Active);
        assert_eq!(account.email.as_str(), EMAIL);
        assert_eq!(audit.action, AuditAction::SuperadminCreated);
        assert_eq!(audit.target, Some(format!("account:{}", created.id)));
    }

    #[tokio::test]
    async fn does_nothing_when_a_super_admin_exists() {
        let mut ports = Ports::new();
        superadmin_exists_answers(&mut ports, &[true]);
        forbid_creation(&mut ports);
        let outcome = ports.build().bootstrap_superadmin(form(PASSWORD)).await;
        assert!(
            matches!(outcome, Ok(BootstrapOutcome::AlreadyExists)),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn a_node_that_loses_the_race_on_the_email_sees_the_winners_super_admin() {
        let mut ports = Ports::new();
        superadmin_exists_answers(&mut ports, &[false, true]);
        creation_reaches_insert(&mut ports);
        ports
            .accounts
            .expect_insert()
            .times(1)
            .returning(|_, _, _, _| Err(StoreError::Duplicate(crate::model::Conflict::Email)));
        let outcome = ports.build().bootstrap_superadmin(form(PASSWORD)).await;
        assert!(
            matches!(outcome, Ok(BootstrapOutcome::AlreadyExists)),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn an_ordinary_account_holding_the_email_is_an_error() {
        let mut ports = Ports::new();
        superadmin_exists_answers(&mut ports, &[false, false]);
        ports.hasher.expect_hash().never();
        ports.accounts.expect_insert().never();
        let ordinary = account(EMAIL, AccountStatus::Active, false);
        ports
            .accounts
            .expect_find_by_email()
            .times(1)
            .returning(move |_| {
                Ok(Some(StoredAccount {
                    account: ordinary.clone(),
                    password_hash: PasswordHash::new(HASH),
                }))
            });
        let outcome = ports.build().bootstrap_superadmin(form(PASSWORD)).await;
        assert!(matches!(outcome, Err(AppError::EmailTaken)), "{outcome:?}");
    }

    #[tokio::test]
    async fn an_invalid_password_is_refused_before_any_write() {
        let mut ports = Ports::new();
        superadmin_exists_answers(&mut ports, &[false]);
        forbid_creation(&mut ports);
        let errors = field_errors(ports.build().bootstrap_superadmin(form("short")).await);
        assert_eq!(
            fields_and_codes(&errors),
            [("password", "password_too_short")]
        );
    }

    #[tokio::test]
    async fn an_unreachable_database_is_an_error_not_a_bootstrap() {
        let mut ports = Ports::new();
        ports
            .accounts
            .expect_superadmin_exists()
            .times(1)
            .returning(|| Err(StoreError::Unavailable("connection refused".into())));
        forbid_creation(&mut ports);
        let outcome = ports.build().bootstrap_superadmin(form(PASSWORD)).await;
        assert!(
            matches!(outcome, Err(AppError::Unavailable(_))),
            "{outcome:?}"
        );
    }
}
