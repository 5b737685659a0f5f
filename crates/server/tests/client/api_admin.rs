//! The client's administration methods against the real service: accounts, roles, grants,
//! API keys and the audit trail, each with a refusal carrying its problem code and a walk
//! through the pages of its list.

use std::collections::HashSet;
use std::hash::Hash;

use roster_client::{
    AccountQuery, AccountStatus, AuditAction, AuditQuery, Client, Effect, ExposeSecret,
    GrantRequest, LoginOutcome, NewAccount, NewApiKey, NewRole, Page, PageRequest, ProblemCode,
    RoleContent, Rule,
};
use uuid::Uuid;

use crate::on_both_databases;
use crate::process::{PASSWORD, unique_email};
use crate::refusals::{invalid_field, refused};
use crate::support::{Db, ROOT_EMAIL, Roster};

const NEW_PASSWORD: &str = "violet submarine tangerine lantern";

on_both_databases!(
    accounts_are_created_found_paged_disabled_enabled_and_given_a_password,
    roles_are_created_read_paged_replaced_and_deleted,
    grants_of_accounts_and_api_keys_are_given_listed_and_taken_away,
    an_api_key_is_shown_once_works_as_a_token_and_stops_when_revoked,
    the_audit_trail_is_filtered_by_actor_and_action_and_paged,
);

/// Every item of a list, read `per_page` at a time through `next_cursor`; asserts no page
/// is larger than asked and no item comes twice.
async fn walk<T, K, F, Fut>(per_page: u32, key: impl Fn(&T) -> K, mut read: F) -> Vec<T>
where
    K: Eq + Hash + std::fmt::Debug,
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, roster_client::Error>>,
{
    let mut request = PageRequest::default().limit(per_page);
    let mut items = Vec::new();
    let mut pages = 0;
    loop {
        let page = read(request.clone()).await.unwrap();
        pages += 1;
        assert!(
            page.items.len() <= per_page as usize,
            "page {pages} too long"
        );
        assert!(pages < 100, "the cursor never ends");
        let next = request.next_of(&page);
        items.extend(page.items);
        match next {
            Some(next) => request = next,
            None => break,
        }
    }
    let mut seen = HashSet::new();
    for item in &items {
        let key = key(item);
        assert!(!seen.contains(&key), "{key:?} on two pages");
        seen.insert(key);
    }
    items
}

async fn logs_in(roster: &Roster, email: &str, password: &str) -> bool {
    match roster.client().login(email, password).await {
        Ok(LoginOutcome::Session(_)) => true,
        Ok(LoginOutcome::SecondFactor(_)) => panic!("{email} has no second factor"),
        Err(error) => {
            assert_eq!(
                error.code(),
                Some(&ProblemCode::InvalidCredentials),
                "{error}"
            );
            false
        }
    }
}

