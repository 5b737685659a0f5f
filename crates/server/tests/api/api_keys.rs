//! API keys: created by admins only, shown once, stored hashed, usable as bearer tokens with
//! exactly their own grants, revocable and expiring.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Db, PASSWORD, TestApp, assert_problem, spawn_app, unique_email};
use crate::on_both_databases;

on_both_databases!(
    api_key_lifecycle,
    api_keys_expire,
    invalid_expires_in_is_named,
    only_key_managers_create_keys,
    unknown_keys_are_not_found,
    a_key_mints_no_key_that_outlives_it,
    disabling_an_account_revokes_the_keys_it_created,
    dead_keys_are_deleted_ninety_days_after_they_died,
);

async fn create_key(app: &TestApp, admin: &str, body: &Value) -> Value {
    let response = app.post_json("/v1/admin/api-keys", body, Some(admin)).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    assert_eq!(
        location,
        format!("/v1/admin/api-keys/{}", created["id"].as_str().unwrap())
    );
    created
}

async fn api_key_lifecycle(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let created = create_key(&app, &root, &json!({"name": "ci deploy"})).await;
    let id = created["id"].as_str().unwrap();
    let key = created["key"].as_str().unwrap();
    assert!(key.starts_with("rak_"), "{key}");
    assert_eq!(created["name"], "ci deploy");
    assert_eq!(created["expires_at"], Value::Null);

    let me = app.get_as("/v1/account/me", key).await;
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["api_key"]["id"], id);
    assert_eq!(me["api_key"]["revoked"], false);
    assert!(me.get("account").is_none(), "{me}");
    assert_eq!(me["grants"], json!([]));

    // The key carries none of its creator's rights.
    assert_problem(
        app.get_as("/v1/admin/api-keys", key).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get_as("/v1/admin/accounts", key).await,
        403,
        "forbidden",
    )
    .await;
    // Session-only routes want a session.
    assert_problem(
        app.get_as("/v1/account/me/sessions", key).await,
        401,
        "unauthenticated",
    )
    .await;

    let listed = app.get_as("/v1/admin/api-keys", &root).await;
    assert_eq!(listed.status(), 200);
    let listed = listed.text().await.unwrap();
    assert!(!listed.contains(key), "the list never shows the key");
    let listed: Value = serde_json::from_str(&listed).unwrap();
    let item = &listed["items"][0];
    assert_eq!(item["id"], id);
    assert!(item.get("key").is_none());
    assert!(item["last_used_at"].is_string(), "use was recorded: {item}");

    let one = app.get_as(&format!("/v1/admin/api-keys/{id}"), &root).await;
    assert_eq!(one.status(), 200);
    let one: Value = one.json().await.unwrap();
    assert_eq!(one["name"], "ci deploy");
    assert_eq!(one["grants"], json!([]));

    let revoked = app
        .delete_as(&format!("/v1/admin/api-keys/{id}"), &root)
        .await;
    assert_eq!(revoked.status(), 204);
    assert_problem(
        app.get_as("/v1/account/me", key).await,
        401,
        "unauthenticated",
    )
    .await;
    let again = app
        .delete_as(&format!("/v1/admin/api-keys/{id}"), &root)
        .await;
    assert_eq!(again.status(), 204, "revoking twice is harmless");
    let one: Value = app
        .get_as(&format!("/v1/admin/api-keys/{id}"), &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["revoked"], true);

    // A key with one character changed is refused, not mistaken for the real one.
    let mut forged = key.to_owned();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    assert_problem(
        app.get_as("/v1/account/me", &forged).await,
        401,
        "unauthenticated",
    )
    .await;
}

async fn api_keys_expire(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let created = create_key(&app, &root, &json!({"name": "short", "expires_in": "2s"})).await;
    let key = created["key"].as_str().unwrap();
    assert!(created["expires_at"].is_string());
    let long = create_key(&app, &root, &json!({"name": "long", "expires_in": "PT90M"})).await;
    let created_at = chrono::DateTime::parse_from_rfc3339(long["created_at"].as_str().unwrap());
    let expires_at = chrono::DateTime::parse_from_rfc3339(long["expires_at"].as_str().unwrap());
    assert_eq!(
        (expires_at.unwrap() - created_at.unwrap()).num_minutes(),
        90
    );

    assert_eq!(app.get_as("/v1/account/me", key).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_problem(
        app.get_as("/v1/account/me", key).await,
        401,
        "unauthenticated",
    )
    .await;
}

async fn invalid_expires_in_is_named(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    for expires_in in ["soon", "P1M", "0s", "-1d", "30 d", "99999d"] {
        let response = app
            .post_json(
                "/v1/admin/api-keys",
                &json!({"name": "x", "expires_in": expires_in}),
                Some(&root),
            )
            .await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], "expires_in", "{expires_in}");
        assert_eq!(problem["errors"][0]["code"], "invalid_duration");
    }
    let response = app
        .post_json(
            "/v1/admin/api-keys",
            &json!({"name": "x", "expires_in": 30}),
            Some(&root),
        )
        .await;
    let problem = assert_problem(response, 400, "invalid_body").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("expires_in"),
        "{problem}"
    );
    let listed: Value = app
        .get_as("/v1/admin/api-keys", &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]), "nothing was created");
}

