//! The client's self-service methods against the real service: registering under the
//! policy, verifying the address and resetting a password by emailed link, and an account's
//! own sessions and password.

use std::time::{Duration, Instant};

use roster_client::{
    Client, EmailVerification, ExposeSecret, LoginOutcome, NewAccount, NewApiKey, ProblemCode,
    RegistrationOutcome, Session,
};

use crate::on_both_databases;
use crate::outbox::{QUICK_MAIL, emailed_token};
use crate::process::{PASSWORD, unique_email};
use crate::refusals::{invalid_field, refused};
use crate::support::{Db, Roster};

const NEW_PASSWORD: &str = "violet submarine tangerine lantern";
on_both_databases!(
    registration_follows_the_policy_and_the_address_is_verified_by_link,
    enumeration_safe_registration_answers_check_your_email,
    own_sessions_are_listed_and_revoked_and_the_password_changed,
    a_forgotten_password_is_reset_by_emailed_link,
);

/// Switches `account-registration` on or off in the features file and waits until the
/// service says so (the file is polled; a deadline, not a timing assertion).
async fn switch_registration(roster: &Roster, open: bool) {
    let (enabled, disabled) = if open {
        ("account-registration", "")
    } else {
        ("", "account-registration")
    };
    roster.workdir.write_features(&format!(
        "enabledFeatures = [\n    {enabled}\n]\n\ndisabledFeatures = [\n    {disabled}\n]\n"
    ));
    let deadline = Instant::now() + Duration::from_secs(30);
    while roster.client().registration_policy().await.unwrap().open != open {
        assert!(
            Instant::now() < deadline,
            "registration never became {open}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn session(roster: &Roster, email: &str, password: &str) -> Box<Session> {
    match roster.client().login(email, password).await.unwrap() {
        LoginOutcome::Session(session) => session,
        LoginOutcome::SecondFactor(_) => panic!("{email} has no second factor"),
    }
}

async fn registration_follows_the_policy_and_the_address_is_verified_by_link(db: Db) {
    let settings = [
        QUICK_MAIL,
        ("ROSTER__REGISTRATION__EMAIL_VERIFICATION", "required"),
    ];
    let Some(roster) = Roster::start(db, &settings) else {
        return;
    };
    let public = roster.client();
    switch_registration(&roster, false).await;
    let policy = public.registration_policy().await.unwrap();
    assert!(!policy.open);
    assert!(policy.allowed_domains.is_empty());
    assert_eq!(policy.email_verification, EmailVerification::Required);
    assert_eq!(
        (policy.password.min_length, policy.password.max_length),
        (15, 128)
    );
    let email = unique_email("ada");
    refused(
        public.register(&email, PASSWORD, None).await,
        &ProblemCode::FeatureDisabled,
    );

    switch_registration(&roster, true).await;
    let RegistrationOutcome::Created(account) = public
        .register(&email, PASSWORD, Some("Ada"))
        .await
        .unwrap()
    else {
        panic!("created, not mailed");
    };
    assert_eq!(account.email, email);
    assert_eq!(account.name.as_deref(), Some("Ada"));
    assert!(!account.email_verified);
    refused(
        public.register(&email, PASSWORD, None).await,
        &ProblemCode::EmailTaken,
    );
    invalid_field(
        public.register(&unique_email("weak"), "short", None).await,
        "password",
    );
    refused(
        public.login(&email, PASSWORD).await,
        &ProblemCode::EmailUnverified,
    );

    // A second link; the first still works, and using it ends both.
    public.resend_verification(&email).await.unwrap();
    public
        .resend_verification(&unique_email("nobody"))
        .await
        .unwrap();
    let first = emailed_token(&roster, &email, "verify-email", 1).await;
    let second = emailed_token(&roster, &email, "verify-email", 2).await;
    let verified = public.verify_email(&first).await.unwrap();
    assert_eq!(verified.id, account.id);
    assert!(verified.email_verified);
    refused(
        public.verify_email(&second).await,
        &ProblemCode::TokenInvalid,
    );
    session(&roster, &email, PASSWORD).await;
}

async fn enumeration_safe_registration_answers_check_your_email(db: Db) {
    let settings = [
        QUICK_MAIL,
        ("ROSTER__REGISTRATION__ENUMERATION_SAFE", "true"),
    ];
    let Some(roster) = Roster::start(db, &settings) else {
        return;
    };
    let public = roster.client();
    assert!(
        public.registration_policy().await.unwrap().open,
        "open by default"
    );
    let email = unique_email("ada");
    for _ in 0..2 {
        assert_eq!(
            public.register(&email, PASSWORD, None).await.unwrap(),
            RegistrationOutcome::CheckYourEmail,
            "the same answer for a new and a taken address"
        );
    }
    let link = emailed_token(&roster, &email, "verify-email", 1).await;
    assert!(public.verify_email(&link).await.unwrap().email_verified);
}

async fn own_sessions_are_listed_and_revoked_and_the_password_changed(db: Db) {
    let Some(roster) = Roster::start(db, &[]) else {
        return;
    };
    let root = roster.root().await;
    let email = unique_email("sam");
    root.register_account(&NewAccount::new(&email, PASSWORD))
        .await
        .unwrap();
    let laptop_session = session(&roster, &email, PASSWORD).await;
    let phone_session = session(&roster, &email, PASSWORD).await;
    let laptop = roster
        .client()
        .with_token(laptop_session.token.expose_secret());
    let phone = roster
        .client()
        .with_token(phone_session.token.expose_secret());

    let sessions = laptop.my_sessions().await.unwrap();
    assert_eq!(sessions.next_cursor, None);
    let mut ids: Vec<_> = sessions.items.iter().map(|s| s.id).collect();
    ids.sort();
    let mut expected = vec![laptop_session.session_id, phone_session.session_id];
    expected.sort();
    assert_eq!(ids, expected);
    let current: Vec<_> = sessions.items.iter().filter(|s| s.current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].id, laptop_session.session_id);
    assert_eq!(current[0].auth_methods, ["pwd"]);
    assert!(
        current[0]
            .user_agent
            .as_deref()
            .is_some_and(|agent| agent.starts_with("roster-client/")),
        "{:?}",
        current[0].user_agent
    );

    laptop
        .revoke_my_session(phone_session.session_id)
        .await
        .unwrap();
    assert!(phone.me().await.unwrap_err().is_unauthenticated());
    assert_eq!(laptop.my_sessions().await.unwrap().items.len(), 1);
    refused(
        laptop.revoke_my_session(phone_session.session_id).await,
        &ProblemCode::NotFound,
    );

    // A wrong current password names its field; the right one changes it, and the calling
    // session stays.
    invalid_field(
        laptop
            .change_my_password("not my password at all", NEW_PASSWORD)
            .await,
        "current_password",
    );
    invalid_field(
        laptop.change_my_password(PASSWORD, "short").await,
        "new_password",
    );
    laptop
        .change_my_password(PASSWORD, NEW_PASSWORD)
        .await
        .unwrap();
    laptop.me().await.unwrap();
    session(&roster, &email, NEW_PASSWORD).await;
    refused(
        roster.client().login(&email, PASSWORD).await,
        &ProblemCode::InvalidCredentials,
    );

    // An API key has no sessions.
    let key = root.create_api_key(&NewApiKey::new("svc")).await.unwrap();
    let machine: Client = roster.client().with_token(key.key.expose_secret());
    refused(machine.my_sessions().await, &ProblemCode::Unauthenticated);
}

async fn a_forgotten_password_is_reset_by_emailed_link(db: Db) {
    let Some(roster) = Roster::start(db, &[QUICK_MAIL]) else {
        return;
    };
    let root = roster.root().await;
    let email = unique_email("fay");
    root.register_account(&NewAccount::new(&email, PASSWORD))
        .await
        .unwrap();
    let public = roster.client();
    public.request_password_reset(&email).await.unwrap();
    public
        .request_password_reset(&unique_email("nobody"))
        .await
        .unwrap();
    invalid_field(public.request_password_reset("not an email").await, "email");

    let link = emailed_token(&roster, &email, "password-reset", 1).await;
    invalid_field(
        public.confirm_password_reset(&link, "short").await,
        "new_password",
    );
    public
        .confirm_password_reset(&link, NEW_PASSWORD)
        .await
        .unwrap();
    refused(
        public.confirm_password_reset(&link, NEW_PASSWORD).await,
        &ProblemCode::TokenInvalid,
    );
    session(&roster, &email, NEW_PASSWORD).await;
}
