//! Use-case tests with mock ports.
//!
//! Each test starts from [`Ports::new`], whose mocks carry no expectations, so any port call a
//! test did not ask for panics ("No matching expectation found"). Tests add the expectations
//! they need (through the small helpers on [`Ports`] or directly on its fields), spell out the
//! calls that must not happen with `.never()`, and then [`Ports::build`] a [`Roster`].
//! `times(..)` counts are checked when the roster, and with it every mock, is dropped.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};
use mockall::predicate::eq;
use roster_domain::{
    Account, AccountId, AccountStatus, ActionPattern, ApiKeyId, DisplayName, Email, Grant, GrantId,
    PasswordPolicy, Permission, PlainPassword, Principal, PrincipalId, RoleName, ScopePath,
};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::{
    Authenticated, LoginThrottlePolicy, RegistrationForm, Roster, RosterPorts, RosterSettings,
    SessionSettings,
};
use crate::audit::{AuditAction, AuditEvent};
use crate::error::{AppError, FieldError};
use crate::features::{Feature, MockFeatureManager};
use crate::ports::{
    ApiKey, HashError, IssuedToken, MockAccountRepository, MockApiKeyStore, MockAuditLog,
    MockClock, MockGrantStore, MockLoginThrottle, MockPasswordHasher, MockPasswordStrength,
    MockRoleStore, MockSessionStore, MockTokenSource, NewSession, PasswordHash, SessionId,
    SessionRecord, StoreError, StoredAccount, StoredApiKey, ThrottleState, TokenDigest,
};

/// Passes the default policy (15..=128 characters, zxcvbn score >= 3).
const STRONG: &str = "correct horse battery staple orbit";
/// What the fake hasher returns and the fake repository stores.
pub(super) const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$ZmFrZWhhc2g";
/// A bearer token as the client presents it.
const TOKEN: &str = "rst_3q2+7w==fake-session-token-with-enough-length";
/// The digest the token source derives from [`TOKEN`].
const DIGEST: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// The clock's "now" in every test.
pub(super) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 14, 15, 9, 26).unwrap()
}

/// Calls a mock recorded, for assertions after the use case returned.
type Calls<T> = Arc<Mutex<Vec<T>>>;

fn recorded<T: Clone>(calls: &Calls<T>) -> Vec<T> {
    calls.lock().unwrap().clone()
}

/// The ports as bare mocks, before they are frozen into a [`Roster`].
pub(super) struct Ports {
    pub(super) accounts: MockAccountRepository,
    pub(super) sessions: MockSessionStore,
    pub(super) api_keys: MockApiKeyStore,
    pub(super) login_throttle: MockLoginThrottle,
    pub(super) roles: MockRoleStore,
    pub(super) grants: MockGrantStore,
    pub(super) audit: MockAuditLog,
    pub(super) hasher: MockPasswordHasher,
    pub(super) strength: MockPasswordStrength,
    pub(super) features: MockFeatureManager,
    pub(super) clock: MockClock,
    pub(super) tokens: MockTokenSource,
}

impl Ports {
    pub(super) fn new() -> Self {
        Self {
            accounts: MockAccountRepository::new(),
            sessions: MockSessionStore::new(),
            api_keys: MockApiKeyStore::new(),
            login_throttle: MockLoginThrottle::new(),
            roles: MockRoleStore::new(),
            grants: MockGrantStore::new(),
            audit: MockAuditLog::new(),
            hasher: MockPasswordHasher::new(),
            strength: inline_strength(),
            features: MockFeatureManager::new(),
            clock: MockClock::new(),
            tokens: MockTokenSource::new(),
        }
    }

    pub(super) fn build(self) -> Roster {
        Roster::new(
            RosterPorts {
                accounts: Arc::new(self.accounts),
                sessions: Arc::new(self.sessions),
                api_keys: Arc::new(self.api_keys),
                login_throttle: Arc::new(self.login_throttle),
                roles: Arc::new(self.roles),
                grants: Arc::new(self.grants),
                audit: Arc::new(self.audit),
                hasher: Arc::new(self.hasher),
                strength: Arc::new(self.strength),
                features: Arc::new(self.features),
                clock: Arc::new(self.clock),
                tokens: Arc::new(self.tokens),
            },
            RosterSettings::default(),
        )
    }

    /// The `account-registration` flag, asked as often as the use case likes.
    fn registration(&mut self, enabled: bool) -> &mut Self {
        self.features
            .expect_is_enabled()
            .with(eq(Feature::AccountRegistration))
            .return_const(enabled);
        self
    }

