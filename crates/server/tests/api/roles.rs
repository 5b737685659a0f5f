//! Roles: named sets of allow and deny rules, managed by holders of `role-manage`.

use serde_json::{Value, json};

use crate::helpers::{Db, assert_problem, spawn_app};
use crate::on_both_databases;

on_both_databases!(
    roles_round_trip,
    a_changed_role_applies_to_its_holders_on_the_next_request,
    roles_are_not_renamed,
    granted_roles_cannot_be_deleted,
    role_validation_names_each_field,
    roles_need_role_manage,
    roles_are_listed_in_name_order_page_by_page,
    a_role_deleted_while_being_granted_ends_one_way_or_the_other,
);

async fn roles_round_trip(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let body = json!({
        "name": "issuer-ops",
        "description": "runs the issuer",
        "permissions": [{"action": "issuer-*"}, {"action": "issuer-delete", "effect": "deny"}],
    });
    let response = app.post_json("/v1/admin/roles", &body, Some(&root)).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["location"], "/v1/admin/roles/issuer-ops");
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["name"], "issuer-ops");
    assert_eq!(created["description"], "runs the issuer");
    assert_eq!(
        created["permissions"],
        json!([
            {"action": "issuer-*", "effect": "allow"},
            {"action": "issuer-delete", "effect": "deny"},
        ]),
        "effect defaults to allow"
    );
    assert!(created["created_at"].is_string());

    let read = app.get_as("/v1/admin/roles/issuer-ops", &root).await;
    assert_eq!(read.status(), 200);
    assert_eq!(read.json::<Value>().await.unwrap(), created);
    let listed: Value = app
        .get_as("/v1/admin/roles", &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([created]));
    assert_eq!(listed["next_cursor"], Value::Null);

    assert_problem(
        app.post_json("/v1/admin/roles", &body, Some(&root)).await,
        409,
        "role_exists",
    )
    .await;

    let replaced = app
        .put_json(
            "/v1/admin/roles/issuer-ops",
            &json!({"permissions": [{"action": "issuer-read"}]}),
            &root,
        )
        .await;
    assert_eq!(replaced.status(), 200);
    let replaced: Value = replaced.json().await.unwrap();
    assert_eq!(
        replaced["permissions"],
        json!([{"action": "issuer-read", "effect": "allow"}])
    );
    assert_eq!(
        replaced["description"], "",
        "PUT replaces the description too"
    );
    assert_eq!(replaced["created_at"], created["created_at"]);
    let read: Value = app
        .get_as("/v1/admin/roles/issuer-ops", &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read, replaced);

    let deleted = app.delete_as("/v1/admin/roles/issuer-ops", &root).await;
    assert_eq!(deleted.status(), 204);
    for response in [
        app.get_as("/v1/admin/roles/issuer-ops", &root).await,
        app.delete_as("/v1/admin/roles/issuer-ops", &root).await,
        app.put_json(
            "/v1/admin/roles/issuer-ops",
            &json!({"permissions": []}),
            &root,
        )
        .await,
        app.get_as("/v1/admin/roles/Not%20A%20Role", &root).await,
    ] {
        assert_problem(response, 404, "not_found").await;
    }
}

async fn a_changed_role_applies_to_its_holders_on_the_next_request(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let holder = app.new_account("holder").await;
    app.create_role(&root, "issuer", &[("issuer-read", "allow")])
        .await;
    app.grant_ok(&root, &holder.id, "issuer", "acme").await;
    assert!(
        app.allowed(&holder.token, "issuer-read", "acme.berlin")
            .await
    );
    assert!(
        !app.allowed(&holder.token, "issuer-write", "acme.berlin")
            .await
    );

    let widen = json!({"permissions": [{"action": "issuer-*"}]});
    let response = app.put_json("/v1/admin/roles/issuer", &widen, &root).await;
    assert_eq!(response.status(), 200);
    assert!(
        app.allowed(&holder.token, "issuer-write", "acme.berlin")
            .await
    );

    let narrow = json!({
        "name": "issuer",
        "permissions": [{"action": "issuer-*"}, {"action": "issuer-write", "effect": "deny"}],
    });
    let response = app.put_json("/v1/admin/roles/issuer", &narrow, &root).await;
    assert_eq!(response.status(), 200, "repeating the path's name is fine");
    let check = app
        .check(
            &holder.token,
            &json!({"action": "issuer-write", "scope": "acme.berlin"}),
        )
        .await;
    assert_eq!(check["allowed"], false, "{check}");
    assert_eq!(check["explanation"]["reason"], "denied_by");
    assert!(
        app.allowed(&holder.token, "issuer-read", "acme.berlin")
            .await
    );
}

