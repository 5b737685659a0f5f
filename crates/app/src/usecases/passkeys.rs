//! Passkeys: registering them on the signed-in account, and using them as the login's second
//! factor, for a step-up, or alone (passwordless sign-in with a discoverable credential).
//!
//! Every ceremony is kept in the database between its start and its finish, found by its
//! challenge and taken once, so any node may finish what another started and no response
//! is accepted twice.

use chrono::Duration;
use roster_domain::Account;
use roster_domain::text::{is_bidi_control, is_invisible};
use tracing::instrument;
use uuid::Uuid;

use super::login::LoginSuccess;
use super::{Authenticated, Roster};
use crate::error::{AppError, FieldError};
use crate::model::{
    AssertionClaims, AuditAction, AuthMethod, AuthMethods, Ceremony, CeremonyPurpose, ClientInfo,
    Conflict, MAX_PASSKEY_NAME_CHARS, Passkey, PasskeyId, StartedCeremony, StoreError,
    StoredPasskey, WebAuthnOptions,
};

/// How long a ceremony may take between its start and its finish.
pub const CEREMONY_TTL: Duration = Duration::minutes(5);

/// Which ceremony a finish belongs to.
struct Expected {
    purpose: CeremonyPurpose,
    account: Option<Account>,
    session_id: Option<crate::model::SessionId>,
    mfa_challenge_id: Option<Uuid>,
}