    fn clock_at(&mut self, at: DateTime<Utc>) -> &mut Self {
        self.clock.expect_now().return_const(at);
        self
    }

    /// No port may be called: for paths that must refuse before doing any work.
    fn forbid_account_creation(&mut self) -> &mut Self {
        self.accounts.expect_find_by_email().never();
        self.accounts.expect_insert().never();
        self.hasher.expect_hash().never();
        self.hasher.expect_verify().never();
        self.clock.expect_now().never();
        self
    }

    /// The early duplicate check finds nothing, exactly once, for this canonical email.
    fn email_free(&mut self, canonical: &str) -> &mut Self {
        self.accounts
            .expect_find_by_email()
            .with(eq(canonical.to_owned()))
            .times(1)
            .returning(|_| Ok(None));
        self
    }

    /// The hasher is asked exactly once, for exactly this (normalized) password.
    fn hash_ok(&mut self, password: &'static str) -> &mut Self {
        self.hasher
            .expect_hash()
            .withf(move |plain: &PlainPassword| plain.expose() == password)
            .times(1)
            .returning(|_| Ok(PasswordHash::new(HASH)));
        self
    }

    /// Exactly one insert, which succeeds; returns what was inserted.
    fn insert_ok(&mut self) -> Calls<(Account, PasswordHash)> {
        let calls: Calls<(Account, PasswordHash)> = Calls::default();
        let sink = Arc::clone(&calls);
        self.accounts
            .expect_insert()
            .times(1)
            .returning(move |account, hash, _, _| {
                sink.lock().unwrap().push((account.clone(), hash.clone()));
                Ok(())
            });
        calls
    }

    /// Everything a successful account creation needs, for a valid form with this email.
    fn creation_succeeds(
        &mut self,
        canonical: &str,
        password: &'static str,
    ) -> Calls<(Account, PasswordHash)> {
        self.clock_at(now()).email_free(canonical).hash_ok(password);
        self.insert_ok()
    }

    /// `find_by_email` returns this account with [`HASH`], exactly once.
    fn stored_account(&mut self, account: &Account) -> &mut Self {
        let stored = StoredAccount {
            account: account.clone(),
            password_hash: PasswordHash::new(HASH),
        };
        self.accounts
            .expect_find_by_email()
            .with(eq(account.email.canonical().to_owned()))
            .times(1)
            .returning(move |_| Ok(Some(stored.clone())));
        self
    }

    /// Exactly one verify, with this password against this stored hash, answering `answer`.
    fn verify(
        &mut self,
        password: &'static str,
        stored: Option<&'static str>,
        answer: Result<bool, HashError>,
    ) -> &mut Self {
        self.hasher
            .expect_verify()
            .withf(move |plain: &PlainPassword, hash: &Option<PasswordHash>| {
                plain.expose() == password && hash.as_ref().map(PasswordHash::as_str) == stored
            })
            .times(1)
            .returning(move |_, _| answer.clone());
        self
    }

    /// No failures are recorded for the email (asked once); a failure may be recorded.
    fn unthrottled(&mut self) -> &mut Self {
        self.login_throttle
            .expect_state()
            .times(1)
            .returning(|_| Ok(None));
        self.login_throttle
            .expect_record_failure()
            .returning(|_, _, _, _| {
                Ok(ThrottleState {
                    failures: 1,
                    locked_until: None,
                })
            });
        self.login_throttle.expect_clear().never();
        self.clock.expect_now().return_const(now());
        self
    }

    /// A failed login must neither issue a token nor open a session.
    fn forbid_session(&mut self) -> &mut Self {
        self.tokens.expect_new_session_token().never();
        self.sessions.expect_create().never();
        self
    }

    /// [`TOKEN`] has the right shape, digests to [`DIGEST`], and that digest finds `record`.
    fn presented_session(&mut self, record: Option<SessionRecord>) -> &mut Self {
        self.tokens
            .expect_looks_like_session_token()
            .withf(|token: &str| token == TOKEN)
            .return_const(true);
        self.tokens
            .expect_digest()
            .withf(|token: &str| token == TOKEN)
            .times(1)
            .returning(|_| TokenDigest::new(DIGEST));
        self.sessions
            .expect_find_by_digest()
            .with(eq(TokenDigest::new(DIGEST)))
            .times(1)
            .returning(move |_| Ok(record.clone()));
        self
    }

    /// A refused token: no activity is recorded and no grants are loaded.
    fn forbid_session_use(&mut self) -> &mut Self {
        self.sessions.expect_touch().never();
        self.accounts.expect_grants_of().never();
        self
    }
}