async fn only_key_managers_create_keys(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let email = unique_email("nobody");
    assert_eq!(app.register(&email, PASSWORD).await.status(), 201);
    let roleless = app.login_token(&email, PASSWORD).await;
    let body = json!({"name": "mine"});
    assert_problem(
        app.post_json("/v1/admin/api-keys", &body, Some(&roleless))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.post_json("/v1/admin/api-keys", &body, None).await,
        401,
        "unauthenticated",
    )
    .await;
    assert_problem(
        app.get_as("/v1/admin/api-keys", &roleless).await,
        403,
        "forbidden",
    )
    .await;
}

async fn unknown_keys_are_not_found(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    for id in ["0190a4b2-7c3d-7e8f-9a0b-1c2d3e4f5a6b", "not-an-id"] {
        let path = format!("/v1/admin/api-keys/{id}");
        assert_problem(app.get_as(&path, &root).await, 404, "not_found").await;
        assert_problem(app.delete_as(&path, &root).await, 404, "not_found").await;
    }
    assert_problem(
        app.get_as("/v1/admin/api-keys?cursor=zzz", &root).await,
        400,
        "invalid_query",
    )
    .await;
}

fn timestamp(value: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap_or_else(|| panic!("{value}")))
        .unwrap()
}

/// A role that may create keys and give them itself (`key-admin`: `apikey-manage` and
/// `grant-manage`).
async fn key_admin_role(app: &TestApp, root: &str) {
    app.create_role(
        root,
        "key-admin",
        &[("apikey-manage", "allow"), ("grant-manage", "allow")],
    )
    .await;
}

async fn a_key_mints_no_key_that_outlives_it(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    key_admin_role(&app, &root).await;
    let parent = create_key(
        &app,
        &root,
        &json!({"name": "parent", "expires_in": "1h",
                "grants": [{"role": "key-admin", "scope": "*"}]}),
    )
    .await;
    let parent_key = parent["key"].as_str().unwrap();
    let parent_expiry = timestamp(&parent["expires_at"]);

    // Without an expiry, or with a later one, the child expires with its parent.
    for body in [
        json!({"name": "forever"}),
        json!({"name": "a month", "expires_in": "30d"}),
    ] {
        let child = create_key(&app, parent_key, &body).await;
        assert_eq!(timestamp(&child["expires_at"]), parent_expiry, "{body}");
        let id = child["id"].as_str().unwrap();
        let listed: Value = app
            .get_as(&format!("/v1/admin/api-keys/{id}"), &root)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(timestamp(&listed["expires_at"]), parent_expiry, "{listed}");
    }
    // An earlier expiry stays as asked.
    let short = create_key(
        &app,
        parent_key,
        &json!({"name": "short", "expires_in": "10m"}),
    )
    .await;
    let short_expiry = timestamp(&short["expires_at"]);
    assert!(short_expiry < parent_expiry);
    assert_eq!(
        (short_expiry - timestamp(&short["created_at"])).num_minutes(),
        10
    );
    // A grandchild (minted by a child that holds key-admin) is bound by the first key too.
    let child = create_key(
        &app,
        parent_key,
        &json!({"name": "child", "grants": [{"role": "key-admin", "scope": "*"}]}),
    )
    .await;
    let grandchild = create_key(
        &app,
        child["key"].as_str().unwrap(),
        &json!({"name": "grandchild"}),
    )
    .await;
    assert_eq!(timestamp(&grandchild["expires_at"]), parent_expiry);
    // Keys created by an account are not bound by anything.
    let by_root = create_key(&app, &root, &json!({"name": "by root"})).await;
    assert_eq!(by_root["expires_at"], Value::Null);
}

