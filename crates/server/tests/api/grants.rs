//! Grants and delegated administration: `grant-manage` on the scope plus no escalation (a
//! delegate gives only roles it fully holds, only inside its own scope), revocation on the
//! very next request, and grants given together with a new account or API key, all or
//! nothing.

use serde_json::{Value, json};

use crate::helpers::{
    AppOptions, Db, Member, PASSWORD, TestApp, assert_problem, spawn_app, spawn_app_with,
    unique_email,
};
use crate::on_both_databases;

on_both_databases!(
    a_delegate_gives_only_what_it_holds_inside_its_scope,
    grant_requests_are_validated,
    revocation_is_seen_on_the_very_next_request,
    a_delegate_cannot_revoke_outside_its_scope,
    grant_holders_and_grants_must_exist,
    api_keys_hold_the_grants_they_are_given,
    admin_registration_with_grants_is_all_or_nothing,
    a_delegate_cannot_create_an_account_with_more_than_it_holds,
    repeated_grants_in_one_creation_request_are_422,
    grants_per_holder_are_capped,
    grant_lists_are_pages,
);

/// Root's token, and a delegate D holding `org-admin` (grant-manage, issuer-*) on `acme`.
/// Also creates `issuer-reader` (issuer-read) and `everything` (all).
async fn delegation_setup(app: &TestApp) -> (String, Member) {
    let root = app.superadmin_token().await;
    app.create_role(
        &root,
        "org-admin",
        &[("grant-manage", "allow"), ("issuer-*", "allow")],
    )
    .await;
    app.create_role(&root, "issuer-reader", &[("issuer-read", "allow")])
        .await;
    app.create_role(&root, "everything", &[("all", "allow")])
        .await;
    let delegate = app.new_account("delegate").await;
    app.grant_ok(&root, &delegate.id, "org-admin", "acme").await;
    (root, delegate)
}

fn grants_path(account: &str) -> String {
    format!("/v1/admin/accounts/{account}/grants")
}

async fn a_delegate_gives_only_what_it_holds_inside_its_scope(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (root, delegate) = delegation_setup(&app).await;
    let user = app.new_account("user").await;

    let response = app
        .grant(&delegate.token, &user.id, "issuer-reader", "acme.berlin")
        .await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let grant: Value = response.json().await.unwrap();
    assert_eq!(grant["role"], "issuer-reader");
    assert_eq!(grant["scope"], "acme.berlin");
    assert_eq!(grant["created_by"], format!("account:{}", delegate.id));
    assert!(grant["created_at"].is_string());
    assert_eq!(
        location,
        format!(
            "{}/{}",
            grants_path(&user.id),
            grant["id"].as_str().unwrap()
        )
    );

    for (role, scope, why) in [
        ("everything", "acme.berlin", "a role with `all`"),
        ("issuer-reader", "globex", "outside its scope"),
        ("issuer-reader", "*", "above its scope"),
    ] {
        let response = app.grant(&delegate.token, &user.id, role, scope).await;
        assert_eq!(response.status(), 403, "{why}");
        assert_problem(response, 403, "forbidden").await;
    }
    // A holder without `grant-manage` gives nothing, even a role it holds, and learns
    // nothing about which roles exist.
    let other = app.new_account("other").await;
    for role in ["issuer-reader", "no-such-role"] {
        assert_problem(
            app.grant(&user.token, &other.id, role, "acme.berlin").await,
            403,
            "forbidden",
        )
        .await;
    }
    assert_problem(
        app.grant(&delegate.token, &other.id, "no-such-role", "globex")
            .await,
        403,
        "forbidden",
    )
    .await;

    assert_problem(
        app.grant(&delegate.token, &user.id, "issuer-reader", "acme.berlin")
            .await,
        409,
        "grant_exists",
    )
    .await;

    // Listing needs `account-read`, which the delegate lacks; root sees the one grant.
    assert_problem(
        app.get_as(&grants_path(&user.id), &delegate.token).await,
        403,
        "forbidden",
    )
    .await;
    let listed: Value = app
        .get_as(&grants_path(&user.id), &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([grant]), "{listed}");
    assert_eq!(listed["next_cursor"], Value::Null);
}