async fn accounts_are_created_found_paged_disabled_enabled_and_given_a_password(db: Db) {
    let Some(roster) = Roster::start(db, &[]) else {
        return;
    };
    let root = roster.root().await;
    root.create_role(&NewRole::new("viewer", vec![Rule::allow("doc-read")]))
        .await
        .unwrap();

    let email = unique_email("ada");
    let ada = root
        .register_account(
            &NewAccount::new(&email, PASSWORD)
                .name("Ada")
                .grant("viewer", "acme"),
        )
        .await
        .unwrap();
    assert_eq!(ada.account.email, email);
    assert_eq!(ada.account.name.as_deref(), Some("Ada"));
    assert_eq!(ada.account.status, AccountStatus::Active);
    assert!(ada.account.email_verified && !ada.account.is_superadmin);
    let granted: Vec<_> = ada.grants.iter().map(|g| (&*g.role, &*g.scope)).collect();
    assert_eq!(granted, [("viewer", "acme")]);
    let id = ada.account.id;

    // Refusals carry their code, and name the field that is wrong.
    refused(
        root.register_account(&NewAccount::new(email.to_uppercase(), PASSWORD))
            .await,
        &ProblemCode::EmailTaken,
    );
    invalid_field(
        root.register_account(&NewAccount::new(unique_email("weak"), "short"))
            .await,
        "password",
    );
    refused(
        root.register_account(&NewAccount::new(unique_email("x"), PASSWORD).grant("nope", "*"))
            .await,
        &ProblemCode::RoleNotFound,
    );
    refused(root.account(Uuid::now_v7()).await, &ProblemCode::NotFound);
    refused(
        roster.client().accounts(&AccountQuery::default()).await,
        &ProblemCode::Unauthenticated,
    );
    let ada_client = roster
        .client()
        .with_token(roster.session_token(&email).await);
    refused(
        ada_client.accounts(&AccountQuery::default()).await,
        &ProblemCode::Forbidden,
    );

    // Found by email whatever its case; read with its grants.
    let found = root
        .accounts(&AccountQuery::default().email(email.to_uppercase()))
        .await
        .unwrap();
    assert_eq!(found.items, std::slice::from_ref(&ada.account));
    assert_eq!(found.next_cursor, None);
    let read = root.account(id).await.unwrap();
    assert_eq!(read.account, ada.account);
    assert_eq!(read.grants.len(), 1);
    assert_eq!(read.grants[0].id, ada.grants[0].id);

    // Every account, one per page: the super admin, Ada and two more, oldest first.
    let mut created = vec![ada.account.id];
    for prefix in ["bob", "cy"] {
        let account = root
            .register_account(&NewAccount::new(unique_email(prefix), PASSWORD))
            .await
            .unwrap();
        created.push(account.account.id);
    }
    let all = walk(
        1,
        |account: &roster_client::Account| account.id,
        |page| {
            let root = root.clone();
            async move { root.accounts(&AccountQuery::default().page(page)).await }
        },
    )
    .await;
    assert_eq!(all.len(), 4);
    assert_eq!(all[0].email, ROOT_EMAIL);
    assert_eq!(all[1..].iter().map(|a| a.id).collect::<Vec<_>>(), created);

    // Disabled: its session ends and it cannot log in; enabled: it can again.
    let disabled = root.disable_account(id).await.unwrap();
    assert_eq!(disabled.status, AccountStatus::Disabled);
    assert!(ada_client.me().await.unwrap_err().is_unauthenticated());
    assert!(!logs_in(&roster, &email, PASSWORD).await);
    let enabled = root.enable_account(id).await.unwrap();
    assert_eq!(enabled.status, AccountStatus::Active);
    assert!(logs_in(&roster, &email, PASSWORD).await);

    // A new password from an administrator.
    invalid_field(
        root.reset_account_password(id, "short").await,
        "new_password",
    );
    root.reset_account_password(id, NEW_PASSWORD).await.unwrap();
    assert!(logs_in(&roster, &email, NEW_PASSWORD).await);
    assert!(!logs_in(&roster, &email, PASSWORD).await);
}

async fn roles_are_created_read_paged_replaced_and_deleted(db: Db) {
    let Some(roster) = Roster::start(db, &[]) else {
        return;
    };
    let root = roster.root().await;
    let issuer = root
        .create_role(
            &NewRole::new(
                "issuer-admin",
                vec![Rule::allow("issuer-*"), Rule::deny("issuer-key-delete")],
            )
            .description("Runs a tenant's issuer."),
        )
        .await
        .unwrap();
    assert_eq!(issuer.name, "issuer-admin");
    assert_eq!(issuer.description, "Runs a tenant's issuer.");
    let effects: Vec<_> = issuer
        .permissions
        .iter()
        .map(|rule| (&*rule.action, rule.effect))
        .collect();
    assert_eq!(
        effects,
        [
            ("issuer-*", Some(Effect::Allow)),
            ("issuer-key-delete", Some(Effect::Deny))
        ]
    );
    // Without a description, the role has an empty one.
    let plain = root
        .create_role(&NewRole::new("viewer", vec![Rule::allow("doc-read")]))
        .await
        .unwrap();
    assert_eq!(plain.description, "");

    refused(
        root.create_role(&NewRole::new("viewer", Vec::new())).await,
        &ProblemCode::RoleExists,
    );
    invalid_field(
        root.create_role(&NewRole::new("Not A Name", Vec::new()))
            .await,
        "name",
    );
    assert_eq!(root.role("issuer-admin").await.unwrap(), issuer);
    // A name is one path segment: this is no role, not `issuer-admin` with a query.
    refused(
        root.role("issuer-admin?limit=1").await,
        &ProblemCode::NotFound,
    );
    refused(root.role("../features").await, &ProblemCode::NotFound);

    // In name order, two per page.
    root.create_role(&NewRole::new("auditor", vec![Rule::allow("audit-read")]))
        .await
        .unwrap();
    let names: Vec<String> = walk(
        2,
        |role: &roster_client::Role| role.name.clone(),
        |page| {
            let root = root.clone();
            async move { root.roles(&page).await }
        },
    )
    .await
    .into_iter()
    .map(|role| role.name)
    .collect();
    assert_eq!(names, ["auditor", "issuer-admin", "viewer"]);

    let replaced = root
        .replace_role(
            "issuer-admin",
            &RoleContent::new(vec![Rule::allow("issuer-read")]).description("Reads."),
        )
        .await
        .unwrap();
    assert_eq!(replaced.description, "Reads.");
    assert_eq!(replaced.permissions.len(), 1);
    assert_eq!(replaced.created_at, issuer.created_at);
    assert_eq!(root.role("issuer-admin").await.unwrap(), replaced);
    refused(
        root.replace_role("nope", &RoleContent::new(Vec::new()))
            .await,
        &ProblemCode::NotFound,
    );

    // A held role stays until its last grant goes.
    let holder = root
        .register_account(&NewAccount::new(unique_email("holder"), PASSWORD).grant("viewer", "*"))
        .await
        .unwrap();
    refused(root.delete_role("viewer").await, &ProblemCode::RoleInUse);
    root.delete_account_grant(holder.account.id, holder.grants[0].id)
        .await
        .unwrap();
    root.delete_role("viewer").await.unwrap();
    refused(root.role("viewer").await, &ProblemCode::NotFound);
    refused(root.delete_role("viewer").await, &ProblemCode::NotFound);
}

