use std::sync::Arc;

use chrono::Duration;
use roster_domain::AccountStatus;
use secrecy::ExposeSecret;

use super::super::test_support::{
    Calls, HASH, Ports, STRONG, account, now, recorded, secret, stored_account_helper,
};
use crate::error::AppError;
use crate::model::{
    AuditAction, EmailTokenPurpose, IssuedToken, MailDelivery, MailError, MailKind, MailMessage,
    PasswordHash, SealedMail, TokenDigest,
};

const RESET_TOKEN: &str = "rpr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const RESET_DIGEST: &str = "reset-digest";
const EMAIL_KEY: &str = "digest-of-ada@example.com";

/// The counter's key: the digest of the canonical email.
fn email_key(ports: &mut Ports) {
    ports
        .tokens
        .expect_digest()
        .withf(|text| text == "ada@example.com")
        .times(1)
        .returning(|_| TokenDigest::new(EMAIL_KEY));
}

/// The token source makes one reset token; the mailer seals one message, recording what it
/// was asked to say (kind, recipient, link).
fn expect_token_and_seal(ports: &mut Ports) -> Calls<(MailKind, String, String)> {
    ports
        .tokens
        .expect_new_email_token()
        .withf(|purpose| *purpose == EmailTokenPurpose::PasswordReset)
        .times(1)
        .returning(|_| IssuedToken {
            token: secret(RESET_TOKEN),
            digest: TokenDigest::new(RESET_DIGEST),
        });
    let calls: Calls<(MailKind, String, String)> = Calls::default();
    let sink = Arc::clone(&calls);
    ports
        .mailer
        .expect_seal()
        .times(1)
        .returning(move |message, id, at| {
            let MailMessage::PasswordReset {
                to,
                link,
                expires_at,
            } = message
            else {
                return Err(MailError("unexpected kind".into()));
            };
            assert_eq!(*expires_at, now() + Duration::minutes(30));
            sink.lock().unwrap().push((
                message.kind(),
                to.to_string(),
                link.expose_secret().to_owned(),
            ));
            Ok(SealedMail {
                id,
                kind: message.kind(),
                recipient: to.to_string(),
                sealed: "sealed".into(),
                created_at: at,
            })
        });
    calls
}

#[tokio::test]
async fn a_known_active_account_gets_a_link_in_the_fragment_of_the_console_page() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let mut ports = Ports::new();
    ports.clock_at(now());
    stored_account_helper(&mut ports, &ada);
    let sealed = expect_token_and_seal(&mut ports);
    email_key(&mut ports);
    let id = ada.id;
    ports
        .email_tokens
        .expect_request_email()
        .withf(move |request| {
            let Some(MailDelivery {
                mail,
                token: Some(token),
            }) = &request.delivery
            else {
                return false;
            };
            request.email_key.as_str() == EMAIL_KEY
                && request.purpose == EmailTokenPurpose::PasswordReset
                && request.at == now()
                && request.max_per_hour == 3
                && token.account == id
                && token.digest.as_str() == RESET_DIGEST
                && token.purpose == EmailTokenPurpose::PasswordReset
                && token.expires_at == now() + Duration::minutes(30)
                && mail.kind == MailKind::PasswordReset
        })
        .times(1)
        .returning(|_| Ok(true));
    let roster = ports.build();

    roster
        .request_password_reset("Ada@Example.com", None)
        .await
        .unwrap();

    assert_eq!(
        recorded(&sealed),
        vec![(
            MailKind::PasswordReset,
            "ada@example.com".to_owned(),
            format!("http://localhost:8080/console/password-reset#{RESET_TOKEN}"),
        )]
    );
}

#[tokio::test]
async fn unknown_and_disabled_accounts_cost_the_same_work_and_write_nothing() {
    // The same expensive ports run (one token, one sealed message, one write counting the
    // request for the address) on every path, and the answer is the same `Ok(())`.
    let disabled = account("ada@example.com", AccountStatus::Disabled, false);
    for known in [None, Some(disabled)] {
        let mut ports = Ports::new();
        ports.clock_at(now());
        match &known {
            Some(account) => {
                stored_account_helper(&mut ports, account);
            }
            None => {
                ports
                    .accounts
                    .expect_find_by_email()
                    .times(1)
                    .returning(|_| Ok(None));
            }
        }
        let sealed = expect_token_and_seal(&mut ports);
        email_key(&mut ports);
        ports
            .email_tokens
            .expect_request_email()
            .withf(|request| {
                request.email_key.as_str() == EMAIL_KEY
                    && request.purpose == EmailTokenPurpose::PasswordReset
                    && request.delivery.is_none()
            })
            .times(1)
            .returning(|_| Ok(false));
        let roster = ports.build();

        roster
            .request_password_reset("ada@example.com", None)
            .await
            .unwrap();

        assert_eq!(recorded(&sealed).len(), 1, "{known:?}");
    }
}