async fn roles_are_not_renamed(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    app.create_role(&root, "reader", &[("issuer-read", "allow")])
        .await;
    let rename = json!({"name": "writer", "permissions": [{"action": "issuer-write"}]});
    let problem = assert_problem(
        app.put_json("/v1/admin/roles/reader", &rename, &root).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "name", "{problem}");
    let role: Value = app
        .get_as("/v1/admin/roles/reader", &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        role["permissions"],
        json!([{"action": "issuer-read", "effect": "allow"}]),
        "unchanged"
    );
    assert_problem(
        app.get_as("/v1/admin/roles/writer", &root).await,
        404,
        "not_found",
    )
    .await;
}

async fn granted_roles_cannot_be_deleted(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let holder = app.new_account("holder").await;
    app.create_role(&root, "reader", &[("issuer-read", "allow")])
        .await;
    let grant = app.grant_ok(&root, &holder.id, "reader", "acme").await;
    assert_problem(
        app.delete_as("/v1/admin/roles/reader", &root).await,
        409,
        "role_in_use",
    )
    .await;
    let revoked = app
        .delete_as(
            &format!("/v1/admin/accounts/{}/grants/{grant}", holder.id),
            &root,
        )
        .await;
    assert_eq!(revoked.status(), 204);

    // An API key's grant keeps the role in use just the same.
    let key = app
        .post_json(
            "/v1/admin/api-keys",
            &json!({"name": "ci", "grants": [{"role": "reader", "scope": "acme"}]}),
            Some(&root),
        )
        .await;
    assert_eq!(key.status(), 201);
    let key: Value = key.json().await.unwrap();
    assert_problem(
        app.delete_as("/v1/admin/roles/reader", &root).await,
        409,
        "role_in_use",
    )
    .await;
    let key_grant = key["grants"][0]["id"].as_str().unwrap();
    let revoked = app
        .delete_as(
            &format!(
                "/v1/admin/api-keys/{}/grants/{key_grant}",
                key["id"].as_str().unwrap()
            ),
            &root,
        )
        .await;
    assert_eq!(revoked.status(), 204);

    assert_eq!(
        app.delete_as("/v1/admin/roles/reader", &root)
            .await
            .status(),
        204
    );
}

