//! Invitations through the client against the real service: invite, read the emailed link,
//! send it again, revoke, accept; each status filter and the refusals on the way.

use roster_client::{
    InvitationQuery, InvitationStatus, LoginOutcome, NewInvitation, NewRole, PageRequest,
    ProblemCode, Rule,
};
use uuid::Uuid;

use crate::on_both_databases;
use crate::outbox::{QUICK_MAIL, emailed_token};
use crate::process::{PASSWORD, unique_email};
use crate::refusals::{invalid_field, refused};
use crate::support::{Db, Roster};

on_both_databases!(invitations_are_sent_listed_resent_revoked_and_accepted);

async fn invitations_are_sent_listed_resent_revoked_and_accepted(db: Db) {
    let Some(roster) = Roster::start(db, &[QUICK_MAIL]) else {
        return;
    };
    let root = roster.root().await;
    root.create_role(&NewRole::new("viewer", vec![Rule::allow("doc-read")]))
        .await
        .unwrap();
    let email = unique_email("grace");
    let invitation = root
        .invite(
            &NewInvitation::new(&email)
                .name("Grace")
                .grant("viewer", "acme")
                .expires_in("3d"),
        )
        .await
        .unwrap();
    assert_eq!(invitation.status, InvitationStatus::Pending);
    assert_eq!(invitation.name.as_deref(), Some("Grace"));
    let invited: Vec<_> = invitation
        .grants
        .iter()
        .map(|g| (&*g.role, &*g.scope))
        .collect();
    assert_eq!(invited, [("viewer", "acme")]);
    assert_eq!(root.invitation(invitation.id).await.unwrap(), invitation);

    refused(
        root.invite(&NewInvitation::new(&email)).await,
        &ProblemCode::InvitationPending,
    );
    invalid_field(
        root.invite(&NewInvitation::new(unique_email("x")).expires_in("90d"))
            .await,
        "expires_in",
    );
    refused(
        root.invitation(Uuid::now_v7()).await,
        &ProblemCode::NotFound,
    );

    // Sent again: a new link, the first one dead, a new expiry from now.
    let first_link = emailed_token(&roster, &email, "invitation", 1).await;
    let resent = root
        .resend_invitation(invitation.id, Some("1d"))
        .await
        .unwrap();
    assert!(resent.expires_at < invitation.expires_at);
    let second_link = emailed_token(&roster, &email, "invitation", 2).await;
    assert_ne!(first_link, second_link);
    let public = roster.client();
    refused(
        public.accept_invitation(&first_link, PASSWORD, None).await,
        &ProblemCode::TokenInvalid,
    );
    invalid_field(
        public.accept_invitation(&second_link, "short", None).await,
        "password",
    );

    let accepted = public
        .accept_invitation(&second_link, PASSWORD, None)
        .await
        .unwrap();
    assert_eq!(accepted.account.email, email);
    assert_eq!(accepted.account.name.as_deref(), Some("Grace"));
    assert!(accepted.account.email_verified);
    let granted: Vec<_> = accepted
        .grants
        .iter()
        .map(|g| (&*g.role, &*g.scope))
        .collect();
    assert_eq!(granted, [("viewer", "acme")]);
    assert!(matches!(
        public.login(&email, PASSWORD).await.unwrap(),
        LoginOutcome::Session(_)
    ));
    assert_eq!(
        root.invitation(invitation.id).await.unwrap().status,
        InvitationStatus::Accepted
    );
    refused(
        root.revoke_invitation(invitation.id).await,
        &ProblemCode::InvitationAccepted,
    );

    // Another one, revoked: its link dies and it is not sent again.
    let other_email = unique_email("linus");
    let other = root
        .invite(&NewInvitation::new(&other_email))
        .await
        .unwrap();
    let other_link = emailed_token(&roster, &other_email, "invitation", 1).await;
    root.revoke_invitation(other.id).await.unwrap();
    root.revoke_invitation(other.id).await.unwrap();
    refused(
        public.accept_invitation(&other_link, PASSWORD, None).await,
        &ProblemCode::TokenInvalid,
    );
    refused(
        root.resend_invitation(other.id, None).await,
        &ProblemCode::InvitationRevoked,
    );

    // Filtered by status; newest first, one per page.
    let with_status = |status| {
        let root = root.clone();
        async move {
            root.invitations(&InvitationQuery::default().status(status))
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|i| i.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        with_status(InvitationStatus::Accepted).await,
        [invitation.id]
    );
    assert_eq!(with_status(InvitationStatus::Revoked).await, [other.id]);
    assert!(with_status(InvitationStatus::Pending).await.is_empty());
    assert!(with_status(InvitationStatus::Expired).await.is_empty());
    let first = root
        .invitations(&InvitationQuery::default().page(PageRequest::default().limit(1)))
        .await
        .unwrap();
    assert_eq!(first.items[0].id, other.id);
    let next = PageRequest::default()
        .limit(1)
        .next_of(&first)
        .expect("a second page");
    let second = root
        .invitations(&InvitationQuery::default().page(next))
        .await
        .unwrap();
    assert_eq!(second.items[0].id, invitation.id);
}