async fn grant_requests_are_validated(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (root, delegate) = delegation_setup(&app).await;
    let user = app.new_account("user").await;
    for token in [&delegate.token, &root] {
        let problem = assert_problem(
            app.grant(token, &user.id, "issuer-reader", "Acme..x").await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "scope", "{problem}");
        assert_eq!(problem["errors"][0]["code"], "invalid_scope");

        let problem = assert_problem(
            app.grant(token, &user.id, "Bad Role", "acme").await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], "role", "{problem}");

        assert_problem(
            app.grant(token, &user.id, "no-such-role", "acme.berlin")
                .await,
            404,
            "role_not_found",
        )
        .await;
    }
    let problem = assert_problem(
        app.post_json(
            &grants_path(&user.id),
            &json!({"role": "issuer-reader", "scope": "acme", "scopes": []}),
            Some(&root),
        )
        .await,
        400,
        "invalid_body",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("scopes"));
    let listed: Value = app
        .get_as(&grants_path(&user.id), &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]), "nothing was granted");
}

async fn revocation_is_seen_on_the_very_next_request(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (root, delegate) = delegation_setup(&app).await;
    let user = app.new_account("user").await;
    let grant = app
        .grant_ok(&delegate.token, &user.id, "issuer-reader", "acme.berlin")
        .await;
    assert!(
        app.allowed(&user.token, "issuer-read", "acme.berlin.x")
            .await
    );
    assert!(!app.allowed(&user.token, "issuer-read", "acme.paris").await);

    let path = format!("{}/{grant}", grants_path(&user.id));
    assert_eq!(app.delete_as(&path, &delegate.token).await.status(), 204);
    let check = app
        .check(
            &user.token,
            &json!({"action": "issuer-read", "scope": "acme.berlin.x"}),
        )
        .await;
    assert_eq!(check["allowed"], false, "{check}");
    assert_eq!(check["explanation"]["reason"], "no_matching_grant");
    let me: Value = app
        .get_as("/v1/account/me", &user.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["grants"], json!([]));
    assert_problem(app.delete_as(&path, &root).await, 404, "not_found").await;

    // Root may revoke what a delegate gave, with the same immediate effect.
    let grant = app
        .grant_ok(&delegate.token, &user.id, "issuer-reader", "acme.berlin")
        .await;
    assert!(
        app.allowed(&user.token, "issuer-read", "acme.berlin.x")
            .await
    );
    let path = format!("{}/{grant}", grants_path(&user.id));
    assert_eq!(app.delete_as(&path, &root).await.status(), 204);
    assert!(
        !app.allowed(&user.token, "issuer-read", "acme.berlin.x")
            .await
    );
}

async fn a_delegate_cannot_revoke_outside_its_scope(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (root, delegate) = delegation_setup(&app).await;
    let user = app.new_account("user").await;
    let elsewhere = app
        .grant_ok(&root, &user.id, "issuer-reader", "globex")
        .await;
    let everything = app
        .grant_ok(&root, &user.id, "everything", "acme.berlin")
        .await;
    for grant in [&elsewhere, &everything] {
        assert_problem(
            app.delete_as(
                &format!("{}/{grant}", grants_path(&user.id)),
                &delegate.token,
            )
            .await,
            403,
            "forbidden",
        )
        .await;
    }
    assert!(app.allowed(&user.token, "issuer-read", "globex").await);
    assert!(app.allowed(&user.token, "anything", "acme.berlin").await);
}

async fn grant_holders_and_grants_must_exist(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (root, _) = delegation_setup(&app).await;
    let user = app.new_account("user").await;
    let other = app.new_account("other").await;
    let grant = app.grant_ok(&root, &user.id, "issuer-reader", "acme").await;
    let unknown = "0190a4b2-7c3d-7e8f-9a0b-1c2d3e4f5a6b";
    for holder in [unknown, "not-an-id"] {
        for kind in ["accounts", "api-keys"] {
            let path = format!("/v1/admin/{kind}/{holder}/grants");
            let body = json!({"role": "issuer-reader", "scope": "acme"});
            assert_problem(
                app.post_json(&path, &body, Some(&root)).await,
                404,
                "not_found",
            )
            .await;
            assert_problem(app.get_as(&path, &root).await, 404, "not_found").await;
            assert_problem(
                app.delete_as(&format!("{path}/{grant}"), &root).await,
                404,
                "not_found",
            )
            .await;
        }
    }
    for path in [
        format!("{}/{unknown}", grants_path(&user.id)),
        format!("{}/not-an-id", grants_path(&user.id)),
        // Another account's grant is not found through this account.
        format!("{}/{grant}", grants_path(&other.id)),
    ] {
        assert_problem(app.delete_as(&path, &root).await, 404, "not_found").await;
    }
    assert!(app.allowed(&user.token, "issuer-read", "acme").await);
}

