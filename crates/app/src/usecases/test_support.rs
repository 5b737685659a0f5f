//! What the use-case tests share: the mock ports and the fixtures (`tests` modules next to
//! each use case use them).
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
    Permission, PlainPassword, PrincipalId, RoleName, ScopePath,
};
use secrecy::SecretString;
use uuid::Uuid;

use super::{Authenticated, RegistrationForm, Roster, RosterPorts, RosterSettings};
use crate::error::{AppError, FieldError};
use crate::model::{
    AccountPage, AccountWithGrants, ApiKey, AuthMethod, AuthMethods, Feature, HashError,
    PasswordHash, SessionId, SessionRecord, StoredAccount, StoredApiKey, ThrottleState,
    TokenDigest,
};
use crate::ports::{
    MockAccountRepository, MockApiKeyStore, MockAuditLog, MockClock, MockEmailTokenStore,
    MockFeatureManager, MockGrantStore, MockInvitationStore, MockLoginThrottle, MockMailer,
    MockMfaStore, MockOutbox, MockPasskeyStore, MockPasswordHasher, MockPasswordStrength,
    MockReadiness, MockRoleStore, MockSessionStore, MockTokenSource, MockTotp, MockWebAuthn,
    NoMailSignal,
};

/// Passes the default policy (15..=128 characters, zxcvbn score >= 3).
pub(super) const STRONG: &str = "correct horse battery staple orbit";
/// What the fake hasher returns and the fake repository stores.
pub(super) const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$ZmFrZWhhc2g";
/// A bearer token as the client presents it.
pub(super) const TOKEN: &str = "rst_3q2+7w==fake-session-token-with-enough-length";
/// The digest the token source derives from [`TOKEN`].
pub(super) const DIGEST: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// The clock's "now" in every test.
pub(super) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 14, 15, 9, 26).unwrap()
}

/// Calls a mock recorded, for assertions after the use case returned.
pub(super) type Calls<T> = Arc<Mutex<Vec<T>>>;