async fn role_validation_names_each_field(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let body = json!({
        "name": "Bad Name",
        "permissions": [
            {"action": "issuer-read"},
            {"action": "Issuer Write"},
            {"action": "issuer-list", "effect": "maybe"},
        ],
    });
    let problem = assert_problem(
        app.post_json("/v1/admin/roles", &body, Some(&root)).await,
        422,
        "validation_failed",
    )
    .await;
    let named: Vec<(&str, &str)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        named,
        [
            ("name", "invalid_role_name"),
            ("permissions[1].action", "invalid_action"),
            ("permissions[2].effect", "invalid_effect"),
        ],
        "{problem}"
    );

    let problem = assert_problem(
        app.post_json(
            "/v1/admin/roles",
            &json!({"permissions": [{"action": "x"}]}),
            Some(&root),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "name");

    app.create_role(&root, "kept", &[("issuer-read", "allow")])
        .await;
    let problem = assert_problem(
        app.put_json(
            "/v1/admin/roles/kept",
            &json!({"permissions": [{"action": "issuer-read"}, {"action": ""}]}),
            &root,
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "permissions[1].action");

    let problem = assert_problem(
        app.post_json(
            "/v1/admin/roles",
            &json!({"name": "typo", "permisions": []}),
            Some(&root),
        )
        .await,
        400,
        "invalid_body",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("permisions"),
        "{problem}"
    );
    let listed: Value = app
        .get_as("/v1/admin/roles", &root)
        .await
        .json()
        .await
        .unwrap();
    let role_names: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(role_names, ["kept"], "nothing else was created");
    assert_eq!(
        listed["items"][0]["permissions"],
        json!([{"action": "issuer-read", "effect": "allow"}]),
        "the refused PUT changed nothing"
    );
}

async fn roles_need_role_manage(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    app.create_role(&root, "reader", &[("issuer-read", "allow")])
        .await;
    let nobody = app.new_account("nobody").await;
    let token = &nobody.token;
    let body = json!({"name": "mine", "permissions": [{"action": "all"}]});
    for response in [
        app.post_json("/v1/admin/roles", &body, Some(token)).await,
        app.get_as("/v1/admin/roles", token).await,
        app.get_as("/v1/admin/roles/reader", token).await,
        app.put_json("/v1/admin/roles/reader", &body, token).await,
        app.delete_as("/v1/admin/roles/reader", token).await,
    ] {
        assert_problem(response, 403, "forbidden").await;
    }
    assert_problem(
        app.post_json("/v1/admin/roles", &body, None).await,
        401,
        "unauthenticated",
    )
    .await;

    // `role-manage` on `*` is enough; on a narrower scope it is not.
    app.create_role(&root, "role-admin", &[("role-manage", "allow")])
        .await;
    let scoped = app.new_account("scoped").await;
    app.grant_ok(&root, &scoped.id, "role-admin", "acme").await;
    assert_problem(
        app.get_as("/v1/admin/roles", &scoped.token).await,
        403,
        "forbidden",
    )
    .await;
    let manager = app.new_account("manager").await;
    app.grant_ok(&root, &manager.id, "role-admin", "*").await;
    let response = app
        .post_json("/v1/admin/roles", &body, Some(&manager.token))
        .await;
    assert_eq!(response.status(), 201);
}

async fn roles_are_listed_in_name_order_page_by_page(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let names = ["delta", "alpha", "echo", "charlie", "bravo"];
    for name in names {
        app.create_role(&root, name, &[("x", "allow")]).await;
    }
    let mut seen = Vec::new();
    let mut path = "/v1/admin/roles?limit=2".to_owned();
    loop {
        let page: Value = app.get_as(&path, &root).await.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2, "{page}");
        seen.extend(items.iter().map(|r| r["name"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/admin/roles?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["alpha", "bravo", "charlie", "delta", "echo"]);
    for bad in ["limit=0", "limit=201", "cursor=Not%20A%20Name"] {
        assert_problem(
            app.get_as(&format!("/v1/admin/roles?{bad}"), &root).await,
            400,
            "invalid_query",
        )
        .await;
    }
}

/// Racing a grant of a role against the role's deletion: either the grant wins (201, then
/// 409 `role_in_use`) or the deletion does (204, then 404 `role_not_found`); never a 500 and
/// never a grant of a role that is gone.
async fn a_role_deleted_while_being_granted_ends_one_way_or_the_other(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let holder = app.new_account("holder").await;
    for round in 0..20 {
        let name = format!("racy-{round}");
        app.create_role(&root, &name, &[("x", "allow")]).await;
        let path = format!("/v1/admin/roles/{name}");
        let (granted, deleted) = tokio::join!(
            app.grant(&root, &holder.id, &name, "acme"),
            app.delete_as(&path, &root),
        );
        let outcome = (granted.status().as_u16(), deleted.status().as_u16());
        match outcome {
            (201, 409) => {
                assert_eq!(app.get_as(&path, &root).await.status(), 200);
            }
            (404, 204) => {
                assert_problem(granted, 404, "role_not_found").await;
                assert_problem(app.get_as(&path, &root).await, 404, "not_found").await;
            }
            other => panic!(
                "round {round}: {other:?}: {} / {}",
                granted.text().await.unwrap(),
                deleted.text().await.unwrap()
            ),
        }
    }
    let grants: Value = app
        .get_as(&format!("/v1/admin/accounts/{}/grants", holder.id), &root)
        .await
        .json()
        .await
        .unwrap();
    for grant in grants["items"].as_array().unwrap() {
        let role = format!("/v1/admin/roles/{}", grant["role"].as_str().unwrap());
        assert_eq!(app.get_as(&role, &root).await.status(), 200, "{grant}");
    }
}