async fn disabling_an_account_revokes_the_keys_it_created(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    key_admin_role(&app, &root).await;
    let admin = app.new_account("keyadmin").await;
    app.grant_ok(&root, &admin.id, "key-admin", "*").await;
    let key = create_key(
        &app,
        &admin.token,
        &json!({"name": "made by admin", "grants": [{"role": "key-admin", "scope": "*"}]}),
    )
    .await;
    let key_token = key["key"].as_str().unwrap();
    let minted = create_key(&app, key_token, &json!({"name": "made by the key"})).await;
    let minted_token = minted["key"].as_str().unwrap();
    let by_root = create_key(&app, &root, &json!({"name": "made by root"})).await;
    for token in [key_token, minted_token] {
        assert_eq!(app.get_as("/v1/account/me", token).await.status(), 200);
    }

    let response = app
        .post_as(&format!("/v1/admin/accounts/{}/disable", admin.id), &root)
        .await;
    assert_eq!(response.status(), 200);

    // The account's key and the key it minted stop working at once, minting included.
    for token in [key_token, minted_token] {
        assert_problem(
            app.get_as("/v1/account/me", token).await,
            401,
            "unauthenticated",
        )
        .await;
    }
    assert_problem(
        app.post_json(
            "/v1/admin/api-keys",
            &json!({"name": "after the fact"}),
            Some(key_token),
        )
        .await,
        401,
        "unauthenticated",
    )
    .await;
    for (created, revoked) in [(&key, true), (&minted, true), (&by_root, false)] {
        let id = created["id"].as_str().unwrap();
        let shown: Value = app
            .get_as(&format!("/v1/admin/api-keys/{id}"), &root)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(shown["revoked"], revoked, "{shown}");
    }
    assert_eq!(
        app.get_as("/v1/account/me", by_root["key"].as_str().unwrap())
            .await
            .status(),
        200
    );

    // The audit event says how many keys went with the account.
    let events: Value = app
        .get_as("/v1/admin/audit-events?action=account.disabled", &root)
        .await
        .json()
        .await
        .unwrap();
    let event = &events["items"][0];
    assert_eq!(event["target"], format!("account:{}", admin.id), "{event}");
    assert_eq!(
        event["detail"], "revoked 2 API keys it created (directly or through its keys)",
        "{event}"
    );

    // Enabling the account brings neither key back.
    let response = app
        .post_as(&format!("/v1/admin/accounts/{}/enable", admin.id), &root)
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.get_as("/v1/account/me", key_token).await.status(), 401);
}

/// The housekeeping (`Roster::forget_dead_api_keys`, which the server runs periodically)
/// deletes a key, with its grants, once it has been revoked or expired for 90 days. A dead key
/// that created a key still stored waits for it, so that the `created_by` chain stays whole;
/// live keys stay. Time passes by moving the rows into the past.
async fn dead_keys_are_deleted_ninety_days_after_they_died(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    key_admin_role(&app, &root).await;
    let live = create_key(&app, &root, &json!({"name": "live"})).await;
    let expiring = create_key(
        &app,
        &root,
        &json!({"name": "expiring", "expires_in": "1h"}),
    )
    .await;
    let parent = create_key(
        &app,
        &root,
        &json!({"name": "parent", "grants": [{"role": "key-admin", "scope": "*"}]}),
    )
    .await;
    let child = create_key(
        &app,
        parent["key"].as_str().unwrap(),
        &json!({"name": "child"}),
    )
    .await;
    let id = |key: &Value| key["id"].as_str().unwrap().to_owned();
    let response = app
        .delete_as(&format!("/v1/admin/api-keys/{}", id(&parent)), &root)
        .await;
    assert_eq!(
        response.status(),
        204,
        "the parent, and with it the child, revoked"
    );
    let housekeeping = app.components(&[]).roster;
    let age = |days: u64| {
        let columns = ["created_at", "expires_at", "last_used_at", "revoked_at"];
        app.age_rows("api_keys", &columns, Duration::from_secs(days * 24 * 3600));
    };

    age(89);
    assert_eq!(housekeeping.forget_dead_api_keys().await.unwrap(), 0);
    assert_eq!(app.count_rows("api_keys"), 4);

    age(2);
    assert_eq!(
        housekeeping.forget_dead_api_keys().await.unwrap(),
        2,
        "the expired key and the child; the parent waits for its child"
    );
    let shown = |key: Value| {
        let app = &app;
        let root = &root;
        async move {
            app.get_as(&format!("/v1/admin/api-keys/{}", id(&key)), root)
                .await
                .status()
        }
    };
    assert_eq!(shown(parent.clone()).await, 200);
    assert_eq!(housekeeping.forget_dead_api_keys().await.unwrap(), 1);
    assert_eq!(housekeeping.forget_dead_api_keys().await.unwrap(), 0);
    for (key, status) in [
        (parent, 404),
        (child, 404),
        (expiring, 404),
        (live.clone(), 200),
    ] {
        let name = key["name"].clone();
        assert_eq!(shown(key).await, status, "{name}");
    }
    assert_eq!(
        app.count_rows("api_key_grants"),
        0,
        "grants went with their keys"
    );
    let live_key = live["key"].as_str().unwrap();
    assert_eq!(app.get_as("/v1/account/me", live_key).await.status(), 200);
}