pub(super) fn recorded<T: Clone>(calls: &Calls<T>) -> Vec<T> {
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
    pub(super) readiness: MockReadiness,
    pub(super) clock: MockClock,
    pub(super) tokens: MockTokenSource,
    pub(super) mailer: MockMailer,
    pub(super) outbox: MockOutbox,
    pub(super) email_tokens: MockEmailTokenStore,
    pub(super) invitations: MockInvitationStore,
    pub(super) mfa: MockMfaStore,
    pub(super) totp: MockTotp,
    pub(super) passkeys: MockPasskeyStore,
    pub(super) webauthn: MockWebAuthn,
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
            readiness: MockReadiness::new(),
            clock: MockClock::new(),
            tokens: MockTokenSource::new(),
            mailer: MockMailer::new(),
            outbox: MockOutbox::new(),
            email_tokens: MockEmailTokenStore::new(),
            invitations: MockInvitationStore::new(),
            mfa: MockMfaStore::new(),
            totp: MockTotp::new(),
            passkeys: MockPasskeyStore::new(),
            webauthn: MockWebAuthn::new(),
        }
    }

    pub(super) fn build(self) -> Roster {
        self.build_with(RosterSettings::default())
    }

    /// A [`Roster`] with these policies instead of the defaults (for boundaries the defaults
    /// cannot reach, such as an idle timeout shorter than the touch interval).
    pub(super) fn build_with(self, settings: RosterSettings) -> Roster {
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
                readiness: Arc::new(self.readiness),
                clock: Arc::new(self.clock),
                tokens: Arc::new(self.tokens),
                mailer: Arc::new(self.mailer),
                outbox: Arc::new(self.outbox),
                email_tokens: Arc::new(self.email_tokens),
                invitations: Arc::new(self.invitations),
                mail_queued: Arc::new(NoMailSignal),
                mfa: Arc::new(self.mfa),
                totp: Arc::new(self.totp),
                passkeys: Arc::new(self.passkeys),
                webauthn: Arc::new(self.webauthn),
            },
            settings,
        )
    }

    /// The `account-registration` flag, asked as often as the use case likes.
    pub(super) fn registration(&mut self, enabled: bool) -> &mut Self {
        self.features
            .expect_is_enabled()
            .with(eq(Feature::AccountRegistration))
            .return_const(enabled);
        self
    }

    pub(super) fn clock_at(&mut self, at: DateTime<Utc>) -> &mut Self {
        self.clock.expect_now().return_const(at);
        self
    }

    /// No port may be called: for paths that must refuse before doing any work.
    pub(super) fn forbid_account_creation(&mut self) -> &mut Self {
        self.accounts.expect_find_by_email().never();
        self.accounts.expect_insert().never();
        self.hasher.expect_hash().never();
        self.hasher.expect_verify().never();
        self.clock.expect_now().never();
        self
    }

    /// The early duplicate check finds nothing, exactly once, for this canonical email.
    pub(super) fn email_free(&mut self, canonical: &str) -> &mut Self {
        self.accounts
            .expect_find_by_email()
            .with(eq(canonical.to_owned()))
            .times(1)
            .returning(|_| Ok(None));
        self
    }

    /// The hasher is asked exactly once, for exactly this (normalized) password.
    pub(super) fn hash_ok(&mut self, password: &'static str) -> &mut Self {
        self.hasher
            .expect_hash()
            .withf(move |plain: &PlainPassword| plain.expose() == password)
            .times(1)
            .returning(|_| Ok(PasswordHash::new(HASH)));
        self
    }

    /// Exactly one insert, which succeeds; returns what was inserted.
    pub(super) fn insert_ok(&mut self) -> Calls<(Account, PasswordHash)> {
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
    pub(super) fn creation_succeeds(
        &mut self,
        canonical: &str,
        password: &'static str,
    ) -> Calls<(Account, PasswordHash)> {
        self.clock_at(now()).email_free(canonical).hash_ok(password);
        self.insert_ok()
    }

    /// `find_by_email` returns this account with [`HASH`], exactly once.
    pub(super) fn stored_account(&mut self, account: &Account) -> &mut Self {
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
    pub(super) fn verify(
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
    pub(super) fn unthrottled(&mut self) -> &mut Self {
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
    pub(super) fn forbid_session(&mut self) -> &mut Self {
        self.tokens.expect_new_session_token().never();
        self.sessions.expect_create().never();
        self
    }

    /// [`TOKEN`] has the right shape, digests to [`DIGEST`], and that digest finds `record`.
    pub(super) fn presented_session(&mut self, record: Option<SessionRecord>) -> &mut Self {
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

    /// [`API_KEY`] has the shape of a key and digests to `digest` (exactly once, whether or
    /// not the id is known: the same work either way), and its id finds `stored`.
    pub(super) fn presented_api_key(
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
            .times(1)
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

    /// A refused token: no activity is recorded and no grants are loaded.
    pub(super) fn forbid_session_use(&mut self) -> &mut Self {
        self.sessions.expect_touch().never();
        self.accounts.expect_find_with_grants().never();
        self
    }
}

/// The strength port running the domain's estimate inline (the adapter runs the same on its
/// pool), as often as asked. Tests about the pool itself replace it.
pub(super) fn inline_strength() -> MockPasswordStrength {
    let mut strength = MockPasswordStrength::new();
    strength.expect_weakness().returning(|password, inputs| {
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        Ok(password.weakness(&inputs, roster_domain::STRENGTH_BUDGET))
    });
    strength
}

pub(super) fn form(email: &str, password: &str, name: Option<&str>) -> RegistrationForm {
    RegistrationForm::new(
        email.to_owned(),
        SecretString::from(password),
        name.map(str::to_owned),
    )
}

/// [`Ports::stored_account`] as a free function, for tests that hold `Ports` by value.
pub(super) fn stored_account_helper(ports: &mut Ports, account: &Account) {
    ports.stored_account(account);
}

pub(super) fn secret(password: &str) -> SecretString {
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
        email_verified: true,
        has_second_factor: false,
        created_at: created,
        updated_at: created,
    }
}

pub(super) fn session_id() -> SessionId {
    SessionId::new(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0042))
}

/// A live session of `account` (opened 50 minutes ago, 11 hours left), last seen at `last_seen`.
pub(super) fn session(account: Account, last_seen: DateTime<Utc>) -> SessionRecord {
    SessionRecord {
        id: session_id(),
        account,
        created_at: now() - Duration::minutes(50),
        last_seen_at: last_seen,
        expires_at: now() + Duration::hours(11),
        revoked: false,
        grants: Arc::from([]),
        grants_version: 1,
        auth_methods: AuthMethods::of(AuthMethod::Password),
        second_factor_at: None,
    }
}

pub(super) fn grant(n: u128, scope: &str, permissions: Vec<Permission>) -> Grant {
    Grant {
        id: GrantId::new(Uuid::from_u128(n)),
        role: RoleName::parse("account-admin").unwrap(),
        scope: ScopePath::parse(scope).unwrap(),
        permissions,
    }
}

pub(super) fn pattern(text: &str) -> ActionPattern {
    ActionPattern::parse(text).unwrap()
}

/// An account calling through a session (account id `0xad`), holding `grants`.
pub(super) fn actor(is_superadmin: bool, grants: Vec<Grant>) -> Authenticated {
    let account = Account {
        id: AccountId::new(Uuid::from_u128(0xad)),
        ..account("actor@example.com", AccountStatus::Active, is_superadmin)
    };
    session_caller(account, grants)
}

/// `account` calling through a live password session ([`session`]), holding `grants`.
pub(super) fn session_caller(account: Account, grants: Vec<Grant>) -> Authenticated {
    let record = SessionRecord {
        grants: grants.into(),
        ..session(account, now())
    };
    Authenticated::by_session(record, None)
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

pub(super) const API_KEY: &str = "rak_0190000000007000800000000000aaaa_secret";
pub(super) const API_KEY_DIGEST: &str =
    "1111111111111111111111111111111111111111111111111111111111111111";

pub(super) fn api_key_id() -> ApiKeyId {
    ApiKeyId::new(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_aaaa))
}

pub(super) fn stored_key(
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
) -> StoredApiKey {
    StoredApiKey {
        key: ApiKey {
            id: api_key_id(),
            name: "ci deploy".to_owned(),
            created_at: now() - Duration::days(1),
            created_by: Some(PrincipalId::Account(AccountId::new(Uuid::from_u128(0xad)))),
            expires_at,
            last_used_at,
            revoked_at,
        },
        digest: TokenDigest::new(API_KEY_DIGEST),
        grants: Arc::from([]),
        grants_version: 1,
    }
}

pub(super) fn allow(p: &str) -> Permission {
    Permission::allow(pattern(p))
}

impl Ports {
    /// The account behind [`account`]'s id exists, holding `grants`.
    pub(super) fn target_account(&mut self, is_superadmin: bool, grants: Vec<Grant>) -> &mut Self {
        let target = account("target@example.com", AccountStatus::Active, is_superadmin);
        let found = AccountWithGrants {
            account: target.clone(),
            grants: grants.into(),
        };
        self.accounts
            .expect_find_by_id()
            .with(eq(target.id))
            .returning(move |_| Ok(Some(target.clone())));
        self.accounts
            .expect_find_with_grants()
            .with(eq(found.account.id))
            .returning(move |_| Ok(Some(found.clone())));
        self
    }
}

impl Ports {
    /// Looking up `email` (as normalized: lower case) finds `account`, once: how the
    /// console's fields that take an email address find whom it names.
    pub(super) fn account_listed_by_email(&mut self, email: &str, account: Account) -> &mut Self {
        self.accounts
            .expect_list()
            .with(eq(Some(email.to_owned())), eq(None), eq(1))
            .times(1)
            .returning(move |_, _, _| {
                Ok(AccountPage {
                    accounts: vec![account.clone()],
                    next_after: None,
                })
            });
        self
    }
}

pub(super) fn target_id() -> AccountId {
    account("target@example.com", AccountStatus::Active, false).id
}

pub(super) fn role_record(name: &str, permissions: Vec<Permission>) -> crate::model::StoredRole {
    crate::model::StoredRole {
        role: roster_domain::Role {
            name: RoleName::parse(name).unwrap(),
            description: String::new(),
            permissions,
        },
        created_at: now(),
        updated_at: now(),
    }
}
