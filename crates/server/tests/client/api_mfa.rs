//! A second factor by code through the client against the real service: an authenticator
//! app set up, a login in two steps, a step-up, recovery codes renewed, the app removed.
//! Codes are computed as an app would (totp-rs), never sent twice for the same step.

use std::time::{SystemTime, UNIX_EPOCH};

use roster_client::{ExposeSecret, LoginOutcome, NewAccount, ProblemCode};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::on_both_databases;
use crate::process::{PASSWORD, unique_email};
use crate::refusals::refused;
use crate::support::{Db, Roster};

on_both_databases!(a_second_factor_by_code_is_set_up_used_renewed_and_removed);

/// The code an authenticator app shows for `secret` (base32) `steps` steps from now.
fn code(secret: &str, steps: i64) -> String {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    let totp = TOTP::new_unchecked(Algorithm::SHA1, 6, 0, 30, bytes, None, String::new());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let at = i64::try_from(now).unwrap() + steps * 30;
    totp.generate(u64::try_from(at).unwrap())
}

async fn a_second_factor_by_code_is_set_up_used_renewed_and_removed(db: Db) {
    let Some(roster) = Roster::start(db, &[]) else {
        return;
    };
    let root = roster.root().await;
    let email = unique_email("ada");
    root.register_account(&NewAccount::new(&email, PASSWORD))
        .await
        .unwrap();
    let ada = roster
        .client()
        .with_token(roster.session_token(&email).await);
    let status = ada.my_mfa().await.unwrap();
    assert!(!status.totp && status.recovery_codes_left == 0 && status.passkeys.is_empty());

    let enrolment = ada.begin_totp().await.unwrap();
    let secret = enrolment.secret.expose_secret().to_owned();
    let uri = enrolment.otpauth_uri.expose_secret();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(
        !format!("{enrolment:?}").contains(&secret),
        "redacted in Debug"
    );
    // Ten steps ahead is no code the service accepts now.
    refused(
        ada.confirm_totp(&code(&secret, 10)).await,
        &ProblemCode::InvalidMfaCode,
    );
    let recovery = ada.confirm_totp(&code(&secret, 0)).await.unwrap();
    assert_eq!(recovery.len(), 10);
    refused(ada.begin_totp().await, &ProblemCode::MfaAlreadyEnrolled);
    let status = ada.my_mfa().await.unwrap();
    assert!(status.totp);
    assert_eq!(status.recovery_codes_left, 10);

    // A login takes two steps now; the second finishes it with the app's next code.
    let public = roster.client();
    let LoginOutcome::SecondFactor(step) = public.login(&email, PASSWORD).await.unwrap() else {
        panic!("a second step expected");
    };
    assert!(
        step.methods.iter().any(|m| m == "otp") && step.methods.iter().any(|m| m == "recovery"),
        "{:?}",
        step.methods
    );
    let mfa_token = step.mfa_token.expose_secret();
    refused(
        public
            .login_second_factor(mfa_token, &code(&secret, 10))
            .await,
        &ProblemCode::InvalidMfaCode,
    );
    let session = public
        .login_second_factor(mfa_token, &code(&secret, 1))
        .await
        .unwrap();
    assert_eq!(session.account.email, email);
    let signed_in = public.with_token(session.token.expose_secret());
    let sessions = signed_in.my_sessions().await.unwrap();
    let current = sessions.items.iter().find(|s| s.current).unwrap();
    assert_eq!(current.auth_methods, ["pwd", "otp"]);

    // The enrolling session never presented a second factor: changing factors needs a
    // step-up first, here with a recovery code (the app's codes are used up to step 1).
    refused(
        ada.remove_totp(PASSWORD).await,
        &ProblemCode::MfaStepUpRequired,
    );
    ada.step_up(recovery[0].expose_secret()).await.unwrap();
    refused(
        ada.step_up(recovery[0].expose_secret()).await,
        &ProblemCode::InvalidMfaCode,
    );

    let renewed = ada.renew_recovery_codes(PASSWORD).await.unwrap();
    assert_eq!(renewed.len(), 10);
    assert_eq!(ada.my_mfa().await.unwrap().recovery_codes_left, 10);
    refused(
        ada.step_up(recovery[1].expose_secret()).await,
        &ProblemCode::InvalidMfaCode,
    );
    ada.step_up(renewed[0].expose_secret()).await.unwrap();

    refused(
        ada.remove_totp("not the password at all").await,
        &ProblemCode::InvalidCredentials,
    );
    ada.remove_totp(PASSWORD).await.unwrap();
    let status = ada.my_mfa().await.unwrap();
    assert!(!status.totp && status.recovery_codes_left == 0);
    assert!(matches!(
        public.login(&email, PASSWORD).await.unwrap(),
        LoginOutcome::Session(_)
    ));
    refused(ada.step_up("1234-5678").await, &ProblemCode::MfaNotEnrolled);
}