#[tokio::test]
async fn a_malformed_email_is_refused_naming_the_field() {
    let roster = Ports::new().build();
    let result = roster.request_password_reset("not an email", None).await;
    let Err(AppError::Validation(errors)) = result else {
        panic!("{result:?}");
    };
    assert_eq!(errors[0].field, "email");
}

fn token_shape(ports: &mut Ports, well_formed: bool) {
    ports
        .tokens
        .expect_looks_like_email_token()
        .return_const(well_formed);
    ports
        .tokens
        .expect_digest()
        .returning(|_| TokenDigest::new(RESET_DIGEST));
}

#[tokio::test]
async fn confirming_sets_the_hash_in_one_store_call_with_the_audit_event() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let mut ports = Ports::new();
    ports.clock_at(now()).hash_ok(STRONG);
    token_shape(&mut ports, true);
    let found = ada.clone();
    ports
        .email_tokens
        .expect_find_password_reset()
        .times(1)
        .returning(move |_, _| Ok(Some(found.clone())));
    let id = ada.id;
    ports
        .email_tokens
        .expect_reset_password()
        .withf(move |digest, account, hash: &PasswordHash, at, audit| {
            digest.as_str() == RESET_DIGEST
                && *account == id
                && hash.as_str() == HASH
                && *at == now()
                && audit.action == AuditAction::PasswordResetByEmail
                && audit.detail.is_none()
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(true));
    let roster = ports.build();

    roster
        .confirm_password_reset(&secret(RESET_TOKEN), &secret(STRONG), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn dead_links_answer_token_invalid_before_the_password_is_looked_at() {
    // Malformed: no database call at all.
    let mut ports = Ports::new();
    token_shape(&mut ports, false);
    ports.email_tokens.expect_find_password_reset().never();
    let roster = ports.build();
    let result = roster
        .confirm_password_reset(&secret("rpr_short"), &secret("weak"), None)
        .await;
    assert!(matches!(result, Err(AppError::TokenInvalid)), "{result:?}");

    // Unknown, used or expired (the store finds no usable token): the weak password is not
    // reported, nothing is hashed.
    let mut ports = Ports::new();
    ports.clock_at(now());
    token_shape(&mut ports, true);
    ports
        .email_tokens
        .expect_find_password_reset()
        .returning(|_, _| Ok(None));
    ports.hasher.expect_hash().never();
    let roster = ports.build();
    let result = roster
        .confirm_password_reset(&secret(RESET_TOKEN), &secret("weak"), None)
        .await;
    assert!(matches!(result, Err(AppError::TokenInvalid)), "{result:?}");

    // Used by a racing confirmation between the read and the write.
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let mut ports = Ports::new();
    ports.clock_at(now()).hash_ok(STRONG);
    token_shape(&mut ports, true);
    ports
        .email_tokens
        .expect_find_password_reset()
        .returning(move |_, _| Ok(Some(ada.clone())));
    ports
        .email_tokens
        .expect_reset_password()
        .times(1)
        .returning(|_, _, _, _, _| Ok(false));
    let roster = ports.build();
    let result = roster
        .confirm_password_reset(&secret(RESET_TOKEN), &secret(STRONG), None)
        .await;
    assert!(matches!(result, Err(AppError::TokenInvalid)), "{result:?}");
}

#[tokio::test]
async fn a_weak_new_password_is_refused_naming_new_password() {
    let ada = account("ada@example.com", AccountStatus::Active, false);
    let mut ports = Ports::new();
    ports.clock_at(now());
    token_shape(&mut ports, true);
    ports
        .email_tokens
        .expect_find_password_reset()
        .returning(move |_, _| Ok(Some(ada.clone())));
    ports.email_tokens.expect_reset_password().never();
    let roster = ports.build();
    let result = roster
        .confirm_password_reset(&secret(RESET_TOKEN), &secret("short"), None)
        .await;
    let Err(AppError::Validation(errors)) = result else {
        panic!("{result:?}");
    };
    assert_eq!(errors[0].field, "new_password");
}

#[tokio::test]
async fn counters_are_forgotten_an_hour_after_their_window_opened_in_batches() {
    let mut ports = Ports::new();
    ports.clock_at(now());
    ports
        .email_tokens
        .expect_forget_stale_counters()
        .withf(|before, limit| *before == now() - Duration::hours(1) && *limit == 1000)
        .times(1)
        .returning(|_, _| Ok(4));
    let roster = ports.build();
    assert_eq!(roster.forget_old_email_counters().await.unwrap(), 4);
}
