use serde_json::{Value, json};

use crate::helpers::{AppOptions, Db, PASSWORD, spawn_app_with, unique_email};
use crate::on_both_databases;

on_both_databases!(bootstrap_from_settings_creates_one_super_admin_idempotently);

async fn bootstrap_from_settings_creates_one_super_admin_idempotently(db: Db) {
    let email = unique_email("boot");
    let env = vec![
        (
            "ROSTER__BOOTSTRAP__SUPERADMIN_EMAIL".to_owned(),
            email.clone(),
        ),
        (
            "ROSTER__BOOTSTRAP__SUPERADMIN_PASSWORD".to_owned(),
            PASSWORD.to_owned(),
        ),
    ];
    let Some(app) = spawn_app_with(
        db,
        AppOptions {
            env: env.clone(),
            ..AppOptions::default()
        },
    )
    .await
    else {
        return;
    };
    // A restart, and two more nodes starting at once, with the same settings.
    let (second, third) = tokio::join!(app.start_sibling(&env), app.start_sibling(&env));
    let token = app.login_token(&email, PASSWORD).await;
    let me: Value = app
        .get_as("/v1/account/me", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["account"]["is_superadmin"], true);

    let accounts: Value = app
        .get_as("/v1/admin/accounts", &token)
        .await
        .json()
        .await
        .unwrap();
    let superadmins = accounts["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["is_superadmin"] == true)
        .count();
    assert_eq!(superadmins, 1, "{accounts}");
    for node in [second, third] {
        let login = app
            .client
            .post(format!("{node}/v1/auth/login"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200, "every node serves the same accounts");
    }
}
