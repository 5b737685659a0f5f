//! Invitations with mock ports: who may invite with what, the link, the lifetime, and
//! accepting a link. The mock ports and fixtures are in [`crate::usecases::test_support`].

use std::sync::Arc;

use chrono::Duration;
use mockall::predicate::eq;
use roster_domain::{AccountId, Email, PrincipalId, RoleName, ScopePath};
use secrecy::ExposeSecret;
use uuid::Uuid;

use super::{InvitationForm, MAX_INVITATION_TTL};
use crate::error::AppError;
use crate::model::{
    AuditAction, EmailTokenPurpose, Invitation, InvitationId, InvitedGrant, IssuedToken,
    MailMessage, SealedMail, TokenDigest,
};
use crate::usecases::GrantForm;
use crate::usecases::test_support::*;

const INVITE_TOKEN: &str = "rin_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const INVITE_DIGEST: &str = "invite-digest";

fn form(email: &str, grants: &[(&str, &str)], expires_in: Option<&str>) -> InvitationForm {
    InvitationForm {
        email: email.to_owned(),
        name: Some("Grace".to_owned()),
        grants: grants
            .iter()
            .map(|(role, scope)| GrantForm {
                role: (*role).to_owned(),
                scope: (*scope).to_owned(),
            })
            .collect(),
        expires_in: expires_in.map(str::to_owned),
    }
}

/// A token is issued and one invitation message sealed; returns the links it carried.
fn expect_token_and_seal(ports: &mut Ports) -> Calls<String> {
    ports
        .tokens
        .expect_new_email_token()
        .with(eq(EmailTokenPurpose::Invitation))
        .times(1)
        .returning(|_| IssuedToken {
            token: secret(INVITE_TOKEN),
            digest: TokenDigest::new(INVITE_DIGEST),
        });
    let links: Calls<String> = Calls::default();
    let sink = Arc::clone(&links);
    ports
        .mailer
        .expect_seal()
        .times(1)
        .returning(move |message, id, at| {
            let MailMessage::Invitation { link, .. } = message else {
                panic!("not an invitation: {message:?}");
            };
            sink.lock().unwrap().push(link.expose_secret().to_owned());
            Ok(SealedMail {
                id,
                kind: message.kind(),
                recipient: message.to().to_string(),
                sealed: "sealed".into(),
                created_at: at,
            })
        });
    links
}

fn superadmin() -> crate::usecases::Authenticated {
    actor(true, vec![])
}

#[tokio::test]
async fn an_invitation_is_stored_with_its_digest_grants_and_mail_in_one_call() {
    let mut ports = Ports::new();
    ports.clock_at(now()).email_free("grace@example.com");
    ports
        .roles
        .expect_find_role()
        .returning(|_| Ok(Some(role_record("viewer", vec![allow("read")]))));
    let links = expect_token_and_seal(&mut ports);
    ports
        .invitations
        .expect_insert_invitation()
        .withf(|invitation, digest, grants, mail, audit| {
            digest.as_str() == INVITE_DIGEST
                && invitation.expires_at == now() + Duration::days(7)
                && grants.len() == 1
                && grants[0].role.as_str() == "viewer"
                && mail.recipient == "Grace@Example.com"
                && audit.action == AuditAction::InvitationCreated
                && !audit.detail.as_deref().unwrap_or_default().contains("rin_")
        })
        .times(1)
        .returning(|_, _, _, _, _| Ok(()));
    let roster = ports.build();

    let invitation = roster
        .invite(
            &superadmin(),
            form("Grace@Example.com", &[("viewer", "acme")], None),
        )
        .await
        .unwrap();

    assert_eq!(invitation.grants.len(), 1);
    assert_eq!(
        recorded(&links),
        vec![format!(
            "http://localhost:8080/console/invitation#{INVITE_TOKEN}"
        )]
    );
}

#[tokio::test]
async fn a_delegate_cannot_invite_with_a_grant_it_could_not_give() {
    // May create accounts and manage grants on acme.berlin only.
    let delegate = actor(
        false,
        vec![
            grant(1, "*", vec![allow("account-create")]),
            grant(2, "acme.berlin", vec![allow("all")]),
        ],
    );
    let mut ports = Ports::new();
    ports.clock_at(now());
    ports
        .roles
        .expect_find_role()
        .returning(|_| Ok(Some(role_record("viewer", vec![allow("read")]))));
    ports.invitations.expect_insert_invitation().never();
    ports.mailer.expect_seal().never();
    let roster = ports.build();

    let result = roster
        .invite(
            &delegate,
            form("grace@example.com", &[("viewer", "acme")], None),
        )
        .await;
    assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
}

#[tokio::test]
async fn inviting_needs_account_create() {
    let reader = actor(false, vec![grant(1, "*", vec![allow("account-read")])]);
    let mut ports = Ports::new();
    ports.invitations.expect_insert_invitation().never();
    let roster = ports.build();
    let result = roster
        .invite(&reader, form("grace@example.com", &[], None))
        .await;
    assert!(matches!(result, Err(AppError::Forbidden)), "{result:?}");
}