async fn grants_of_accounts_and_api_keys_are_given_listed_and_taken_away(db: Db) {
    let Some(roster) = Roster::start(db, &[]) else {
        return;
    };
    let root = roster.root().await;
    root.create_role(&NewRole::new("viewer", vec![Rule::allow("doc-read")]))
        .await
        .unwrap();
    let root_id = root.me().await.unwrap().account.unwrap().id;
    let holder_email = unique_email("holder");
    let holder = root
        .register_account(&NewAccount::new(&holder_email, PASSWORD))
        .await
        .unwrap()
        .account
        .id;

    let mut given = Vec::new();
    for scope in ["acme", "acme.berlin", "globex"] {
        let grant = root
            .grant_to_account(holder, &GrantRequest::new("viewer", scope))
            .await
            .unwrap();
        assert_eq!((&*grant.role, &*grant.scope), ("viewer", scope));
        assert_eq!(grant.created_by, Some(format!("account:{root_id}")));
        given.push(grant.id);
    }
    refused(
        root.grant_to_account(holder, &GrantRequest::new("viewer", "acme"))
            .await,
        &ProblemCode::GrantExists,
    );
    invalid_field(
        root.grant_to_account(holder, &GrantRequest::new("viewer", "Not A Scope"))
            .await,
        "scope",
    );
    refused(
        root.grant_to_account(holder, &GrantRequest::new("nope", "acme"))
            .await,
        &ProblemCode::RoleNotFound,
    );
    refused(
        root.grant_to_account(Uuid::now_v7(), &GrantRequest::new("viewer", "acme"))
            .await,
        &ProblemCode::NotFound,
    );
    // Without `grant-manage`, the holder cannot give itself more.
    let holder_client = roster
        .client()
        .with_token(roster.session_token(&holder_email).await);
    refused(
        holder_client
            .grant_to_account(holder, &GrantRequest::new("viewer", "initech"))
            .await,
        &ProblemCode::Forbidden,
    );

    let listed = walk(
        2,
        |grant: &roster_client::Grant| grant.id,
        |page| {
            let root = root.clone();
            async move { root.account_grants(holder, &page).await }
        },
    )
    .await;
    assert_eq!(listed.iter().map(|g| g.id).collect::<Vec<_>>(), given);
    root.delete_account_grant(holder, given[1]).await.unwrap();
    let left = root
        .account_grants(holder, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(
        left.items.iter().map(|g| g.id).collect::<Vec<_>>(),
        [given[0], given[2]]
    );
    refused(
        root.delete_account_grant(holder, given[1]).await,
        &ProblemCode::NotFound,
    );

    // The same for an API key.
    let key = root.create_api_key(&NewApiKey::new("svc")).await.unwrap();
    let grant = root
        .grant_to_api_key(key.id, &GrantRequest::new("viewer", "acme"))
        .await
        .unwrap();
    refused(
        root.grant_to_api_key(key.id, &GrantRequest::new("viewer", "acme"))
            .await,
        &ProblemCode::GrantExists,
    );
    let listed = root
        .api_key_grants(key.id, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.items, std::slice::from_ref(&grant));
    root.delete_api_key_grant(key.id, grant.id).await.unwrap();
    assert!(
        root.api_key_grants(key.id, &PageRequest::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    refused(
        root.delete_api_key_grant(key.id, grant.id).await,
        &ProblemCode::NotFound,
    );
}

async fn an_api_key_is_shown_once_works_as_a_token_and_stops_when_revoked(db: Db) {
    let Some(roster) = Roster::start(db, &[]) else {
        return;
    };
    let root = roster.root().await;
    root.create_role(&NewRole::new("reader", vec![Rule::allow("account-read")]))
        .await
        .unwrap();
    let created = root
        .create_api_key(
            &NewApiKey::new("reporting")
                .expires_in("30d")
                .grant("reader", "*"),
        )
        .await
        .unwrap();
    let key = created.key.expose_secret().to_owned();
    assert!(key.starts_with("rak_"), "a key, not {}", key.len());
    let secret = key.rsplit('_').next().unwrap();
    assert!(
        !format!("{created:?}").contains(secret),
        "redacted in Debug"
    );
    assert!(created.expires_at.is_some());
    assert_eq!(created.grants.len(), 1);

    // The secret is a bearer token of its own.
    let machine: Client = roster.client().with_token(key);
    let me = machine.me().await.unwrap();
    assert_eq!(me.api_key.map(|k| k.id), Some(created.id));
    assert!(me.account.is_none());
    let accounts = machine.accounts(&AccountQuery::default()).await.unwrap();
    assert_eq!(accounts.items[0].email, ROOT_EMAIL);
    refused(
        machine.roles(&PageRequest::default()).await,
        &ProblemCode::Forbidden,
    );

    let read = root.api_key(created.id).await.unwrap();
    assert_eq!(read.api_key.name, "reporting");
    assert!(!read.api_key.revoked);
    assert_eq!(read.grants[0].id, created.grants[0].id);
    let second = root.create_api_key(&NewApiKey::new("ci")).await.unwrap();
    let listed = walk(
        1,
        |key: &roster_client::ApiKey| key.id,
        |page| {
            let root = root.clone();
            async move { root.api_keys(&page).await }
        },
    )
    .await;
    assert_eq!(
        listed.iter().map(|k| k.id).collect::<Vec<_>>(),
        [created.id, second.id]
    );
    invalid_field(
        root.create_api_key(&NewApiKey::new("later").expires_in("1y"))
            .await,
        "expires_in",
    );

    root.revoke_api_key(created.id).await.unwrap();
    assert!(machine.me().await.unwrap_err().is_unauthenticated());
    assert!(root.api_key(created.id).await.unwrap().api_key.revoked);
    // Revoking again changes nothing; an unknown key is not found.
    root.revoke_api_key(created.id).await.unwrap();
    refused(root.api_key(Uuid::now_v7()).await, &ProblemCode::NotFound);
    refused(
        root.revoke_api_key(Uuid::now_v7()).await,
        &ProblemCode::NotFound,
    );
}

async fn the_audit_trail_is_filtered_by_actor_and_action_and_paged(db: Db) {
    let Some(roster) = Roster::start(db, &[]) else {
        return;
    };
    let root = roster.root().await;
    let actor = format!("account:{}", root.me().await.unwrap().account.unwrap().id);
    for name in ["audited-a", "audited-b"] {
        root.create_role(&NewRole::new(name, Vec::new()))
            .await
            .unwrap();
    }
    assert!(!logs_in(&roster, ROOT_EMAIL, "not the right password at all").await);

    let created = root
        .audit_events(&AuditQuery::default().action(AuditAction::RoleCreated))
        .await
        .unwrap();
    let targets: Vec<_> = created.items.iter().map(|e| e.target.as_deref()).collect();
    assert_eq!(targets, [Some("role:audited-b"), Some("role:audited-a")]);
    assert!(
        created
            .items
            .iter()
            .all(|e| e.action == AuditAction::RoleCreated && e.actor.as_ref() == Some(&actor))
    );
    let failed = root
        .audit_events(&AuditQuery::default().action(AuditAction::LoginFailed))
        .await
        .unwrap();
    assert_eq!(failed.items.len(), 1);
    assert_eq!(failed.items[0].actor, None);
    assert_eq!(
        failed.items[0].target.as_deref(),
        Some(format!("email:{ROOT_EMAIL}").as_str())
    );
    let by_root = root
        .audit_events(&AuditQuery::default().actor(actor.clone()))
        .await
        .unwrap();
    assert!(
        by_root
            .items
            .iter()
            .all(|e| e.actor.as_ref() == Some(&actor))
    );
    assert!(
        by_root
            .items
            .iter()
            .any(|e| e.action == AuditAction::LoginSucceeded)
    );

    // Newest first, two per page, the same events as one long page.
    let everything = root
        .audit_events(&AuditQuery::default().page(PageRequest::default().limit(200)))
        .await
        .unwrap();
    assert_eq!(everything.next_cursor, None);
    let walked = walk(
        2,
        |event: &roster_client::AuditEvent| event.id,
        |page| {
            let root = root.clone();
            async move { root.audit_events(&AuditQuery::default().page(page)).await }
        },
    )
    .await;
    assert!(walked.len() >= 5, "{walked:?}");
    assert_eq!(walked, everything.items);
    assert!(walked.windows(2).all(|pair| pair[0].at >= pair[1].at));

    let unknown = refused(
        root.audit_events(&AuditQuery::default().action(AuditAction::Other("made.up".into())))
            .await,
        &ProblemCode::InvalidQuery,
    );
    assert_eq!(unknown.errors[0].field, "action");
}
