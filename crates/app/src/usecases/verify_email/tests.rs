//! Email verification, verification links on registration, and the enumeration-safe
//! registration, with mock ports: every path of a public form calls the same expensive ports.

use std::sync::Arc;

use chrono::Duration;
use roster_domain::{AccountStatus, AllowedDomains};
use secrecy::ExposeSecret;

use crate::error::AppError;
use crate::model::{
    AuditAction, Conflict, EmailRequest, EmailTokenPurpose, IssuedToken, MailKind, MailMessage,
    SealedMail, StoreError, TokenDigest,
};
use crate::usecases::test_support::*;
use crate::usecases::{EmailVerification, RegistrationPolicy, RosterSettings, SelfRegistration};

const VERIFY_TOKEN: &str = "rev_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const VERIFY_DIGEST: &str = "verify-digest";
const EMAIL_KEY: &str = "digest-of-ada@example.com";

fn policy(verification: EmailVerification, safe: bool) -> RosterSettings {
    RosterSettings {
        registration: RegistrationPolicy {
            allowed_domains: AllowedDomains::default(),
            email_verification: verification,
            enumeration_safe: safe,
        },
        ..RosterSettings::default()
    }
}

/// One email token (of whatever purpose is asked), one sealed message (recorded: kind,
/// recipient, link or page), one digest of the canonical email: the expensive work every
/// path must do exactly once.
fn expect_the_same_work(ports: &mut Ports) -> Calls<(MailKind, String, String)> {
    ports
        .tokens
        .expect_new_email_token()
        .withf(|purpose| *purpose == EmailTokenPurpose::EmailVerification)
        .times(1)
        .returning(|_| IssuedToken {
            token: secret(VERIFY_TOKEN),
            digest: TokenDigest::new(VERIFY_DIGEST),
        });
    ports
        .tokens
        .expect_digest()
        .withf(|text| text == "ada@example.com")
        .times(1)
        .returning(|_| TokenDigest::new(EMAIL_KEY));
    let calls: Calls<(MailKind, String, String)> = Calls::default();
    let sink = Arc::clone(&calls);
    ports
        .mailer
        .expect_seal()
        .times(1)
        .returning(move |message, id, at| {
            let said = match message {
                MailMessage::EmailVerification {
                    link, expires_at, ..
                } => {
                    assert_eq!(*expires_at, now() + Duration::hours(24));
                    link.expose_secret().to_owned()
                }
                MailMessage::AccountExists { reset_page, .. } => reset_page.clone(),
                other => panic!("unexpected message {:?}", other.kind()),
            };
            sink.lock()
                .unwrap()
                .push((message.kind(), message.to().to_string(), said));
            Ok(SealedMail {
                id,
                kind: message.kind(),
                recipient: message.to().to_string(),
                sealed: "sealed".into(),
                created_at: at,
            })
        });
    calls
}

fn verification_link() -> String {
    format!("http://localhost:8080/console/verify-email#{VERIFY_TOKEN}")
}

/// The request carries a verification link for `account` (or nothing), counted for the address.
fn is_verification_for(request: &EmailRequest, account: Option<roster_domain::AccountId>) -> bool {
    let counted = request.email_key.as_str() == EMAIL_KEY
        && request.purpose == EmailTokenPurpose::EmailVerification
        && request.at == now()
        && request.max_per_hour == 3;
    let delivered = match (&request.delivery, account) {
        (None, None) => true,
        (Some(delivery), Some(id)) => {
            delivery.token.as_ref().is_some_and(|token| {
                token.account == id
                    && token.digest.as_str() == VERIFY_DIGEST
                    && token.purpose == EmailTokenPurpose::EmailVerification
                    && token.expires_at == now() + Duration::hours(24)
            }) && delivery.mail.kind == MailKind::EmailVerification
        }
        _ => false,
    };
    counted && delivered
}

// ---------------------------------------------------------------------------------------------
// registration under verification
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_required_verification_registers_unverified_with_its_link_in_one_write() {
    let mut ports = Ports::new();
    ports
        .registration(true)
        .clock_at(now())
        .email_free("ada@example.com")
        .hash_ok(STRONG);
    ports.accounts.expect_insert().never();
    let sealed = expect_the_same_work(&mut ports);
    let written: Calls<roster_domain::Account> = Calls::default();
    let sink = Arc::clone(&written);
    ports
        .email_tokens
        .expect_register_unverified()
        .withf(|account, hash, audit, request| {
            !account.email_verified
                && hash.as_str() == HASH
                && audit.action == AuditAction::AccountRegistered
                && is_verification_for(request, Some(account.id))
        })
        .times(1)
        .returning(move |account, _, _, _| {
            sink.lock().unwrap().push(account.clone());
            Ok(())
        });
    let roster = ports.build_with(policy(EmailVerification::Required, false));

    let answer = roster
        .register_self(form("Ada@Example.com", STRONG, None), None)
        .await
        .unwrap();

    let SelfRegistration::Created(account) = answer else {
        panic!("{answer:?}");
    };
    assert!(!account.email_verified);
    assert_eq!(recorded(&written), vec![account]);
    assert_eq!(
        recorded(&sealed),
        vec![(
            MailKind::EmailVerification,
            "Ada@Example.com".to_owned(),
            verification_link()
        )]
    );
}

