//! The privilege principle end to end (issue 12, findings 2-5 and 9): no administrative
//! permission short of super admin turns into more rights than its holder has, or works
//! against a principal who holds more than the caller.

use serde_json::{Value, json};

use crate::helpers::{Db, PASSWORD, TestApp, assert_problem, spawn_app};
use crate::on_both_databases;

on_both_databases!(
    role_manage_alone_cannot_widen_a_held_role,
    role_edits_are_checked_where_the_role_is_held,
    password_reset_and_disable_cannot_reach_a_stronger_account,
    a_deny_of_grant_manage_cannot_be_reached_around,
    a_delegate_cannot_lock_out_its_superior,
    a_key_manager_cannot_revoke_a_stronger_key,
    revoking_or_disabling_a_creator_is_weighed_with_its_keys,
);

const NEW_PASSWORD: &str = "an entirely different passphrase 42";

async fn me_id(app: &TestApp, token: &str) -> String {
    let me: Value = app
        .get_as("/v1/account/me", token)
        .await
        .json()
        .await
        .unwrap();
    me["account"]["id"].as_str().unwrap().to_owned()
}

async fn put_role(
    app: &TestApp,
    token: &str,
    name: &str,
    rules: &[(&str, &str)],
) -> reqwest::Response {
    let permissions: Vec<Value> = rules
        .iter()
        .map(|(action, effect)| json!({"action": action, "effect": effect}))
        .collect();
    app.put_json(
        &format!("/v1/admin/roles/{name}"),
        &json!({"name": name, "description": "edited", "permissions": permissions}),
        token,
    )
    .await
}

async fn role_manage_alone_cannot_widen_a_held_role(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    app.create_role(&root, "role-admin", &[("role-manage", "allow")])
        .await;
    app.create_role(&root, "issuer-reader", &[("issuer-read", "allow")])
        .await;
    let admin = app.new_account("role-admin").await;
    let user = app.new_account("user").await;
    app.grant_ok(&root, &admin.id, "role-admin", "*").await;
    app.grant_ok(&root, &user.id, "issuer-reader", "acme").await;

    // Its own role, widened to everything: refused, and nothing changed.
    let response = put_role(&app, &admin.token, "role-admin", &[("all", "allow")]).await;
    assert_problem(response, 403, "forbidden").await;
    assert!(!app.allowed(&admin.token, "account-read", "*").await);
    let response = app.get_as("/v1/admin/accounts", &admin.token).await;
    assert_eq!(response.status(), 403);

    // Somebody else's role, widened: refused too.
    let response = put_role(&app, &admin.token, "issuer-reader", &[("all", "allow")]).await;
    assert_problem(response, 403, "forbidden").await;
    assert!(!app.allowed(&user.token, "issuer-sign", "acme").await);

    // A role nobody holds, and a description of a held one, stay editable.
    app.create_role(&admin.token, "unused", &[("issuer-read", "allow")])
        .await;
    let response = put_role(&app, &admin.token, "unused", &[("all", "allow")]).await;
    assert_eq!(response.status(), 200);
    let response = put_role(
        &app,
        &admin.token,
        "issuer-reader",
        &[("issuer-read", "allow")],
    )
    .await;
    assert_eq!(response.status(), 200);
}