/// The strength port running the domain's estimate inline (the adapter runs the same on its
/// pool), as often as asked. Tests about the pool itself replace it.
fn inline_strength() -> MockPasswordStrength {
    let mut strength = MockPasswordStrength::new();
    strength.expect_weakness().returning(|password, inputs| {
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        Ok(password.weakness(&inputs, roster_domain::STRENGTH_BUDGET))
    });
    strength
}

fn form(email: &str, password: &str, name: Option<&str>) -> RegistrationForm {
    RegistrationForm {
        email: email.to_owned(),
        password: SecretString::from(password),
        name: name.map(str::to_owned),
    }
}

fn secret(password: &str) -> SecretString {
    SecretString::from(password)
}

/// An existing account, created a month before [`now`].
pub(super) fn account(email: &str, status: AccountStatus, is_superadmin: bool) -> Account {
    let created = now() - Duration::days(30);
    Account {
        id: AccountId::new(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001)),
        email: Email::parse(email).unwrap(),
        name: Some(DisplayName::parse("Ada Lovelace").unwrap()),
        status,
        is_superadmin,
        created_at: created,
        updated_at: created,
    }
}

pub(super) fn session_id() -> SessionId {
    SessionId::new(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0042))
}

/// A live session of `account` (opened 50 minutes ago, 11 hours left), last seen at `last_seen`.
fn session(account: Account, last_seen: DateTime<Utc>) -> SessionRecord {
    SessionRecord {
        id: session_id(),
        account,
        created_at: now() - Duration::minutes(50),
        last_seen_at: last_seen,
        expires_at: now() + Duration::hours(11),
        revoked: false,
        grants: Arc::from([]),
    }
}

fn grant(n: u128, scope: &str, permissions: Vec<Permission>) -> Grant {
    Grant {
        id: GrantId::new(Uuid::from_u128(n)),
        role: RoleName::parse("account-admin").unwrap(),
        scope: ScopePath::parse(scope).unwrap(),
        permissions,
    }
}

fn pattern(text: &str) -> ActionPattern {
    ActionPattern::parse(text).unwrap()
}

fn actor(is_superadmin: bool, grants: Vec<Grant>) -> Authenticated {
    Authenticated {
        principal: Principal {
            id: PrincipalId::Account(AccountId::new(Uuid::from_u128(0xad))),
            is_superadmin,
            grants: grants.into(),
        },
        account: None,
        session_id: None,
        api_key: None,
        source_ip: None,
    }
}

/// The field errors of a validation error, in order; panics on any other outcome.
pub(super) fn field_errors<T: Debug>(result: Result<T, AppError>) -> Vec<FieldError> {
    match result {
        Err(AppError::Validation(errors)) => errors,
        other => panic!("expected AppError::Validation, got {other:?}"),
    }
}

pub(super) fn fields_and_codes(errors: &[FieldError]) -> Vec<(&str, &str)> {
    errors.iter().map(|e| (e.field.as_str(), e.code)).collect()
}

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
        .returning(|_, _, _, _| Err(StoreError::Duplicate("email")));
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
        .unwrap();

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
        .unwrap();

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

// ---------------------------------------------------------------------------------------------
// login
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn login_with_an_unknown_email_verifies_against_the_dummy_hash() {
    let mut ports = Ports::new();
    ports.unthrottled();
    ports
        .accounts
        .expect_find_by_email()
        .with(eq("nobody@example.com".to_owned()))
        .times(1)
        .returning(|_| Ok(None));
    ports.verify(STRONG, None, Ok(false)).forbid_session();
    let roster = ports.build();

    let result = roster
        .login(" Nobody@Example.com ", &secret(STRONG), None)
        .await;

    assert!(
        matches!(result, Err(AppError::InvalidCredentials)),
        "{result:?}"
    );
}

#[tokio::test]
async fn login_with_a_malformed_email_still_costs_one_verify() {
    for email in ["not-an-email", "", "Ada <ada@example.com>"] {
        let mut ports = Ports::new();
        ports.accounts.expect_find_by_email().never();
        ports.login_throttle.expect_state().never();
        // Even a hasher that (wrongly) accepted the dummy would not open a session.
        ports.verify(STRONG, None, Ok(true)).forbid_session();
        let roster = ports.build();

        let result = roster.login(email, &secret(STRONG), None).await;

        assert!(
            matches!(result, Err(AppError::InvalidCredentials)),
            "{email:?}: {result:?}"
        );
    }
}