async fn api_keys_hold_the_grants_they_are_given(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (root, _) = delegation_setup(&app).await;
    let response = app
        .post_json(
            "/v1/admin/api-keys",
            &json!({"name": "issuer bot", "grants": [{"role": "issuer-reader", "scope": "acme"}]}),
            Some(&root),
        )
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let key = created["key"].as_str().unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["grants"][0]["role"], "issuer-reader");
    assert_eq!(created["grants"][0]["scope"], "acme");

    assert!(app.allowed(key, "issuer-read", "acme.berlin").await);
    assert!(!app.allowed(key, "issuer-read", "globex").await);
    assert!(!app.allowed(key, "issuer-write", "acme").await);
    let me: Value = app
        .get_as("/v1/account/me", key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["api_key"]["id"], id);
    assert_eq!(me["grants"].as_array().unwrap().len(), 1, "{me}");
    assert_eq!(me["grants"][0]["role"], "issuer-reader");
    assert_eq!(me["grants"][0]["scope"], "acme");
    assert_eq!(me["grants"][0]["id"], created["grants"][0]["id"]);

    // More grants through the key's grants resource, seen by the key's next request.
    let key_grants = format!("/v1/admin/api-keys/{id}/grants");
    let added = app
        .post_json(
            &key_grants,
            &json!({"role": "everything", "scope": "globex"}),
            Some(&root),
        )
        .await;
    assert_eq!(added.status(), 201);
    let added: Value = added.json().await.unwrap();
    assert!(app.allowed(key, "issuer-write", "globex.x").await);
    assert_problem(
        app.post_json(
            &key_grants,
            &json!({"role": "everything", "scope": "globex"}),
            Some(&root),
        )
        .await,
        409,
        "grant_exists",
    )
    .await;
    let listed: Value = app.get_as(&key_grants, &root).await.json().await.unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 2, "{listed}");
    let details: Value = app
        .get_as(&format!("/v1/admin/api-keys/{id}"), &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(details["grants"], listed["items"]);

    let removed = app
        .delete_as(
            &format!("{key_grants}/{}", added["id"].as_str().unwrap()),
            &root,
        )
        .await;
    assert_eq!(removed.status(), 204);
    assert!(!app.allowed(key, "issuer-write", "globex.x").await);
    assert!(app.allowed(key, "issuer-read", "acme").await);

    // A key with an unknown role is not created at all.
    let before: Value = app
        .get_as("/v1/admin/api-keys", &root)
        .await
        .json()
        .await
        .unwrap();
    assert_problem(
        app.post_json(
            "/v1/admin/api-keys",
            &json!({"name": "ghost", "grants": [
                {"role": "issuer-reader", "scope": "acme"},
                {"role": "no-such-role", "scope": "acme"},
            ]}),
            Some(&root),
        )
        .await,
        404,
        "role_not_found",
    )
    .await;
    let after: Value = app
        .get_as("/v1/admin/api-keys", &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before, after, "no key was left behind");
}