async fn role_edits_are_checked_where_the_role_is_held(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    app.create_role(
        &root,
        "org-admin",
        &[("grant-manage", "allow"), ("issuer-*", "allow")],
    )
    .await;
    app.create_role(&root, "role-admin", &[("role-manage", "allow")])
        .await;
    app.create_role(&root, "issuer-reader", &[("issuer-read", "allow")])
        .await;
    app.create_role(&root, "auditor", &[("audit-read", "allow")])
        .await;
    let delegate = app.new_account("delegate").await;
    let berliner = app.new_account("berliner").await;
    let auditor = app.new_account("auditor").await;
    app.grant_ok(&root, &delegate.id, "org-admin", "acme").await;
    app.grant_ok(&root, &delegate.id, "role-admin", "*").await;
    app.grant_ok(&root, &berliner.id, "issuer-reader", "acme.berlin")
        .await;

    // Held only on acme.berlin, and the new rules inside what the delegate holds there.
    let response = put_role(
        &app,
        &delegate.token,
        "issuer-reader",
        &[("issuer-sign", "allow")],
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(
        app.allowed(&berliner.token, "issuer-sign", "acme.berlin")
            .await
    );
    // Beyond what it holds there: refused.
    let rules = [("issuer-sign", "allow"), ("audit-read", "allow")];
    let response = put_role(&app, &delegate.token, "issuer-reader", &rules).await;
    assert_problem(response, 403, "forbidden").await;
    assert!(
        !app.allowed(&berliner.token, "audit-read", "acme.berlin")
            .await
    );

    // Once the role is also held outside acme, no edit of its rules by the delegate.
    app.grant_ok(&root, &auditor.id, "issuer-reader", "globex")
        .await;
    let response = put_role(
        &app,
        &delegate.token,
        "issuer-reader",
        &[("issuer-read", "allow")],
    )
    .await;
    assert_problem(response, 403, "forbidden").await;

    // A deny added to a role restricts its holders: refused against a holder who holds more
    // than the caller (the auditor reads the audit trail everywhere), even inside acme.
    let restricted = app.new_account("restricted").await;
    app.create_role(&root, "acme-reader", &[("issuer-read", "allow")])
        .await;
    app.grant_ok(&root, &restricted.id, "acme-reader", "acme.paris")
        .await;
    app.grant_ok(&root, &restricted.id, "auditor", "*").await;
    let rules = [("issuer-read", "allow"), ("all", "deny")];
    let response = put_role(&app, &delegate.token, "acme-reader", &rules).await;
    assert_problem(response, 403, "forbidden").await;
    assert!(
        app.allowed(&restricted.token, "audit-read", "acme.paris")
            .await
    );

    // A super admin may make any edit.
    let response = put_role(&app, &root, "issuer-reader", &[("all", "allow")]).await;
    assert_eq!(response.status(), 200);
}

async fn password_reset_and_disable_cannot_reach_a_stronger_account(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let root_id = me_id(&app, &root).await;
    app.create_role(
        &root,
        "helpdesk",
        &[
            ("account-password-reset", "allow"),
            ("account-disable", "allow"),
        ],
    )
    .await;
    app.create_role(&root, "issuer-operator", &[("issuer-*", "allow")])
        .await;
    let helpdesk = app.new_account("helpdesk").await;
    let operator = app.new_account("operator").await;
    let plain = app.new_account("plain").await;
    app.grant_ok(&root, &helpdesk.id, "helpdesk", "*").await;
    app.grant_ok(&root, &operator.id, "issuer-operator", "acme")
        .await;

    let reset = |id: &str| format!("/v1/admin/accounts/{id}/password");
    let body = json!({"new_password": NEW_PASSWORD});
    for (target, why) in [
        (&root_id, "a super admin"),
        (&operator.id, "an account holding more"),
    ] {
        let response = app.put_json(&reset(target), &body, &helpdesk.token).await;
        assert_eq!(response.status(), 403, "reset of {why}");
        assert_problem(response, 403, "forbidden").await;
        for verb in ["disable", "enable"] {
            let path = format!("/v1/admin/accounts/{target}/{verb}");
            let response = app.post_as(&path, &helpdesk.token).await;
            assert_eq!(response.status(), 403, "{verb} of {why}");
        }
    }
    // Still signed in, still the old password.
    assert_eq!(app.get_as("/v1/account/me", &root).await.status(), 200);
    assert_eq!(
        app.get_as("/v1/account/me", &operator.token).await.status(),
        200
    );
    assert_eq!(app.login(&operator.email, PASSWORD).await.status(), 200);

    // An account holding nothing the helpdesk lacks: reset and disable work.
    let response = app
        .put_json(&reset(&plain.id), &body, &helpdesk.token)
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(app.login(&plain.email, NEW_PASSWORD).await.status(), 200);
    let path = format!("/v1/admin/accounts/{}/disable", plain.id);
    assert_eq!(app.post_as(&path, &helpdesk.token).await.status(), 200);

    // Super admins act on anyone.
    let response = app.put_json(&reset(&operator.id), &body, &root).await;
    assert_eq!(response.status(), 204);
}

async fn a_deny_of_grant_manage_cannot_be_reached_around(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    app.create_role(
        &root,
        "org-admin",
        &[("grant-manage", "allow"), ("issuer-*", "allow")],
    )
    .await;
    app.create_role(&root, "no-grants", &[("grant-manage", "deny")])
        .await;
    app.create_role(&root, "issuer-reader", &[("issuer-read", "allow")])
        .await;
    let delegate = app.new_account("delegate").await;
    let user = app.new_account("user").await;
    app.grant_ok(&root, &delegate.id, "org-admin", "acme").await;
    app.grant_ok(&root, &delegate.id, "no-grants", "acme.berlin")
        .await;

    for scope in [
        "acme.berlin",
        "acme.berlin.issuer",
        "acme",
        "acme.*",
        "acme.*.issuer",
    ] {
        let response = app
            .grant(&delegate.token, &user.id, "issuer-reader", scope)
            .await;
        assert_eq!(response.status(), 403, "grant on {scope}");
    }
    assert!(
        !app.allowed(&user.token, "issuer-read", "acme.berlin.issuer")
            .await
    );
    let response = app
        .grant(&delegate.token, &user.id, "issuer-reader", "acme.paris")
        .await;
    assert_eq!(response.status(), 201);
}

async fn a_delegate_cannot_lock_out_its_superior(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    app.create_role(&root, "admin", &[("all", "allow")]).await;
    app.create_role(&root, "locked", &[("all", "deny")]).await;
    let boss = app.new_account("boss").await;
    let delegate = app.new_account("delegate").await;
    app.grant_ok(&root, &boss.id, "admin", "acme").await;
    let delegates_grant = app
        .grant_ok(&boss.token, &delegate.id, "admin", "acme.berlin")
        .await;

    let response = app
        .grant(&delegate.token, &boss.id, "locked", "acme.berlin")
        .await;
    assert_problem(response, 403, "forbidden").await;
    assert!(
        app.allowed(&boss.token, "grant-manage", "acme.berlin")
            .await
    );

    // The superior may restrict the delegate, and take back both grants.
    let lock = app
        .grant_ok(&boss.token, &delegate.id, "locked", "acme.berlin")
        .await;
    assert!(
        !app.allowed(&delegate.token, "issuer-read", "acme.berlin")
            .await
    );
    // ... which the delegate cannot lift itself.
    let path = |id: &str| format!("/v1/admin/accounts/{}/grants/{id}", delegate.id);
    assert_eq!(
        app.delete_as(&path(&lock), &delegate.token).await.status(),
        403
    );
    assert_eq!(app.delete_as(&path(&lock), &boss.token).await.status(), 204);
    assert_eq!(
        app.delete_as(&path(&delegates_grant), &boss.token)
            .await
            .status(),
        204
    );
    assert!(
        !app.allowed(&delegate.token, "issuer-read", "acme.berlin")
            .await
    );
}

async fn a_key_manager_cannot_revoke_a_stronger_key(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    app.create_role(&root, "key-manager", &[("apikey-manage", "allow")])
        .await;
    app.create_role(&root, "issuer-operator", &[("issuer-*", "allow")])
        .await;
    let manager = app.new_account("manager").await;
    app.grant_ok(&root, &manager.id, "key-manager", "*").await;
    let create = |grants: Value| json!({"name": "service", "grants": grants});
    let strong: Value = app
        .post_json(
            "/v1/admin/api-keys",
            &create(json!([{"role": "issuer-operator", "scope": "acme"}])),
            Some(&root),
        )
        .await
        .json()
        .await
        .unwrap();
    let weak: Value = app
        .post_json("/v1/admin/api-keys", &create(json!([])), Some(&root))
        .await
        .json()
        .await
        .unwrap();
    let path = |key: &Value| format!("/v1/admin/api-keys/{}", key["id"].as_str().unwrap());
    let response = app.delete_as(&path(&strong), &manager.token).await;
    assert_problem(response, 403, "forbidden").await;
    let key = strong["key"].as_str().unwrap();
    assert!(app.allowed(key, "issuer-sign", "acme").await);
    assert_eq!(
        app.delete_as(&path(&weak), &manager.token).await.status(),
        204
    );
}

async fn revoking_or_disabling_a_creator_is_weighed_with_its_keys(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    app.create_role(&root, "key-manager", &[("apikey-manage", "allow")])
        .await;
    app.create_role(
        &root,
        "helpdesk",
        &[("apikey-manage", "allow"), ("account-disable", "allow")],
    )
    .await;
    app.create_role(&root, "issuer-operator", &[("issuer-*", "allow")])
        .await;
    let helpdesk = app.new_account("helpdesk").await;
    let creator = app.new_account("creator").await;
    app.grant_ok(&root, &helpdesk.id, "helpdesk", "*").await;
    app.create_role(
        &root,
        "key-granter",
        &[("apikey-manage", "allow"), ("grant-manage", "allow")],
    )
    .await;
    app.grant_ok(&root, &creator.id, "key-granter", "*").await;
    let mint = |token: String, grants: Value| {
        let app = &app;
        async move {
            let key: Value = app
                .post_json(
                    "/v1/admin/api-keys",
                    &json!({"name": "minted", "grants": grants}),
                    Some(&token),
                )
                .await
                .json()
                .await
                .unwrap();
            key
        }
    };
    // The creator mints a key, which mints a key that is then given more than the helpdesk
    // holds: nothing in the first two says so.
    let key_manager = json!([{"role": "key-manager", "scope": "*"}]);
    let parent = mint(creator.token.clone(), key_manager).await;
    let child = mint(parent["key"].as_str().unwrap().to_owned(), json!([])).await;
    let child_id = child["id"].as_str().unwrap();
    let response = app
        .post_json(
            &format!("/v1/admin/api-keys/{child_id}/grants"),
            &json!({"role": "issuer-operator", "scope": "acme"}),
            Some(&root),
        )
        .await;
    assert_eq!(response.status(), 201);

    let parent_path = format!("/v1/admin/api-keys/{}", parent["id"].as_str().unwrap());
    let response = app.delete_as(&parent_path, &helpdesk.token).await;
    assert_problem(response, 403, "forbidden").await;
    let disable = format!("/v1/admin/accounts/{}/disable", creator.id);
    let response = app.post_as(&disable, &helpdesk.token).await;
    assert_problem(response, 403, "forbidden").await;
    let child_key = child["key"].as_str().unwrap();
    assert!(app.allowed(child_key, "issuer-sign", "acme").await);

    // Whoever holds what the keys hold may do both.
    assert_eq!(app.post_as(&disable, &root).await.status(), 200);
    assert_eq!(app.get_as("/v1/account/me", child_key).await.status(), 401);
}