impl Roster {
    /// Starts adding a passkey to the caller's account (a recent sign-in, or a recent
    /// second factor when the account has one, as for every change to the factors).
    ///
    /// # Errors
    /// `MfaStepUpRequired`, `RecentSignInRequired`, `Unauthenticated` for an API key,
    /// `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn start_passkey_registration(
        &self,
        caller: &Authenticated,
    ) -> Result<WebAuthnOptions, AppError> {
        let (account, session_id) = caller.require_session()?;
        self.require_recent_authentication(caller)?;
        let existing: Vec<_> = self
            .ports
            .passkeys
            .list_passkeys(account.id)
            .await?
            .into_iter()
            .map(|stored| stored.credential)
            .collect();
        let started = self.ports.webauthn.start_registration(account, &existing)?;
        self.keep_ceremony(
            started,
            CeremonyPurpose::Register,
            Some(account),
            Some(session_id),
            None,
        )
        .await
    }

    /// Verifies the browser's answer to [`Roster::start_passkey_registration`] and stores
    /// the passkey under `name`.
    ///
    /// # Errors
    /// `Validation` (`name`); `InvalidCredential` (no such ceremony for this session, or the
    /// response does not verify, or the credential is registered already); `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn finish_passkey_registration(
        &self,
        caller: &Authenticated,
        name: &str,
        response: &str,
    ) -> Result<Passkey, AppError> {
        let (account, session_id) = caller.require_session()?;
        let name = passkey_name(name)?;
        self.require_recent_authentication(caller)?;
        let ceremony = self
            .take_ceremony(
                &self.ports.webauthn.claims(response)?,
                Expected {
                    purpose: CeremonyPurpose::Register,
                    account: Some(account.clone()),
                    session_id: Some(session_id),
                    mfa_challenge_id: None,
                },
            )
            .await?;
        let registered = self
            .ports
            .webauthn
            .finish_registration(response, &ceremony.state)?;
        let now = self.ports.clock.now();
        let stored = StoredPasskey {
            passkey: Passkey {
                id: PasskeyId::new(Uuid::now_v7()),
                name,
                created_at: now,
                last_used_at: None,
            },
            account_id: account.id,
            credential_id: registered.credential_id,
            credential: registered.credential,
        };
        let audit = caller
            .audit(AuditAction::PasskeyAdded, now)
            .target("passkey", stored.passkey.id)
            .detail(format!("named {:?}", stored.passkey.name));
        match self.ports.passkeys.add_passkey(&stored, &audit).await {
            Ok(()) => {}
            Err(StoreError::Duplicate(Conflict::PasskeyCredential)) => {
                return Err(AppError::InvalidCredential(
                    "this passkey is registered already".into(),
                ));
            }
            Err(other) => return Err(other.into()),
        }
        tracing::info!(account_id = %account.id, passkey_id = %stored.passkey.id, "passkey added");
        Ok(stored.passkey)
    }

    /// Removes one of the caller's passkeys, after a recent second factor.
    ///
    /// # Errors
    /// `MfaStepUpRequired`, `NotFound("passkey")`, `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn remove_passkey(
        &self,
        caller: &Authenticated,
        id: PasskeyId,
    ) -> Result<(), AppError> {
        let account = caller.require_session()?.0;
        self.require_recent_authentication(caller)?;
        let audit = caller
            .audit(AuditAction::PasskeyRemoved, self.ports.clock.now())
            .target("passkey", id);
        if !self
            .ports
            .passkeys
            .remove_passkey(account.id, id, &audit)
            .await?
        {
            return Err(AppError::NotFound("passkey"));
        }
        tracing::info!(account_id = %account.id, passkey_id = %id, "passkey removed");
        Ok(())
    }

    /// Starts the login's second step with a passkey.
    ///
    /// # Errors
    /// `InvalidMfaToken`, `TooManyAttempts`, `MfaNotEnrolled` (the account has no passkey),
    /// `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn start_passkey_second_factor(
        &self,
        mfa_token: &str,
    ) -> Result<WebAuthnOptions, AppError> {
        let (challenge, account) = self.second_step(mfa_token).await?;
        let started = self.start_assertion_for(&account).await?;
        self.keep_ceremony(
            started,
            CeremonyPurpose::SecondFactor,
            Some(&account),
            None,
            Some(challenge.id),
        )
        .await
    }

    /// Finishes the login's second step with a passkey assertion. A response that does not
    /// verify counts like a wrong code.
    ///
    /// # Errors
    /// `InvalidMfaToken`, `InvalidCredential`, `TooManyAttempts`, `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn finish_passkey_second_factor(
        &self,
        mfa_token: &str,
        response: &str,
        client: &ClientInfo,
    ) -> Result<LoginSuccess, AppError> {
        let (challenge, account) = self.second_step(mfa_token).await?;
        self.reserve_attempt(&challenge).await?;
        let expected = Expected {
            purpose: CeremonyPurpose::SecondFactor,
            account: Some(account.clone()),
            session_id: None,
            mfa_challenge_id: Some(challenge.id),
        };
        match self.verify_assertion(response, expected).await {
            Ok(_) => {
                self.finish_second_step(&challenge, account, AuthMethod::Passkey, client)
                    .await
            }
            Err(AppError::InvalidCredential(reason)) => {
                self.count_second_factor_failure(
                    &account,
                    client.source_ip,
                    "passkey refused at sign-in",
                )
                .await?;
                Err(AppError::InvalidCredential(reason))
            }
            Err(other) => Err(other),
        }
    }

    /// Starts a step-up with a passkey for the caller's session.
    ///
    /// # Errors
    /// `MfaNotEnrolled` (no passkey), `Unauthenticated` for an API key, `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn start_passkey_step_up(
        &self,
        caller: &Authenticated,
    ) -> Result<WebAuthnOptions, AppError> {
        let (account, session_id) = caller.require_session()?;
        let started = self.start_assertion_for(account).await?;
        self.keep_ceremony(
            started,
            CeremonyPurpose::StepUp,
            Some(account),
            Some(session_id),
            None,
        )
        .await
    }

    /// Finishes a step-up with a passkey assertion. A response that does not verify counts
    /// toward the account's login throttle.
    ///
    /// # Errors
    /// `InvalidCredential`, `TooManyAttempts`, `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn finish_passkey_step_up(
        &self,
        caller: &Authenticated,
        response: &str,
    ) -> Result<(), AppError> {
        let (account, session_id) = caller.require_session()?;
        let throttle = self
            .ports
            .login_throttle
            .state(account.email.canonical())
            .await?;
        self.refuse_while_throttled(throttle.as_ref())?;
        let expected = Expected {
            purpose: CeremonyPurpose::StepUp,
            account: Some(account.clone()),
            session_id: Some(session_id),
            mfa_challenge_id: None,
        };
        match self.verify_assertion(response, expected).await {
            Ok(_) => self.record_step_up(caller, AuthMethod::Passkey).await,
            Err(AppError::InvalidCredential(reason)) => {
                self.count_second_factor_failure(
                    account,
                    caller.source_ip,
                    "passkey refused at step-up",
                )
                .await?;
                Err(AppError::InvalidCredential(reason))
            }
            Err(other) => Err(other),
        }
    }

    /// Starts a passwordless sign-in: any discoverable passkey of this service may answer.
    ///
    /// # Errors
    /// `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn start_passwordless(&self) -> Result<WebAuthnOptions, AppError> {
        let started = self.ports.webauthn.start_discoverable_assertion()?;
        self.keep_ceremony(started, CeremonyPurpose::Passwordless, None, None, None)
            .await
    }

    /// Finishes a passwordless sign-in: the passkey (with user verification) is both
    /// factors, so the session counts as having presented a second factor.
    ///
    /// # Errors
    /// `InvalidCredential` (unknown passkey, a disabled or unverified account, a response
    /// that does not verify: one answer for all), `Unavailable`.
    #[instrument(skip_all, err(level = "debug"))]
    pub async fn finish_passwordless(
        &self,
        response: &str,
        client: &ClientInfo,
    ) -> Result<LoginSuccess, AppError> {
        let expected = Expected {
            purpose: CeremonyPurpose::Passwordless,
            account: None,
            session_id: None,
            mfa_challenge_id: None,
        };
        // One answer for every refusal: an unknown passkey, an account that cannot sign in,
        // a response that does not verify.
        let refused = || AppError::InvalidCredential("the passkey cannot sign in here".into());
        let account = match self.verify_assertion(response, expected).await {
            Ok(account) if account.email_verified => account,
            Ok(_) | Err(AppError::InvalidCredential(_)) => return Err(refused()),
            Err(other) => return Err(other),
        };
        let (issued, audit) =
            self.new_session(&account, client, AuthMethods::of(AuthMethod::Passkey));
        self.ports.sessions.create(&issued.session, &audit).await?;
        tracing::info!(account_id = %account.id, session_id = %issued.session.id, "passwordless login succeeded");
        Ok(LoginSuccess {
            token: issued.token,
            session_id: issued.session.id,
            expires_at: issued.session.expires_at,
            account,
        })
    }

    /// Options asserting one of the account's passkeys.
    async fn start_assertion_for(&self, account: &Account) -> Result<StartedCeremony, AppError> {
        let credentials: Vec<_> = self
            .ports
            .passkeys
            .list_passkeys(account.id)
            .await?
            .into_iter()
            .map(|stored| stored.credential)
            .collect();
        if credentials.is_empty() {
            return Err(AppError::MfaNotEnrolled);
        }
        Ok(self.ports.webauthn.start_assertion(&credentials)?)
    }

    /// Keeps a started ceremony until its finish; hands back the browser's options.
    async fn keep_ceremony(
        &self,
        started: StartedCeremony,
        purpose: CeremonyPurpose,
        account: Option<&Account>,
        session_id: Option<crate::model::SessionId>,
        mfa_challenge_id: Option<Uuid>,
    ) -> Result<WebAuthnOptions, AppError> {
        let now = self.ports.clock.now();
        let ceremony = Ceremony {
            challenge: started.challenge,
            purpose,
            account_id: account.map(|account| account.id),
            session_id,
            mfa_challenge_id,
            state: started.state,
            created_at: now,
            expires_at: now + CEREMONY_TTL,
        };
        self.ports.passkeys.save_ceremony(&ceremony).await?;
        Ok(started.options)
    }

    /// Takes the ceremony whose challenge a response claims, if it is the one expected.
    async fn take_ceremony(
        &self,
        claims: &AssertionClaims,
        expected: Expected,
    ) -> Result<Ceremony, AppError> {
        let now = self.ports.clock.now();
        let ceremony = self
            .ports
            .passkeys
            .take_ceremony(&claims.challenge, now)
            .await?
            .ok_or_else(|| AppError::InvalidCredential("unknown or expired ceremony".into()))?;
        let matches = ceremony.purpose == expected.purpose
            && ceremony.account_id == expected.account.as_ref().map(|account| account.id)
            && ceremony.session_id == expected.session_id
            && ceremony.mfa_challenge_id == expected.mfa_challenge_id;
        if !matches {
            return Err(AppError::InvalidCredential(
                "the response answers another ceremony".into(),
            ));
        }
        Ok(ceremony)
    }

    /// Verifies an assertion against its ceremony and the stored passkey it names, records
    /// the use, and returns the passkey's account (which must be the expected one, and able
    /// to sign in).
    async fn verify_assertion(
        &self,
        response: &str,
        expected: Expected,
    ) -> Result<Account, AppError> {
        let claims = self.ports.webauthn.claims(response)?;
        let expected_account = expected.account.clone();
        let ceremony = self.take_ceremony(&claims, expected).await?;
        let refused = || AppError::InvalidCredential("unknown passkey".into());
        let stored = self
            .ports
            .passkeys
            .find_passkey(&claims.credential_id)
            .await?
            .ok_or_else(refused)?;
        let account = match expected_account {
            Some(account) if account.id == stored.account_id => account,
            Some(_) => return Err(refused()),
            None => {
                // A discoverable credential names its account: it must be the passkey's.
                if claims.user_handle != Some(*stored.account_id.as_uuid()) {
                    return Err(refused());
                }
                self.ports
                    .accounts
                    .find_by_id(stored.account_id)
                    .await?
                    .ok_or_else(refused)?
            }
        };
        if !account.can_log_in() {
            return Err(refused());
        }
        let verified =
            self.ports
                .webauthn
                .finish_assertion(response, &ceremony.state, &stored.credential)?;
        let now = self.ports.clock.now();
        self.ports
            .passkeys
            .record_passkey_use(stored.passkey.id, now, verified.updated)
            .await?;
        Ok(account)
    }
}

/// A passkey's name as its owner typed it: trimmed, 1 to 64 visible characters.
fn passkey_name(name: &str) -> Result<String, AppError> {
    let visible: String = name
        .chars()
        .filter(|&c| !(c.is_control() || is_bidi_control(c) || is_invisible(c)))
        .collect();
    let name = visible.trim();
    let problem = if name.is_empty() {
        Some("Give the passkey a name, such as the device it is on.")
    } else if name.chars().count() > MAX_PASSKEY_NAME_CHARS {
        Some("A passkey's name has at most 64 characters.")
    } else {
        None
    };
    match problem {
        Some(message) => Err(AppError::Validation(vec![FieldError::new(
            "name",
            "invalid_name",
            message,
        )])),
        None => Ok(name.to_owned()),
    }
}