/// `GET /v1/admin/accounts?email=` as root: the matching accounts.
async fn accounts_with_email(app: &TestApp, root: &str, email: &str) -> Vec<Value> {
    let response = app
        .get_as(
            &format!("/v1/admin/accounts?email={}", email.to_lowercase()),
            root,
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

async fn admin_registration_with_grants_is_all_or_nothing(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (root, _) = delegation_setup(&app).await;
    let email = unique_email("granted");
    let register = |grants: Value| {
        let body = json!({"email": email, "password": PASSWORD, "grants": grants});
        let app = &app;
        let root = &root;
        async move {
            app.post_json("/v1/admin/account/register", &body, Some(root))
                .await
        }
    };

    let unknown_role = json!([
        {"role": "issuer-reader", "scope": "acme"},
        {"role": "no-such-role", "scope": "acme"},
    ]);
    assert_problem(register(unknown_role).await, 404, "role_not_found").await;
    assert!(accounts_with_email(&app, &root, &email).await.is_empty());

    let bad_scope = json!([{"role": "issuer-reader", "scope": "acme"}, {"role": "issuer-reader", "scope": "Acme..x"}]);
    let problem = assert_problem(register(bad_scope).await, 422, "validation_failed").await;
    assert_eq!(
        problem["errors"][0]["field"], "grants[1].scope",
        "{problem}"
    );
    assert!(accounts_with_email(&app, &root, &email).await.is_empty());

    let response = register(json!([
        {"role": "issuer-reader", "scope": "acme.berlin"},
        {"role": "org-admin", "scope": "globex"},
    ]))
    .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["email"], email);
    let given: Vec<(&str, &str)> = created["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["role"].as_str().unwrap(), g["scope"].as_str().unwrap()))
        .collect();
    assert_eq!(
        given,
        [("issuer-reader", "acme.berlin"), ("org-admin", "globex")]
    );
    let found = accounts_with_email(&app, &root, &email).await;
    assert_eq!(found.len(), 1);
    let details: Value = app
        .get_as(
            &format!("/v1/admin/accounts/{}", created["id"].as_str().unwrap()),
            &root,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(details["grants"].as_array().unwrap().len(), 2, "{details}");
    let token = app.login_token(&email, PASSWORD).await;
    assert!(app.allowed(&token, "issuer-read", "acme.berlin.x").await);
    assert!(app.allowed(&token, "grant-manage", "globex").await);
    assert!(!app.allowed(&token, "issuer-read", "acme").await);
}

async fn a_delegate_cannot_create_an_account_with_more_than_it_holds(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (root, delegate) = delegation_setup(&app).await;
    app.create_role(&root, "account-creator", &[("account-create", "allow")])
        .await;
    app.grant_ok(&root, &delegate.id, "account-creator", "*")
        .await;

    let register = |email: &str, role: &str, scope: &str| {
        let body = json!({
            "email": email,
            "password": PASSWORD,
            "grants": [{"role": role, "scope": scope}],
        });
        let app = &app;
        let token = delegate.token.clone();
        async move {
            app.post_json("/v1/admin/account/register", &body, Some(&token))
                .await
        }
    };
    for (role, scope) in [
        ("everything", "acme.berlin"),
        ("issuer-reader", "globex"),
        ("account-creator", "*"),
    ] {
        let email = unique_email("escalated");
        assert_problem(register(&email, role, scope).await, 403, "forbidden").await;
        assert!(
            accounts_with_email(&app, &root, &email).await.is_empty(),
            "{role} on {scope}: nothing created"
        );
    }

    let email = unique_email("delegated");
    let response = register(&email, "issuer-reader", "acme.berlin").await;
    assert_eq!(response.status(), 201);
    assert_eq!(accounts_with_email(&app, &root, &email).await.len(), 1);
}

async fn repeated_grants_in_one_creation_request_are_422(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (root, _) = delegation_setup(&app).await;
    let grants = json!([
        {"role": "issuer-reader", "scope": "acme"},
        {"role": "issuer-reader", "scope": "globex"},
        {"role": "issuer-reader", "scope": "acme"},
    ]);
    let email = unique_email("twice");
    let problem = assert_problem(
        app.post_json(
            "/v1/admin/account/register",
            &json!({"email": email, "password": PASSWORD, "grants": grants}),
            Some(&root),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "grants[2]", "{problem}");
    assert_eq!(problem["errors"][0]["code"], "duplicate_grant");
    assert!(accounts_with_email(&app, &root, &email).await.is_empty());

    let problem = assert_problem(
        app.post_json(
            "/v1/admin/api-keys",
            &json!({"name": "twice", "grants": grants}),
            Some(&root),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "grants[2]", "{problem}");
    let keys: Value = app
        .get_as("/v1/admin/api-keys", &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(keys["items"], json!([]));
}

/// `[{"role": role, "scope": "acme.s<i>"}, ...]` for `i` in `range`.
fn numbered_grants(role: &str, range: std::ops::Range<usize>) -> Vec<Value> {
    range
        .map(|i| json!({"role": role, "scope": format!("acme.s{i}")}))
        .collect()
}

async fn grants_per_holder_are_capped(db: Db) {
    let options = AppOptions {
        env: vec![("ROSTER__GRANTS__MAX_PER_HOLDER".into(), "3".into())],
        ..AppOptions::default()
    };
    let Some(app) = spawn_app_with(db, options).await else {
        return;
    };
    let (root, delegate) = delegation_setup(&app).await;
    let target = app.new_account("target").await;

    // A delegate inside its scope fills the account up to the cap, and no further.
    let mut given = Vec::new();
    for grant in numbered_grants("issuer-reader", 0..3) {
        let response = app
            .post_json(&grants_path(&target.id), &grant, Some(&delegate.token))
            .await;
        assert_eq!(response.status(), 201, "{grant}");
        given.push(response.json::<Value>().await.unwrap()["id"].clone());
    }
    let one_more = json!({"role": "issuer-reader", "scope": "acme.s3"});
    let problem = assert_problem(
        app.post_json(&grants_path(&target.id), &one_more, Some(&delegate.token))
            .await,
        409,
        "too_many_grants",
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains('3'),
        "{problem}"
    );
    // Super admins too: the cap protects the holder, whoever grants.
    assert_problem(
        app.post_json(&grants_path(&target.id), &one_more, Some(&root))
            .await,
        409,
        "too_many_grants",
    )
    .await;
    let listed: Value = app
        .get_as(&grants_path(&target.id), &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 3, "{listed}");
    // Taking one away makes room for one.
    let first = given[0].as_str().unwrap();
    assert_eq!(
        app.delete_as(&format!("{}/{first}", grants_path(&target.id)), &root)
            .await
            .status(),
        204
    );
    let response = app
        .post_json(&grants_path(&target.id), &one_more, Some(&delegate.token))
        .await;
    assert_eq!(response.status(), 201);

    // Grants given at creation count too: more than the cap is refused, nothing is created.
    let email = unique_email("crowded");
    assert_problem(
        app.post_json(
            "/v1/admin/account/register",
            &json!({"email": email, "password": PASSWORD,
                    "grants": numbered_grants("issuer-reader", 0..4)}),
            Some(&root),
        )
        .await,
        409,
        "too_many_grants",
    )
    .await;
    assert!(accounts_with_email(&app, &root, &email).await.is_empty());
    let response = app
        .post_json(
            "/v1/admin/api-keys",
            &json!({"name": "crowded", "grants": numbered_grants("issuer-reader", 0..4)}),
            Some(&root),
        )
        .await;
    assert_problem(response, 409, "too_many_grants").await;
    // At the cap is fine, and then the key is full.
    let response = app
        .post_json(
            "/v1/admin/api-keys",
            &json!({"name": "full", "grants": numbered_grants("issuer-reader", 0..3)}),
            Some(&root),
        )
        .await;
    assert_eq!(response.status(), 201);
    let key: Value = response.json().await.unwrap();
    let key_grants = format!("/v1/admin/api-keys/{}/grants", key["id"].as_str().unwrap());
    assert_problem(
        app.post_json(&key_grants, &one_more, Some(&root)).await,
        409,
        "too_many_grants",
    )
    .await;
}

async fn grant_lists_are_pages(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let (root, _) = delegation_setup(&app).await;
    let holder = app.new_account("holder").await;
    let mut given = Vec::new();
    for grant in numbered_grants("issuer-reader", 0..5) {
        let response = app
            .post_json(&grants_path(&holder.id), &grant, Some(&root))
            .await;
        assert_eq!(response.status(), 201);
        given.push(response.json::<Value>().await.unwrap()["id"].clone());
    }
    let key: Value = app
        .post_json(
            "/v1/admin/api-keys",
            &json!({"name": "paged", "grants": numbered_grants("issuer-reader", 0..5)}),
            Some(&root),
        )
        .await
        .json()
        .await
        .unwrap();
    let key_grants = format!("/v1/admin/api-keys/{}/grants", key["id"].as_str().unwrap());

    for list in [grants_path(&holder.id), key_grants] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &cursor {
                None => format!("{list}?limit=2"),
                Some(cursor) => format!("{list}?limit=2&cursor={cursor}"),
            };
            let response = app.get_as(&path, &root).await;
            assert_eq!(response.status(), 200, "{path}");
            let page: Value = response.json().await.unwrap();
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 2, "{page}");
            seen.extend(items.iter().map(|grant| grant["id"].clone()));
            pages += 1;
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!((seen.len(), pages), (5, 3), "{list}: {seen:?}");
        if list.starts_with("/v1/admin/accounts") {
            assert_eq!(seen, given, "oldest first");
        }
        // The default page holds them all; bad parameters are 400s naming themselves.
        let all: Value = app.get_as(&list, &root).await.json().await.unwrap();
        assert_eq!(all["items"].as_array().unwrap().len(), 5);
        assert_eq!(all["next_cursor"], Value::Null);
        for (query, name) in [
            ("limit=0", "limit"),
            ("limit=201", "limit"),
            ("cursor=x", "cursor"),
        ] {
            let problem = assert_problem(
                app.get_as(&format!("{list}?{query}"), &root).await,
                400,
                "invalid_query",
            )
            .await;
            assert!(
                problem["detail"].as_str().unwrap().contains(name),
                "{problem}"
            );
        }
    }
    // The account's own page still shows every grant (bounded by the cap).
    let details: Value = app
        .get_as(&format!("/v1/admin/accounts/{}", holder.id), &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(details["grants"].as_array().unwrap().len(), 5);
}