#[tokio::test]
async fn login_with_a_wrong_password_opens_no_session() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let mut ports = Ports::new();
    ports
        .unthrottled()
        .stored_account(&ada)
        .verify("wrong horse battery staple", Some(HASH), Ok(false))
        .forbid_session();
    let roster = ports.build();

    let result = roster
        .login(
            "ada@example.com",
            &secret("wrong horse battery staple"),
            None,
        )
        .await;

    assert!(
        matches!(result, Err(AppError::InvalidCredentials)),
        "{result:?}"
    );
}

#[tokio::test]
async fn login_to_a_disabled_account_fails_like_a_wrong_password() {
    let ada = account("ada@example.com", AccountStatus::Disabled, false);
    let mut ports = Ports::new();
    // The hash is still checked, so timing does not tell a disabled account apart.
    ports
        .unthrottled()
        .stored_account(&ada)
        .verify(STRONG, Some(HASH), Ok(true))
        .forbid_session();
    let roster = ports.build();

    let result = roster.login("ada@example.com", &secret(STRONG), None).await;

    assert!(
        matches!(result, Err(AppError::InvalidCredentials)),
        "{result:?}"
    );
}

#[tokio::test]
async fn login_opens_a_session_and_returns_the_issued_token() {
    let ada = account("Ada@Example.com", AccountStatus::Active, false);
    let mut ports = Ports::new();
    ports
        .unthrottled()
        .stored_account(&ada)
        .verify(STRONG, Some(HASH), Ok(true))
        .clock_at(now());
    ports
        .tokens
        .expect_new_session_token()
        .times(1)
        .returning(|| IssuedToken {
            token: SecretString::from(TOKEN),
            digest: TokenDigest::new(DIGEST),
        });
    let created: Calls<NewSession> = Calls::default();
    let sink = Arc::clone(&created);
    ports
        .sessions
        .expect_create()
        .times(1)
        .returning(move |session, _| {
            sink.lock().unwrap().push(session.clone());
            Ok(())
        });
    let roster = ports.build();

    let success = roster
        .login("  ada@EXAMPLE.com ", &secret(STRONG), None)
        .await
        .unwrap();

    let created = recorded(&created);
    assert_eq!(created.len(), 1);
    let session = &created[0];
    assert_eq!(session.account_id, ada.id);
    assert_eq!(
        session.token_digest,
        TokenDigest::new(DIGEST),
        "only the digest is stored"
    );
    assert_eq!(session.created_at, now());
    assert_eq!(session.expires_at, now() + SessionSettings::default().ttl);
    assert_eq!(session.expires_at, now() + Duration::hours(12));

    assert_eq!(success.token.expose_secret(), TOKEN);
    assert_eq!(success.session_id, session.id);
    assert_eq!(success.expires_at, session.expires_at);
    assert_eq!(success.account, ada);
}