#[tokio::test]
async fn a_required_verification_still_refuses_a_taken_email_before_hashing() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let mut ports = Ports::new();
    ports.registration(true).stored_account(&ada);
    ports.hasher.expect_hash().never();
    ports.email_tokens.expect_register_unverified().never();
    let roster = ports.build_with(policy(EmailVerification::Required, false));

    let result = roster
        .register_self(form("ada@example.com", STRONG, None), None)
        .await;
    assert!(matches!(result, Err(AppError::EmailTaken)), "{result:?}");
}

#[tokio::test]
async fn enumeration_safe_registration_does_the_same_work_for_new_and_taken_emails() {
    // New email: the account with its link. Taken: the owner's AccountExists email, no
    // account change. Either way one hash, one token, one sealed message, one write, and the
    // same answer.
    let owner = account("ada@example.com", AccountStatus::Active, false);
    for taken in [false, true] {
        let mut ports = Ports::new();
        ports.registration(true).clock_at(now()).hash_ok(STRONG);
        if taken {
            ports.stored_account(&owner);
        } else {
            ports.email_free("ada@example.com");
        }
        let sealed = expect_the_same_work(&mut ports);
        ports.accounts.expect_insert().never();
        ports.accounts.expect_set_password().never();
        ports.accounts.expect_set_status().never();
        if taken {
            ports.email_tokens.expect_register_unverified().never();
            ports
                .email_tokens
                .expect_request_email()
                .withf(|request| {
                    request.email_key.as_str() == EMAIL_KEY
                        && request.purpose == EmailTokenPurpose::EmailVerification
                        && request.delivery.as_ref().is_some_and(|delivery| {
                            delivery.token.is_none()
                                && delivery.mail.kind == MailKind::AccountExists
                        })
                })
                .times(1)
                .returning(|_| Ok(true));
        } else {
            ports.email_tokens.expect_request_email().never();
            ports
                .email_tokens
                .expect_register_unverified()
                .withf(|account, _, _, request| {
                    !account.email_verified && is_verification_for(request, Some(account.id))
                })
                .times(1)
                .returning(|_, _, _, _| Ok(()));
        }
        let roster = ports.build_with(policy(EmailVerification::Off, true));

        let answer = roster
            .register_self(form("ada@example.com", STRONG, None), None)
            .await
            .unwrap();

        assert!(
            matches!(answer, SelfRegistration::CheckYourEmail),
            "{answer:?}"
        );
        let expected = if taken {
            (
                MailKind::AccountExists,
                "ada@example.com".to_owned(),
                "http://localhost:8080/console/password-reset".to_owned(),
            )
        } else {
            (
                MailKind::EmailVerification,
                "ada@example.com".to_owned(),
                verification_link(),
            )
        };
        assert_eq!(recorded(&sealed), vec![expected], "taken: {taken}");
    }
}

#[tokio::test]
async fn enumeration_safe_registration_answers_a_lost_race_like_a_taken_email() {
    let mut ports = Ports::new();
    ports
        .registration(true)
        .clock_at(now())
        .email_free("ada@example.com")
        .hash_ok(STRONG);
    let _sealed = expect_the_same_work(&mut ports);
    ports
        .email_tokens
        .expect_register_unverified()
        .returning(|_, _, _, _| Err(StoreError::Duplicate(Conflict::Email)));
    let roster = ports.build_with(policy(EmailVerification::Off, true));

    let answer = roster
        .register_self(form("ada@example.com", STRONG, None), None)
        .await
        .unwrap();
    assert!(matches!(answer, SelfRegistration::CheckYourEmail));
}

// ---------------------------------------------------------------------------------------------
// verify
// ---------------------------------------------------------------------------------------------

fn token_shape(ports: &mut Ports, well_formed: bool) {
    ports
        .tokens
        .expect_looks_like_email_token()
        .withf(|purpose, _| *purpose == EmailTokenPurpose::EmailVerification)
        .return_const(well_formed);
    ports
        .tokens
        .expect_digest()
        .returning(|_| TokenDigest::new(VERIFY_DIGEST));
}

