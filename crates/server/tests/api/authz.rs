//! `POST /v1/authz/check`: the decision for the caller, or (with `account-read` on `*`) for
//! another account or API key, with what decided it.

use serde_json::{Value, json};

use crate::helpers::{Db, assert_problem, spawn_app};
use crate::on_both_databases;

on_both_databases!(
    a_caller_checks_itself_and_sees_the_deciding_grant,
    a_deny_on_any_covering_grant_wins,
    a_wildcard_segment_in_a_grant_matches_any_one_segment,
    super_admins_are_always_allowed,
    checking_another_principal_needs_account_read_on_root,
    inactive_principals_are_denied,
    malformed_checks_are_422_naming_the_field,
);

fn check_body(action: &str, scope: &str) -> Value {
    json!({"action": action, "scope": scope})
}

async fn a_caller_checks_itself_and_sees_the_deciding_grant(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let user = app.new_account("user").await;
    app.create_role(&root, "issuer-reader", &[("issuer-read", "allow")])
        .await;
    let grant = app
        .grant_ok(&root, &user.id, "issuer-reader", "acme.berlin")
        .await;

    let response = app
        .post_json(
            "/v1/authz/check",
            &check_body("issuer-read", "acme.berlin.dev"),
            Some(&user.token),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["allowed"], true, "{body}");
    let explanation = &body["explanation"];
    assert_eq!(explanation["reason"], "allowed_by");
    assert_eq!(explanation["grant"]["id"], grant);
    assert_eq!(explanation["grant"]["role"], "issuer-reader");
    assert_eq!(explanation["grant"]["scope"], "acme.berlin");
    assert_eq!(
        explanation["rule"],
        json!({"action": "issuer-read", "effect": "allow"})
    );
    assert!(
        explanation["message"]
            .as_str()
            .unwrap()
            .contains("issuer-reader"),
        "{explanation}"
    );

    // Neither the parent, nor a sibling, nor another action.
    for (action, scope) in [
        ("issuer-read", "acme"),
        ("issuer-read", "acme.paris"),
        ("issuer-write", "acme.berlin"),
    ] {
        let body = app.check(&user.token, &check_body(action, scope)).await;
        assert_eq!(body["allowed"], false, "{action} on {scope}: {body}");
        assert_eq!(body["explanation"]["reason"], "no_matching_grant");
        assert!(body["explanation"].get("grant").is_none(), "{body}");
        assert!(body["explanation"].get("rule").is_none(), "{body}");
        assert!(body["explanation"]["message"].is_string());
    }

    // Naming oneself needs no `account-read`.
    let body = app
        .check(
            &user.token,
            &json!({"action": "issuer-read", "scope": "acme.berlin", "account_id": user.id}),
        )
        .await;
    assert_eq!(body["allowed"], true);
}

async fn a_deny_on_any_covering_grant_wins(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let user = app.new_account("user").await;
    app.create_role(&root, "issuer-ops", &[("issuer-*", "allow")])
        .await;
    app.create_role(&root, "no-delete", &[("issuer-delete", "deny")])
        .await;
    app.grant_ok(&root, &user.id, "issuer-ops", "acme").await;
    let deny = app
        .grant_ok(&root, &user.id, "no-delete", "acme.berlin")
        .await;

    let body = app
        .check(&user.token, &check_body("issuer-delete", "acme.berlin.dev"))
        .await;
    assert_eq!(body["allowed"], false, "{body}");
    let explanation = &body["explanation"];
    assert_eq!(explanation["reason"], "denied_by");
    assert_eq!(explanation["grant"]["id"], deny);
    assert_eq!(explanation["grant"]["role"], "no-delete");
    assert_eq!(explanation["grant"]["scope"], "acme.berlin");
    assert_eq!(
        explanation["rule"],
        json!({"action": "issuer-delete", "effect": "deny"})
    );

    // Outside the deny's subtree the allow stands.
    let body = app
        .check(&user.token, &check_body("issuer-delete", "acme.paris"))
        .await;
    assert_eq!(body["allowed"], true, "{body}");
    assert_eq!(body["explanation"]["reason"], "allowed_by");
    assert_eq!(body["explanation"]["grant"]["role"], "issuer-ops");
    assert_eq!(body["explanation"]["rule"]["action"], "issuer-*");
    assert!(app.allowed(&user.token, "issuer-read", "acme.berlin").await);
}