#[tokio::test]
async fn a_lifetime_over_thirty_days_or_not_a_duration_names_expires_in() {
    for expires_in in ["31d", "soon", "0s"] {
        let ports = Ports::new();
        let roster = ports.build();
        let errors = field_errors(
            roster
                .invite(&superadmin(), form("not an email", &[], Some(expires_in)))
                .await,
        );
        assert_eq!(
            fields_and_codes(&errors),
            vec![
                ("email", "invalid_email"),
                ("expires_in", "invalid_duration")
            ],
            "{expires_in}"
        );
    }
    assert_eq!(MAX_INVITATION_TTL, Duration::days(30));
}

fn pending(grants: Vec<InvitedGrant>) -> Invitation {
    Invitation {
        id: InvitationId::new(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0077)),
        email: Email::parse("Grace@Example.com").unwrap(),
        name: None,
        grants,
        created_at: now() - Duration::days(1),
        created_by: Some(PrincipalId::Account(AccountId::new(Uuid::from_u128(0xad)))),
        expires_at: now() + Duration::days(6),
        accepted_at: None,
        account_id: None,
        revoked_at: None,
    }
}

#[tokio::test]
async fn a_token_of_another_shape_is_refused_before_any_lookup() {
    let mut ports = Ports::new();
    ports
        .tokens
        .expect_looks_like_email_token()
        .return_const(false);
    ports.invitations.expect_find_pending_invitation().never();
    ports.hasher.expect_hash().never();
    let roster = ports.build();
    let result = roster
        .accept_invitation(&secret("rpr_whatever"), &secret(STRONG), None, None)
        .await;
    assert!(matches!(result, Err(AppError::TokenInvalid)), "{result:?}");
}

#[tokio::test]
async fn a_dead_link_is_token_invalid_whatever_the_password() {
    let mut ports = Ports::new();
    ports.clock_at(now());
    ports
        .tokens
        .expect_looks_like_email_token()
        .return_const(true);
    ports
        .tokens
        .expect_digest()
        .returning(|_| TokenDigest::new(INVITE_DIGEST));
    ports
        .invitations
        .expect_find_pending_invitation()
        .times(1)
        .returning(|_, _| Ok(None));
    ports.hasher.expect_hash().never();
    let roster = ports.build();
    let result = roster
        .accept_invitation(&secret(INVITE_TOKEN), &secret("short"), None, None)
        .await;
    assert!(matches!(result, Err(AppError::TokenInvalid)), "{result:?}");
}

#[tokio::test]
async fn accepting_creates_a_verified_account_with_exactly_the_invited_grants() {
    let invited = vec![InvitedGrant {
        role: RoleName::parse("viewer").unwrap(),
        scope: ScopePath::parse("acme").unwrap(),
    }];
    let invitation = pending(invited);
    let mut ports = Ports::new();
    ports
        .clock_at(now())
        .email_free("grace@example.com")
        .hash_ok(STRONG);
    ports
        .tokens
        .expect_looks_like_email_token()
        .return_const(true);
    ports
        .tokens
        .expect_digest()
        .returning(|_| TokenDigest::new(INVITE_DIGEST));
    let found = invitation.clone();
    ports
        .invitations
        .expect_find_pending_invitation()
        .returning(move |_, _| Ok(Some(found.clone())));
    ports
        .roles
        .expect_find_role()
        .returning(|_| Ok(Some(role_record("viewer", vec![allow("read")]))));
    let id = invitation.id;
    ports
        .invitations
        .expect_accept_invitation()
        .withf(move |invitation, digest, account, _, grants, audit| {
            *invitation == id
                && digest.as_str() == INVITE_DIGEST
                && account.email_verified
                && !account.is_superadmin
                && account
                    .name
                    .as_ref()
                    .map(roster_domain::DisplayName::as_str)
                    == Some("Grace Hopper")
                && grants.len() == 1
                && grants[0].scope.to_string() == "acme"
                && audit.action == AuditAction::InvitationAccepted
        })
        .times(1)
        .returning(|_, _, _, _, _, _| Ok(true));
    let roster = ports.build();

    let accepted = roster
        .accept_invitation(
            &secret(INVITE_TOKEN),
            &secret(STRONG),
            Some("Grace Hopper"),
            None,
        )
        .await
        .unwrap();
    assert!(accepted.account.email_verified);
    assert_eq!(accepted.grants.len(), 1);
}

#[tokio::test]
async fn a_weak_password_names_password_and_writes_nothing() {
    let invitation = pending(vec![]);
    let mut ports = Ports::new();
    ports.clock_at(now());
    ports
        .tokens
        .expect_looks_like_email_token()
        .return_const(true);
    ports
        .tokens
        .expect_digest()
        .returning(|_| TokenDigest::new(INVITE_DIGEST));
    ports
        .invitations
        .expect_find_pending_invitation()
        .returning(move |_, _| Ok(Some(invitation.clone())));
    ports.invitations.expect_accept_invitation().never();
    ports.hasher.expect_hash().never();
    let roster = ports.build();
    let errors = field_errors(
        roster
            .accept_invitation(&secret(INVITE_TOKEN), &secret("short"), None, None)
            .await,
    );
    assert_eq!(errors[0].field, "password");
}
