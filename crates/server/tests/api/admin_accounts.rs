use serde_json::{Value, json};

use crate::helpers::{Db, PASSWORD, TestApp, assert_problem, spawn_app, unique_email};
use crate::on_both_databases;

on_both_databases!(
    disabling_kills_sessions_and_login_until_enabled,
    the_last_super_admin_cannot_be_disabled,
    accounts_are_listed_filtered_and_paginated,
    admin_password_reset_revokes_sessions,
    account_administration_needs_permissions,
);

async fn account_id(app: &TestApp, email: &str) -> String {
    let response = app.register(email, PASSWORD).await;
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn disabling_kills_sessions_and_login_until_enabled(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let email = unique_email("victim");
    let id = account_id(&app, &email).await;
    let session = app.login_token(&email, PASSWORD).await;

    let disabled = app
        .post_as(&format!("/v1/admin/accounts/{id}/disable"), &root)
        .await;
    assert_eq!(disabled.status(), 200);
    assert_eq!(
        disabled.json::<Value>().await.unwrap()["status"],
        "disabled"
    );
    assert_problem(
        app.get_as("/v1/account/me", &session).await,
        401,
        "unauthenticated",
    )
    .await;
    let refused = app.login(&email, PASSWORD).await;
    let refused = assert_problem(refused, 401, "invalid_credentials").await;
    let wrong = app.login(&email, "not the password at all").await;
    assert_eq!(
        refused,
        assert_problem(wrong, 401, "invalid_credentials").await,
        "same answer as a wrong password"
    );

    let enabled = app
        .post_as(&format!("/v1/admin/accounts/{id}/enable"), &root)
        .await;
    assert_eq!(enabled.json::<Value>().await.unwrap()["status"], "active");
    app.login_token(&email, PASSWORD).await;
    assert_problem(
        app.post_as(
            "/v1/admin/accounts/01a2dead-0000-7000-8000-000000000000/disable",
            &root,
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

async fn the_last_super_admin_cannot_be_disabled(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let me: Value = app
        .get_as("/v1/account/me", &root)
        .await
        .json()
        .await
        .unwrap();
    let root_id = me["account"]["id"].as_str().unwrap().to_owned();
    assert_problem(
        app.post_as(&format!("/v1/admin/accounts/{root_id}/disable"), &root)
            .await,
        409,
        "last_superadmin",
    )
    .await;

    // With a second super admin, one of the two may go, but never both.
    let second = app.superadmin_token().await;
    let second_id = app
        .get_as("/v1/account/me", &second)
        .await
        .json::<Value>()
        .await
        .unwrap()["account"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let disable_root = format!("/v1/admin/accounts/{root_id}/disable");
    let disable_second = format!("/v1/admin/accounts/{second_id}/disable");
    let (a, b) = tokio::join!(
        app.post_as(&disable_root, &second),
        app.post_as(&disable_second, &root)
    );
    let statuses = [a.status().as_u16(), b.status().as_u16()];
    // One may win; the other is refused (409), or finds its caller already disabled (401).
    assert_ne!(statuses, [200, 200], "both super admins were disabled");
    assert!(
        statuses.contains(&200),
        "one of the two may be disabled: {statuses:?}"
    );
}

async fn accounts_are_listed_filtered_and_paginated(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let emails: Vec<String> = (0..5).map(|i| unique_email(&format!("List{i}"))).collect();
    for email in &emails {
        account_id(&app, email).await;
    }
    let filtered: Value = app
        .get_as(
            &format!("/v1/admin/accounts?email={}", emails[2].to_lowercase()),
            &root,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1, "{filtered}");
    assert_eq!(filtered["items"][0]["email"], emails[2]);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/v1/admin/accounts?limit=2&cursor={cursor}"),
            None => "/v1/admin/accounts?limit=2".to_owned(),
        };
        let page: Value = app.get_as(&path, &root).await.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|a| a["email"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6, "5 accounts and the super admin: {seen:?}");
    for email in &emails {
        assert!(seen.contains(email));
    }
    assert_problem(
        app.get_as("/v1/admin/accounts?limit=0", &root).await,
        400,
        "invalid_query",
    )
    .await;
    assert_problem(
        app.get_as("/v1/admin/accounts?limit=201", &root).await,
        400,
        "invalid_query",
    )
    .await;

    let one: Value = app
        .get_as(
            &format!(
                "/v1/admin/accounts/{}",
                filtered["items"][0]["id"].as_str().unwrap()
            ),
            &root,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["email"], emails[2]);
    assert_eq!(one["grants"], json!([]));
    assert_problem(
        app.get_as("/v1/admin/accounts/not-a-uuid", &root).await,
        404,
        "not_found",
    )
    .await;
}

async fn admin_password_reset_revokes_sessions(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let email = unique_email("reset");
    let id = account_id(&app, &email).await;
    let session = app.login_token(&email, PASSWORD).await;
    let new_password = "a brand new and unusual passphrase";
    let reset = app
        .client
        .put(app.url(&format!("/v1/admin/accounts/{id}/password")))
        .bearer_auth(&root)
        .json(&json!({"new_password": new_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 204);
    assert_problem(
        app.get_as("/v1/account/me", &session).await,
        401,
        "unauthenticated",
    )
    .await;
    app.login_token(&email, new_password).await;
}

async fn account_administration_needs_permissions(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let email = unique_email("nobody");
    let id = account_id(&app, &email).await;
    let token = app.login_token(&email, PASSWORD).await;
    assert_problem(
        app.get_as("/v1/admin/accounts", &token).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.get_as(&format!("/v1/admin/accounts/{id}"), &token)
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.post_as(&format!("/v1/admin/accounts/{id}/disable"), &token)
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.client
            .get(app.url("/v1/admin/accounts"))
            .send()
            .await
            .unwrap(),
        401,
        "unauthenticated",
    )
    .await;
}