async fn a_wildcard_segment_in_a_grant_matches_any_one_segment(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let user = app.new_account("user").await;
    app.create_role(&root, "issuer-ops", &[("issuer-*", "allow")])
        .await;
    app.grant_ok(&root, &user.id, "issuer-ops", "acme.*.issuer")
        .await;
    for (scope, expected) in [
        ("acme.berlin.issuer", true),
        ("acme.paris.issuer.keys", true),
        ("acme.berlin.vault", false),
        ("acme.berlin", false),
        ("globex.berlin.issuer", false),
    ] {
        let body = app
            .check(&user.token, &check_body("issuer-rotate", scope))
            .await;
        assert_eq!(body["allowed"], expected, "{scope}: {body}");
    }
    let body = app
        .check(&user.token, &check_body("issuer-rotate", "acme.x.issuer"))
        .await;
    assert_eq!(body["explanation"]["grant"]["scope"], "acme.*.issuer");
}

async fn super_admins_are_always_allowed(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let body = app
        .check(&root, &check_body("anything-at-all", "globex.x"))
        .await;
    assert_eq!(body["allowed"], true);
    assert_eq!(body["explanation"]["reason"], "superadmin");
    assert!(body["explanation"].get("grant").is_none(), "{body}");

    // Checking someone else gives that principal's answer, not the super admin's.
    let user = app.new_account("user").await;
    let body = app
        .check(
            &root,
            &json!({"action": "anything-at-all", "scope": "globex", "account_id": user.id}),
        )
        .await;
    assert_eq!(body["allowed"], false, "{body}");
    assert_eq!(body["explanation"]["reason"], "no_matching_grant");
}

async fn checking_another_principal_needs_account_read_on_root(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    app.create_role(&root, "issuer-reader", &[("issuer-read", "allow")])
        .await;
    app.create_role(&root, "account-reader", &[("account-read", "allow")])
        .await;
    let user = app.new_account("user").await;
    app.grant_ok(&root, &user.id, "issuer-reader", "acme").await;
    let key = app
        .post_json(
            "/v1/admin/api-keys",
            &json!({"name": "bot", "grants": [{"role": "issuer-reader", "scope": "globex"}]}),
            Some(&root),
        )
        .await;
    assert_eq!(key.status(), 201);
    let key: Value = key.json().await.unwrap();
    let key_id = key["id"].as_str().unwrap();

    let about_user = json!({"action": "issuer-read", "scope": "acme.x", "account_id": user.id});
    let about_key = json!({"action": "issuer-read", "scope": "globex.x", "api_key_id": key_id});

    let auditor = app.new_account("auditor").await;
    app.grant_ok(&root, &auditor.id, "account-reader", "*")
        .await;
    let body = app.check(&auditor.token, &about_user).await;
    assert_eq!(body["allowed"], true, "{body}");
    assert_eq!(body["explanation"]["grant"]["role"], "issuer-reader");
    let body = app.check(&auditor.token, &about_key).await;
    assert_eq!(body["allowed"], true, "{body}");

    // Without `account-read`, or with it only below the root: 403.
    let nosy = app.new_account("nosy").await;
    let scoped = app.new_account("scoped").await;
    app.grant_ok(&root, &scoped.id, "account-reader", "acme")
        .await;
    for token in [&nosy.token, &scoped.token, &user.token] {
        for body in [
            &about_key,
            &json!({"action": "x", "scope": "acme", "account_id": auditor.id}),
        ] {
            assert_problem(
                app.post_json("/v1/authz/check", body, Some(token)).await,
                403,
                "forbidden",
            )
            .await;
        }
    }
    // An API key checking an account needs the same.
    assert_problem(
        app.post_json(
            "/v1/authz/check",
            &about_user,
            Some(key["key"].as_str().unwrap()),
        )
        .await,
        403,
        "forbidden",
    )
    .await;

    let unknown = json!({
        "action": "x", "scope": "acme", "account_id": "0190a4b2-7c3d-7e8f-9a0b-1c2d3e4f5a6b",
    });
    assert_problem(
        app.post_json("/v1/authz/check", &unknown, Some(&auditor.token))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.post_json("/v1/authz/check", &about_user, None).await,
        401,
        "unauthenticated",
    )
    .await;
}