fn unverified_ada() -> roster_domain::Account {
    roster_domain::Account {
        email_verified: false,
        ..account("ada@example.com", AccountStatus::Active, false)
    }
}

#[tokio::test]
async fn a_verification_link_verifies_its_account_with_an_audit_event() {
    let ada = unverified_ada();
    let mut ports = Ports::new();
    ports.clock_at(now());
    token_shape(&mut ports, true);
    let found = ada.clone();
    ports
        .email_tokens
        .expect_find_email_verification()
        .withf(|digest, at| digest.as_str() == VERIFY_DIGEST && *at == now())
        .times(1)
        .returning(move |_, _| Ok(Some(found.clone())));
    let id = ada.id;
    ports
        .email_tokens
        .expect_verify_email()
        .withf(move |digest, account, at, audit| {
            digest.as_str() == VERIFY_DIGEST
                && *account == id
                && *at == now()
                && audit.action == AuditAction::EmailVerified
                && audit.target.as_deref() == Some(format!("account:{id}").as_str())
        })
        .times(1)
        .returning(|_, _, _, _| Ok(true));
    let roster = ports.build();

    let account = roster
        .verify_email(&secret(VERIFY_TOKEN), None)
        .await
        .unwrap();
    assert!(account.email_verified);
    assert_eq!(account.id, ada.id);
    assert_eq!(account.updated_at, now());
}

#[tokio::test]
async fn dead_verification_links_answer_token_invalid() {
    // Malformed (or a reset token): no database call.
    let mut ports = Ports::new();
    token_shape(&mut ports, false);
    ports.email_tokens.expect_find_email_verification().never();
    let roster = ports.build();
    let result = roster.verify_email(&secret("rpr_other"), None).await;
    assert!(matches!(result, Err(AppError::TokenInvalid)), "{result:?}");

    // Unknown, used or expired.
    let mut ports = Ports::new();
    ports.clock_at(now());
    token_shape(&mut ports, true);
    ports
        .email_tokens
        .expect_find_email_verification()
        .returning(|_, _| Ok(None));
    ports.email_tokens.expect_verify_email().never();
    let roster = ports.build();
    let result = roster.verify_email(&secret(VERIFY_TOKEN), None).await;
    assert!(matches!(result, Err(AppError::TokenInvalid)), "{result:?}");

    // Used by a racing request between the read and the write.
    let mut ports = Ports::new();
    ports.clock_at(now());
    token_shape(&mut ports, true);
    ports
        .email_tokens
        .expect_find_email_verification()
        .returning(|_, _| Ok(Some(unverified_ada())));
    ports
        .email_tokens
        .expect_verify_email()
        .returning(|_, _, _, _| Ok(false));
    let roster = ports.build();
    let result = roster.verify_email(&secret(VERIFY_TOKEN), None).await;
    assert!(matches!(result, Err(AppError::TokenInvalid)), "{result:?}");
}

// ---------------------------------------------------------------------------------------------
// resend
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_resend_sends_a_new_link_only_to_an_active_unverified_account_with_the_same_work() {
    let verified = account("ada@example.com", AccountStatus::Active, false);
    let disabled = roster_domain::Account {
        status: AccountStatus::Disabled,
        ..unverified_ada()
    };
    let waiting = unverified_ada();
    for (found, gets_mail) in [
        (None, false),
        (Some(verified), false),
        (Some(disabled), false),
        (Some(waiting), true),
    ] {
        let mut ports = Ports::new();
        ports.clock_at(now());
        match &found {
            Some(account) => {
                ports.stored_account(account);
            }
            None => {
                ports.email_free("ada@example.com");
            }
        }
        let sealed = expect_the_same_work(&mut ports);
        let id = found.as_ref().map(|account| account.id);
        let recipient = gets_mail.then_some(id).flatten();
        ports
            .email_tokens
            .expect_request_email()
            .withf(move |request| is_verification_for(request, recipient))
            .times(1)
            .returning(|request| Ok(request.delivery.is_some()));
        let roster = ports.build();

        roster
            .resend_verification("ada@example.com", None)
            .await
            .unwrap();

        assert_eq!(recorded(&sealed).len(), 1, "{found:?}");
    }
}

#[tokio::test]
async fn a_resend_with_a_malformed_email_names_the_field() {
    let roster = Ports::new().build();
    let errors = field_errors(roster.resend_verification("nope", None).await);
    assert_eq!(errors[0].field, "email");
}