#[tokio::test]
async fn login_reports_an_overloaded_hasher() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let mut ports = Ports::new();
    ports
        .unthrottled()
        .stored_account(&ada)
        .verify(
            STRONG,
            Some(HASH),
            Err(HashError::Overloaded {
                retry_after_secs: 2,
            }),
        )
        .forbid_session();
    let roster = ports.build();

    let result = roster.login("ada@example.com", &secret(STRONG), None).await;

    assert!(
        matches!(
            result,
            Err(AppError::Overloaded {
                retry_after_secs: 2
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn login_reports_an_overloaded_hasher_for_unknown_emails_too() {
    let mut ports = Ports::new();
    ports
        .verify(
            STRONG,
            None,
            Err(HashError::Overloaded {
                retry_after_secs: 2,
            }),
        )
        .forbid_session();
    let roster = ports.build();

    let result = roster.login("not-an-email", &secret(STRONG), None).await;

    assert!(
        matches!(
            result,
            Err(AppError::Overloaded {
                retry_after_secs: 2
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn login_reports_an_unavailable_store() {
    let ada = account("ada@example.com", AccountStatus::Active, false);

    let mut ports = Ports::new();
    ports.unthrottled();
    ports
        .accounts
        .expect_find_by_email()
        .times(1)
        .returning(|_| Err(StoreError::Unavailable("down".to_owned())));
    ports.hasher.expect_verify().never();
    ports.forbid_session();
    let roster = ports.build();
    let result = roster.login("ada@example.com", &secret(STRONG), None).await;
    assert!(
        matches!(result, Err(AppError::Unavailable(_))),
        "lookup: {result:?}"
    );

    let mut ports = Ports::new();
    ports
        .unthrottled()
        .stored_account(&ada)
        .verify(STRONG, Some(HASH), Ok(true))
        .clock_at(now());
    ports
        .tokens
        .expect_new_session_token()
        .times(1)
        .returning(|| IssuedToken {
            token: SecretString::from(TOKEN),
            digest: TokenDigest::new(DIGEST),
        });
    ports
        .sessions
        .expect_create()
        .times(1)
        .returning(|_, _| Err(StoreError::Unavailable("down".to_owned())));
    let roster = ports.build();
    let result = roster.login("ada@example.com", &secret(STRONG), None).await;
    assert!(
        matches!(result, Err(AppError::Unavailable(_))),
        "session create: {result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// authenticate_bearer
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn authenticate_refuses_a_foreign_token_without_a_lookup() {
    let mut ports = Ports::new();
    ports
        .tokens
        .expect_looks_like_session_token()
        .times(1)
        .return_const(false);
    ports.tokens.expect_api_key_id().times(1).return_const(None);
    ports.tokens.expect_digest().never();
    ports.sessions.expect_find_by_digest().never();
    ports.api_keys.expect_find_api_key().never();
    ports.clock.expect_now().never();
    ports.forbid_session_use();
    let roster = ports.build();

    let result = roster
        .authenticate_bearer("eyJhbGciOiJIUzI1NiJ9.e30.sig", None)
        .await;

    assert!(
        matches!(result, Err(AppError::Unauthenticated)),
        "{result:?}"
    );
}

#[tokio::test]
async fn authenticate_refuses_an_unknown_digest() {
    let mut ports = Ports::new();
    ports.presented_session(None).forbid_session_use();
    let roster = ports.build();

    let result = roster.authenticate_bearer(TOKEN, None).await;

    assert!(
        matches!(result, Err(AppError::Unauthenticated)),
        "{result:?}"
    );
}

/// `record` (found by [`TOKEN`]) must be refused at [`now`] without touching or loading grants.
async fn assert_refused(record: SessionRecord, why: &str) {
    let mut ports = Ports::new();
    ports
        .presented_session(Some(record))
        .clock_at(now())
        .forbid_session_use();
    let roster = ports.build();

    let result = roster.authenticate_bearer(TOKEN, None).await;

    assert!(
        matches!(result, Err(AppError::Unauthenticated)),
        "{why}: {result:?}"
    );
}

#[tokio::test]
async fn authenticate_refuses_a_revoked_session() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let mut record = session(ada, now() - Duration::minutes(5));
    record.revoked = true;

    assert_refused(record, "revoked").await;
}

#[tokio::test]
async fn authenticate_refuses_an_expired_session() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    for expires_at in [
        now(),
        now() - Duration::microseconds(1),
        now() - Duration::days(3),
    ] {
        let mut record = session(ada.clone(), now() - Duration::minutes(5));
        record.expires_at = expires_at;
        assert_refused(record, &format!("expired at {expires_at}")).await;
    }
}

#[tokio::test]
async fn authenticate_refuses_an_idle_session() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let idle = SessionSettings::default().idle_timeout;
    for last_seen in [now() - idle, now() - idle - Duration::seconds(1)] {
        assert_refused(
            session(ada.clone(), last_seen),
            &format!("last seen {last_seen}"),
        )
        .await;
    }
}

#[tokio::test]
async fn authenticate_refuses_a_session_of_a_disabled_account() {
    for is_superadmin in [false, true] {
        let disabled = account("ada@example.com", AccountStatus::Disabled, is_superadmin);
        assert_refused(session(disabled, now() - Duration::minutes(5)), "disabled").await;
    }
}

#[tokio::test]
async fn authenticate_accepts_a_session_just_inside_its_limits() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let idle = SessionSettings::default().idle_timeout;
    let mut record = session(ada.clone(), now() - idle + Duration::microseconds(1));
    record.expires_at = now() + Duration::microseconds(1);

    let mut ports = Ports::new();
    ports.presented_session(Some(record)).clock_at(now());
    ports
        .sessions
        .expect_touch()
        .times(1)
        .returning(|_, _| Ok(()));
    let roster = ports.build();

    let result = roster.authenticate_bearer(TOKEN, None).await;

    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn authenticate_does_not_touch_a_fresh_session() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    for last_seen in [
        now(),
        now() - Duration::seconds(59),
        now() - Duration::milliseconds(59_999),
    ] {
        let mut ports = Ports::new();
        ports
            .presented_session(Some(session(ada.clone(), last_seen)))
            .clock_at(now());
        ports.sessions.expect_touch().never();
        let roster = ports.build();

        let result = roster.authenticate_bearer(TOKEN, None).await;

        assert!(result.is_ok(), "last seen {last_seen}: {result:?}");
    }
}

#[tokio::test]
async fn authenticate_touches_a_stale_session_once() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    for last_seen in [now() - Duration::seconds(60), now() - Duration::minutes(30)] {
        let mut ports = Ports::new();
        ports
            .presented_session(Some(session(ada.clone(), last_seen)))
            .clock_at(now());
        ports
            .sessions
            .expect_touch()
            .with(eq(session_id()), eq(now()))
            .times(1)
            .returning(|_, _| Ok(()));
        let roster = ports.build();

        let result = roster.authenticate_bearer(TOKEN, None).await;

        assert!(result.is_ok(), "last seen {last_seen}: {result:?}");
    }
}

#[tokio::test]
async fn authenticate_builds_the_principal_from_the_account_and_its_grants() {
    let grants = vec![
        grant(7, "acme", vec![Permission::allow(pattern("issuer-*"))]),
        grant(8, "*", vec![Permission::allow(pattern("audit-read"))]),
    ];
    for is_superadmin in [false, true] {
        let ada = account("ada@example.com", AccountStatus::Active, is_superadmin);
        let mut ports = Ports::new();
        let record = SessionRecord {
            grants: grants.clone().into(),
            ..session(ada.clone(), now() - Duration::seconds(10))
        };
        ports.presented_session(Some(record)).clock_at(now());
        // The grants come with the session, in the same database call.
        ports.accounts.expect_grants_of().never();
        ports.sessions.expect_touch().never();
        let roster = ports.build();

        let authenticated = roster.authenticate_bearer(TOKEN, None).await.unwrap();

        assert_eq!(
            authenticated.principal,
            Principal {
                id: PrincipalId::Account(ada.id),
                is_superadmin,
                grants: grants.clone().into()
            }
        );
        assert_eq!(authenticated.account.as_ref(), Some(&ada));
        assert_eq!(authenticated.session_id, Some(session_id()));
        assert_eq!(
            authenticated.principal_label(),
            format!("account:{}", ada.id)
        );
    }
}

#[tokio::test]
async fn authenticate_reports_an_unavailable_store() {
    let mut ports = Ports::new();
    ports
        .tokens
        .expect_looks_like_session_token()
        .return_const(true);
    ports
        .tokens
        .expect_digest()
        .returning(|_| TokenDigest::new(DIGEST));
    ports
        .sessions
        .expect_find_by_digest()
        .times(1)
        .returning(|_| Err(StoreError::Unavailable("down".to_owned())));
    ports.forbid_session_use();
    let roster = ports.build();

    let result = roster.authenticate_bearer(TOKEN, None).await;

    assert!(
        matches!(result, Err(AppError::Unavailable(_))),
        "{result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// login throttling
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn login_refuses_a_throttled_email_before_any_lookup_or_hashing() {
    let mut ports = Ports::new();
    ports
        .login_throttle
        .expect_state()
        .with(eq("ada@example.com".to_owned()))
        .times(1)
        .returning(|_| {
            Ok(Some(ThrottleState {
                failures: 5,
                locked_until: Some(now() + Duration::seconds(42)),
            }))
        });
    ports.clock_at(now());
    ports.accounts.expect_find_by_email().never();
    ports.hasher.expect_verify().never();
    ports.login_throttle.expect_record_failure().never();
    ports.forbid_session();
    let roster = ports.build();

    let result = roster.login("Ada@Example.com", &secret(STRONG), None).await;

    assert!(
        matches!(
            result,
            Err(AppError::TooManyAttempts {
                retry_after_secs: 43
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn login_records_a_failure_with_the_configured_policy() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let mut ports = Ports::new();
    ports
        .login_throttle
        .expect_state()
        .times(1)
        .returning(|_| Ok(None));
    ports
        .login_throttle
        .expect_record_failure()
        .withf(
            |email: &str, at: &DateTime<Utc>, policy: &LoginThrottlePolicy, audit: &AuditEvent| {
                email == "ada@example.com"
                    && *at == now()
                    && *policy == LoginThrottlePolicy::default()
                    && audit.action == AuditAction::LoginFailed
                    && audit.target.as_deref() == Some("email:ada@example.com")
            },
        )
        .times(1)
        .returning(|_, _, _, _| {
            Ok(ThrottleState {
                failures: 5,
                locked_until: Some(now() + Duration::minutes(1)),
            })
        });
    ports
        .clock_at(now())
        .stored_account(&ada)
        .verify("wrong horse battery staple", Some(HASH), Ok(false))
        .forbid_session();
    let roster = ports.build();

    let result = roster
        .login(
            "ada@example.com",
            &secret("wrong horse battery staple"),
            None,
        )
        .await;

    assert!(
        matches!(result, Err(AppError::InvalidCredentials)),
        "{result:?}"
    );
}

/// Logs in Ada successfully while the throttle holds `state` for her email.
async fn successful_login_with_throttle_state(state: ThrottleState, expect_clear: bool) {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let mut ports = Ports::new();
    ports
        .login_throttle
        .expect_state()
        .times(1)
        .returning(move |_| Ok(Some(state)));
    ports
        .login_throttle
        .expect_clear()
        .with(eq("ada@example.com".to_owned()))
        .times(usize::from(expect_clear))
        .returning(|_| Ok(()));
    ports
        .clock_at(now())
        .stored_account(&ada)
        .verify(STRONG, Some(HASH), Ok(true));
    ports
        .tokens
        .expect_new_session_token()
        .returning(|| IssuedToken {
            token: SecretString::from(TOKEN),
            digest: TokenDigest::new(DIGEST),
        });
    ports
        .sessions
        .expect_create()
        .times(1)
        .returning(|_, _| Ok(()));
    let roster = ports.build();

    roster
        .login("ada@example.com", &secret(STRONG), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn login_after_the_lock_expired_succeeds_and_forgets_the_failures() {
    successful_login_with_throttle_state(
        ThrottleState {
            failures: 6,
            locked_until: Some(now() - Duration::seconds(1)),
        },
        true,
    )
    .await;
    successful_login_with_throttle_state(
        ThrottleState {
            failures: 2,
            locked_until: None,
        },
        true,
    )
    .await;
}

#[test]
fn the_throttle_policy_doubles_from_the_base_delay_up_to_the_cap() {
    let policy = LoginThrottlePolicy::default();
    let delays: Vec<Option<i64>> = (0..=12)
        .map(|failures| policy.delay_after(failures).map(|d| d.num_seconds()))
        .collect();
    assert_eq!(
        delays,
        [
            None,
            None,
            None,
            None,
            None,
            Some(60),
            Some(120),
            Some(240),
            Some(480),
            Some(900),
            Some(900),
            Some(900),
            Some(900)
        ]
    );
    assert_eq!(policy.delay_after(u32::MAX), Some(Duration::minutes(15)));
}

// ---------------------------------------------------------------------------------------------
// API keys
// ---------------------------------------------------------------------------------------------

const API_KEY: &str = "rak_0190000000007000800000000000aaaa_secret";
const API_KEY_DIGEST: &str = "1111111111111111111111111111111111111111111111111111111111111111";

fn api_key_id() -> ApiKeyId {
    ApiKeyId::new(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_aaaa))
}

fn stored_key(
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
) -> StoredApiKey {
    StoredApiKey {
        key: ApiKey {
            id: api_key_id(),
            name: "ci deploy".to_owned(),
            created_at: now() - Duration::days(1),
            created_by: Some("account:x".to_owned()),
            expires_at,
            last_used_at,
            revoked_at,
        },
        digest: TokenDigest::new(API_KEY_DIGEST),
        grants: Arc::from([]),
    }
}

impl Ports {
    /// [`API_KEY`] has the shape of a key, digests to `digest`, and its id finds `stored`.
    fn presented_api_key(
        &mut self,
        digest: &'static str,
        stored: Option<StoredApiKey>,
    ) -> &mut Self {
        self.tokens
            .expect_looks_like_session_token()
            .return_const(false);
        self.tokens
            .expect_api_key_id()
            .withf(|token: &str| token == API_KEY)
            .return_const(Some(api_key_id()));
        self.tokens
            .expect_digest()
            .withf(|token: &str| token == API_KEY)
            .returning(move |_| TokenDigest::new(digest));
        self.api_keys
            .expect_find_api_key()
            .with(eq(api_key_id()))
            .times(1)
            .returning(move |_| Ok(stored.clone()));
        self.sessions.expect_find_by_digest().never();
        self.clock.expect_now().return_const(now());
        self
    }
}

#[tokio::test]
async fn authenticate_accepts_an_api_key_with_exactly_its_own_grants() {
    let grants = vec![grant(
        9,
        "acme",
        vec![Permission::allow(pattern("issuer-*"))],
    )];
    let mut ports = Ports::new();
    let stored = StoredApiKey {
        grants: grants.clone().into(),
        ..stored_key(None, None, None)
    };
    ports.presented_api_key(API_KEY_DIGEST, Some(stored));
    ports
        .api_keys
        .expect_touch_api_key()
        .with(eq(api_key_id()), eq(now()))
        .times(1)
        .returning(|_, _| Ok(()));
    ports.accounts.expect_grants_of().never();
    let roster = ports.build();

    let caller = roster.authenticate_bearer(API_KEY, None).await.unwrap();

    assert_eq!(
        caller.principal,
        Principal {
            id: PrincipalId::ApiKey(api_key_id()),
            is_superadmin: false,
            grants: grants.into()
        }
    );
    assert!(caller.account.is_none() && caller.session_id.is_none());
    assert_eq!(caller.api_key.map(|key| key.id), Some(api_key_id()));
}

#[tokio::test]
async fn authenticate_writes_api_key_use_back_at_most_once_a_minute() {
    let mut ports = Ports::new();
    ports.presented_api_key(
        API_KEY_DIGEST,
        Some(stored_key(None, Some(now() - Duration::seconds(59)), None)),
    );
    ports.api_keys.expect_touch_api_key().never();
    let roster = ports.build();

    roster.authenticate_bearer(API_KEY, None).await.unwrap();
}

#[tokio::test]
async fn authenticate_refuses_wrong_revoked_and_expired_api_keys() {
    let cases = [
        ("unknown id", API_KEY_DIGEST, None),
        (
            "wrong secret",
            "2222222222222222222222222222222222222222222222222222222222222222",
            Some(stored_key(None, None, None)),
        ),
        (
            "revoked",
            API_KEY_DIGEST,
            Some(stored_key(None, None, Some(now() - Duration::seconds(1)))),
        ),
        (
            "expired",
            API_KEY_DIGEST,
            Some(stored_key(Some(now()), None, None)),
        ),
    ];
    for (why, digest, stored) in cases {
        let mut ports = Ports::new();
        ports.presented_api_key(digest, stored);
        ports.api_keys.expect_touch_api_key().never();
        let roster = ports.build();

        let result = roster.authenticate_bearer(API_KEY, None).await;

        assert!(
            matches!(result, Err(AppError::Unauthenticated)),
            "{why}: {result:?}"
        );
    }
}

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
        assert_eq!(key.created_by, Some(caller.principal.id.to_string()));
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

// ---------------------------------------------------------------------------------------------
// The privilege principle in the use cases: each guard refuses before any write
// ---------------------------------------------------------------------------------------------

fn allow(p: &str) -> Permission {
    Permission::allow(pattern(p))
}

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
    /// The account behind [`account`]'s id exists, holding `grants`.
    fn target_account(&mut self, is_superadmin: bool, grants: Vec<Grant>) -> &mut Self {
        let target = account("target@example.com", AccountStatus::Active, is_superadmin);
        let id = target.id;
        self.accounts
            .expect_find_by_id()
            .with(eq(id))
            .returning(move |_| Ok(Some(target.clone())));
        self.accounts
            .expect_grants_of()
            .with(eq(id))
            .returning(move |_| Ok(grants.clone()));
        self
    }

    fn forbid_account_changes(&mut self) -> &mut Self {
        self.hasher.expect_hash().never();
        self.accounts.expect_set_password().never();
        self.accounts.expect_set_status().never();
        self
    }
}

fn target_id() -> AccountId {
    account("target@example.com", AccountStatus::Active, false).id
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

/// A delegate holding `grant-manage` and everything else on `acme.berlin` only.
fn berlin_admin() -> Authenticated {
    actor(false, vec![grant(5, "acme.berlin", vec![allow("all")])])
}

fn role_record(name: &str, permissions: Vec<Permission>) -> crate::ports::StoredRole {
    crate::ports::StoredRole {
        role: roster_domain::Role {
            name: RoleName::parse(name).unwrap(),
            description: String::new(),
            permissions,
        },
        created_at: now(),
        updated_at: now(),
    }
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

    let form = super::GrantForm {
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
    let deny_grant = crate::ports::GrantRecord {
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

#[tokio::test]
async fn role_manage_alone_cannot_change_the_rules_of_a_held_role() {
    let role_admin = actor(false, vec![grant(6, "*", vec![allow("role-manage")])]);
    let mut ports = Ports::new();
    let current = role_record("role-admin", vec![allow("role-manage")]);
    ports
        .roles
        .expect_find_role()
        .returning(move |_| Ok(Some(current.clone())));
    ports.roles.expect_holdings().times(1).returning(|_| {
        Ok(vec![crate::ports::RoleHolding {
            holder: PrincipalId::Account(AccountId::new(Uuid::from_u128(0xad))),
            scope: ScopePath::root(),
        }])
    });
    ports.roles.expect_update_role().never();
    let roster = ports.build();

    let form = super::RoleForm {
        name: "role-admin".into(),
        description: None,
        permissions: vec![super::RuleForm {
            action: "all".into(),
            effect: None,
        }],
    };
    let result = roster.replace_role(&role_admin, "role-admin", &form).await;
    assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
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