async fn inactive_principals_are_denied(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    app.create_role(&root, "everything", &[("all", "allow")])
        .await;
    let user = app.new_account("user").await;
    app.grant_ok(&root, &user.id, "everything", "acme").await;
    let about_user = json!({"action": "issuer-read", "scope": "acme", "account_id": user.id});
    assert_eq!(app.check(&root, &about_user).await["allowed"], true);

    let disabled = app
        .post_as(&format!("/v1/admin/accounts/{}/disable", user.id), &root)
        .await;
    assert_eq!(disabled.status(), 200);
    let body = app.check(&root, &about_user).await;
    assert_eq!(body["allowed"], false, "{body}");
    assert_eq!(body["explanation"]["reason"], "inactive");
    assert!(body["explanation"].get("grant").is_none());

    let key = app
        .post_json(
            "/v1/admin/api-keys",
            &json!({"name": "bot", "grants": [{"role": "everything", "scope": "acme"}]}),
            Some(&root),
        )
        .await;
    let key: Value = key.json().await.unwrap();
    let key_id = key["id"].as_str().unwrap();
    let about_key = json!({"action": "issuer-read", "scope": "acme", "api_key_id": key_id});
    assert_eq!(app.check(&root, &about_key).await["allowed"], true);
    let revoked = app
        .delete_as(&format!("/v1/admin/api-keys/{key_id}"), &root)
        .await;
    assert_eq!(revoked.status(), 204);
    let body = app.check(&root, &about_key).await;
    assert_eq!(body["allowed"], false, "{body}");
    assert_eq!(body["explanation"]["reason"], "inactive");
}

async fn malformed_checks_are_422_naming_the_field(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let user = app.new_account("user").await;
    let id = "0190a4b2-7c3d-7e8f-9a0b-1c2d3e4f5a6b";
    for (body, field, code) in [
        (
            check_body("Issuer Read", "acme"),
            "action",
            "invalid_action",
        ),
        (check_body("", "acme"), "action", "invalid_action"),
        (
            check_body("issuer-read", "Acme..x"),
            "scope",
            "invalid_scope",
        ),
        (
            check_body("issuer-read", "acme.*"),
            "scope",
            "wildcard_scope",
        ),
        (
            json!({"action": "x", "scope": "acme", "account_id": id, "api_key_id": id}),
            "api_key_id",
            "conflicting_subject",
        ),
        (
            json!({"action": "x", "scope": "acme", "account_id": "nope"}),
            "account_id",
            "invalid_id",
        ),
    ] {
        let problem = assert_problem(
            app.post_json("/v1/authz/check", &body, Some(&user.token))
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
        assert_eq!(problem["errors"][0]["code"], code, "{body}: {problem}");
    }
    // `*` is a concrete scope: the global root.
    assert!(!app.allowed(&user.token, "account-read", "*").await);
    assert_problem(
        app.post_json(
            "/v1/authz/check",
            &json!({"action": "x"}),
            Some(&user.token),
        )
        .await,
        400,
        "invalid_body",
    )
    .await;
}
