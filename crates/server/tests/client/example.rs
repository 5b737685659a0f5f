//! The example service of `examples/issuer-service` against the real binary: a granted
//! token passes; a revoked session, a revoked API key, a withdrawn grant and a disabled
//! account fail once `cache_ttl` has passed.

use roster_client::{Authenticator, WhenUnreachable};
use serde_json::Value;

use crate::middleware::{Setup, outlive_the_cache, short_lived};
use crate::on_both_databases;
use crate::support::Db;

on_both_databases!(
    granted_tokens_pass_and_revoked_ones_fail_within_the_cache_ttl,
    a_disabled_account_fails_within_the_cache_ttl,
);

/// Serves the example's app on the test's runtime.
async fn serve(authenticator: Authenticator) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = roster_example_issuer::app(authenticator);
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// `POST {service}/tenants/{tenant}/credentials` with `token`: status and body.
async fn issue(service: &str, tenant: &str, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{service}/tenants/{tenant}/credentials"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn granted_tokens_pass_and_revoked_ones_fail_within_the_cache_ttl(db: Db) {
    let Some(setup) = Setup::new(db).await else {
        return;
    };
    let service = serve(setup.authenticator(short_lived(WhenUnreachable::Refuse))).await;
    let (status, body) = issue(&service, "acme.berlin", &setup.member).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["tenant"], "acme.berlin");
    assert_eq!(issue(&service, "globex", &setup.key).await.0, 201);
    assert_eq!(issue(&service, "globex", &setup.member).await.0, 403);
    let (status, body) = issue(&service, "acme.*", &setup.member).await;
    assert_eq!(status, 404, "a scope pattern is no tenant: {body}");

    // A second session of the same account, with a grant of its own to withdraw.
    let (second_id, second) = setup.roster.account(&setup.root, "second").await;
    let grant = setup
        .roster
        .grant(&setup.root, &second_id, "issuer", "acme")
        .await;
    assert_eq!(issue(&service, "acme", &second).await.0, 201);

    setup
        .roster
        .admin("POST", "/v1/auth/logout", &Value::Null, &setup.member)
        .await;
    setup
        .roster
        .admin(
            "DELETE",
            &format!("/v1/admin/api-keys/{}", setup.key_id),
            &Value::Null,
            &setup.root,
        )
        .await;
    setup
        .roster
        .admin(
            "DELETE",
            &format!("/v1/admin/accounts/{second_id}/grants/{grant}"),
            &Value::Null,
            &setup.root,
        )
        .await;
    outlive_the_cache().await;
    let (status, body) = issue(&service, "acme.berlin", &setup.member).await;
    assert_eq!(status, 401, "a logged-out session: {body}");
    assert_eq!(body["code"], "unauthenticated");
    assert_eq!(
        issue(&service, "globex", &setup.key).await.0,
        401,
        "a revoked key"
    );
    let (status, body) = issue(&service, "acme", &second).await;
    assert_eq!(status, 403, "a withdrawn grant: {body}");
}

async fn a_disabled_account_fails_within_the_cache_ttl(db: Db) {
    let Some(setup) = Setup::new(db).await else {
        return;
    };
    let service = serve(setup.authenticator(short_lived(WhenUnreachable::Refuse))).await;
    assert_eq!(issue(&service, "acme", &setup.member).await.0, 201);
    setup
        .roster
        .admin(
            "POST",
            &format!("/v1/admin/accounts/{}/disable", setup.member_id),
            &Value::Null,
            &setup.root,
        )
        .await;
    outlive_the_cache().await;
    let (status, body) = issue(&service, "acme", &setup.member).await;
    assert_eq!(status, 401, "{body}");
}
