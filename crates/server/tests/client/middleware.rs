//! What the actix-web and axum middleware must both do, against the real binary: a
//! service with one protected route, `GET /scopes/{scope}/sign`, which needs
//! `issuer-sign` on `{scope}`. The framework modules serve it; these functions judge it.

use std::time::Duration;

use roster_client::{Authenticator, AuthenticatorConfig, Client, WhenUnreachable};
use serde_json::{Value, json};

use crate::support::{Db, Roster};

/// The action the protected route needs.
pub const SIGN: &str = "issuer-sign";
/// A grace for stale answers far longer than any test.
pub const OUTAGE_GRACE: Duration = Duration::from_mins(10);

/// A Roster with an account allowed to sign in `acme` (but denied in `acme.vault`), an
/// API key allowed in `globex`, and a service key that may introspect.
pub struct Setup {
    pub roster: Roster,
    pub root: String,
    pub member_id: String,
    pub member: String,
    pub key_id: String,
    pub key: String,
    pub service: String,
}

impl Setup {
    pub async fn new(db: Db) -> Option<Setup> {
        let roster = Roster::start(db, &[])?;
        let root = roster.root_token().await;
        roster
            .role(
                &root,
                "issuer",
                &[(SIGN, "allow"), ("issuer-read", "allow")],
            )
            .await;
        roster.role(&root, "no-signing", &[(SIGN, "deny")]).await;
        let (member_id, member) = roster.account(&root, "signer").await;
        roster.grant(&root, &member_id, "issuer", "acme").await;
        roster
            .grant(&root, &member_id, "no-signing", "acme.vault")
            .await;
        let key = roster
            .admin(
                "POST",
                "/v1/admin/api-keys",
                &json!({"name": "globex signer", "grants": [{"role": "issuer", "scope": "globex"}]}),
                &root,
            )
            .await;
        let service = roster.service_key(&root).await;
        Some(Setup {
            member_id,
            member,
            key_id: key["id"].as_str().unwrap().to_owned(),
            key: key["key"].as_str().unwrap().to_owned(),
            service,
            root,
            roster,
        })
    }

    /// An authenticator asking this Roster with the service key.
    pub fn authenticator(&self, config: AuthenticatorConfig) -> Authenticator {
        let client = self.roster.client().with_token(self.service.clone());
        Authenticator::new(client, config)
    }

    /// How many introspections Roster has answered (its metrics).
    pub async fn introspections(&self) -> u64 {
        let text = reqwest::get(format!("{}/metrics", self.roster.url()))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .filter(|line| line.starts_with("roster_introspections_total{"))
            .map(|line| line.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
            .sum()
    }
}

/// An authenticator whose Roster is a port where nothing listens.
pub fn unreachable_authenticator() -> Authenticator {
    let port = crate::process::free_port();
    let client = Client::builder(format!("http://127.0.0.1:{port}"))
        .token("rak_whatever")
        .retries(1)
        .backoff(Duration::from_millis(10))
        .build()
        .unwrap();
    Authenticator::new(client, AuthenticatorConfig::default())
}

/// `GET {service}/scopes/{scope}/sign` with `token` (none for `None`): status and body.
pub async fn sign(service: &str, scope: &str, token: Option<&str>) -> (u16, Value, String) {
    let mut request = reqwest::Client::new().get(format!("{service}/scopes/{scope}/sign"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::Null),
        challenge,
    )
}

/// The answers follow the grants: allowed where a grant allows, 403 `forbidden` where none
/// does or a deny wins, 401 `unauthenticated` (with a Bearer challenge) without a usable
/// token; an API key is a caller like an account.
pub async fn decisions_follow_the_grants(setup: &Setup, service: &str) {
    for (scope, token, expected) in [
        ("acme", &setup.member, 200),
        ("acme.berlin", &setup.member, 200),
        ("acme.vault", &setup.member, 403),
        ("acme.vault.x", &setup.member, 403),
        // A scope pattern names no one place: refused like the check endpoint refuses it.
        ("acme.*", &setup.member, 403),
        ("globex", &setup.member, 403),
        ("globex.paris", &setup.key, 200),
        ("acme", &setup.key, 403),
    ] {
        let (status, body, _) = sign(service, scope, Some(token)).await;
        assert_eq!(status, expected, "{scope}: {body}");
        if status == 403 {
            assert_eq!(body["code"], "forbidden", "{body}");
            assert_eq!(body["status"], 403, "{body}");
        }
    }
    let (_, body, _) = sign(service, "acme", Some(&setup.member)).await;
    assert_eq!(body["principal"], format!("account:{}", setup.member_id));
    let (_, body, _) = sign(service, "globex", Some(&setup.key)).await;
    assert_eq!(body["principal"], format!("api_key:{}", setup.key_id));
    for token in [None, Some("rst_not-a-real-token"), Some("")] {
        let (status, body, challenge) = sign(service, "acme", token).await;
        assert_eq!(status, 401, "{token:?}: {body}");
        assert_eq!(body["code"], "unauthenticated", "{body}");
        assert_eq!(challenge, "Bearer");
    }
}

/// Within `cache_ttl`, a token already seen is decided without asking Roster again,
/// whatever the route asks about.
pub async fn a_seen_token_is_not_introspected_again(setup: &Setup, service: &str) {
    assert_eq!(sign(service, "acme", Some(&setup.member)).await.0, 200);
    let before = setup.introspections().await;
    for scope in ["acme", "acme.berlin", "acme.vault", "globex"] {
        sign(service, scope, Some(&setup.member)).await;
    }
    assert_eq!(setup.introspections().await, before, "asked Roster again");
}

/// With Roster unreachable the answer is 503 `unavailable`, never an allow.
pub async fn an_unreachable_roster_refuses_with_503(service: &str) {
    let (status, body, _) = sign(service, "acme", Some("rst_anything")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "unavailable", "{body}");
}

/// The settings of the tests that wait for entries to age: a short life.
pub fn short_lived(when_unreachable: WhenUnreachable) -> AuthenticatorConfig {
    AuthenticatorConfig {
        cache_ttl: Duration::from_millis(300),
        when_unreachable,
        ..AuthenticatorConfig::default()
    }
}

/// Waits until an entry cached now has outlived [`short_lived`]'s `cache_ttl`.
pub async fn outlive_the_cache() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

/// Roster stops after a token was seen: by default, once the entry is older than
/// `cache_ttl`, 503; with [`WhenUnreachable::ServeStaleFor`], the seen token keeps its
/// answer for the grace period while a token never seen still gets 503.
pub async fn when_roster_goes_away(setup: Setup, refusing: &str, serving_stale: &str) {
    for service in [refusing, serving_stale] {
        assert_eq!(sign(service, "acme", Some(&setup.member)).await.0, 200);
        assert_eq!(sign(service, "acme", Some(&setup.member)).await.0, 200);
    }
    drop(setup.roster);
    outlive_the_cache().await;
    let (status, body, _) = sign(refusing, "acme", Some(&setup.member)).await;
    assert_eq!(
        status, 503,
        "the default refuses once the entry aged: {body}"
    );
    let (status, body, _) = sign(serving_stale, "acme", Some(&setup.member)).await;
    assert_eq!(
        status, 200,
        "a stale answer serves through the outage: {body}"
    );
    let (status, _, _) = sign(serving_stale, "globex", Some(&setup.member)).await;
    assert_eq!(status, 403, "and still decides by the grants");
    let (status, body, _) = sign(serving_stale, "globex", Some(&setup.key)).await;
    assert_eq!(status, 503, "a token never seen is refused: {body}");
}

/// Roster refuses the service's own key (revoked): everything it said with that key is
/// forgotten at once, even entries still fresh, and requests get 503, not a cached allow.
/// `authenticator` serves `service`, with a `cache_ttl` far longer than the test.
pub async fn a_refused_service_key_empties_the_cache(
    setup: &Setup,
    authenticator: &Authenticator,
    service: &str,
) {
    assert_eq!(sign(service, "acme", Some(&setup.member)).await.0, 200);
    assert_eq!(sign(service, "globex", Some(&setup.key)).await.0, 200);
    let keys = setup
        .roster
        .admin("GET", "/v1/admin/api-keys", &Value::Null, &setup.root)
        .await;
    let service_key = keys["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["name"] == "a service")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    setup
        .roster
        .admin(
            "DELETE",
            &format!("/v1/admin/api-keys/{service_key}"),
            &Value::Null,
            &setup.root,
        )
        .await;
    // Both entries are fresh; the member's is dropped so that its next request asks Roster,
    // which answers 401 to the revoked service key.
    authenticator.forget(&setup.member);
    let (status, body, _) = sign(service, "acme", Some(&setup.member)).await;
    assert_eq!(status, 503, "{body}");
    let (status, body, _) = sign(service, "globex", Some(&setup.key)).await;
    assert_eq!(
        status, 503,
        "the key's fresh entry went with the cache: {body}"
    );
}

/// With `max_concurrent_introspections` waiting for Roster, one more unknown token gets
/// 503 `overloaded` at once instead of another connection to Roster. `roster` accepts
/// connections and never answers.
pub async fn introspections_in_flight_are_capped(service: &str, roster: &tokio::net::TcpListener) {
    let first = {
        let service = service.to_owned();
        tokio::spawn(async move { sign(&service, "acme", Some("rst_first")).await })
    };
    // The first introspection holds the only permit once its connection is accepted.
    let (_held, _) = roster.accept().await.unwrap();
    let (status, body, _) = sign(service, "acme", Some("rst_second")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "overloaded", "{body}");
    first.abort();
}

/// An authenticator allowing one introspection at a time, against a Roster that accepts
/// connections and never answers; the listener, to see the first question arrive.
pub async fn one_at_a_time() -> (Authenticator, tokio::net::TcpListener) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = Client::builder(format!("http://{}", listener.local_addr().unwrap()))
        .token("rak_whatever")
        .build()
        .unwrap();
    let config = AuthenticatorConfig {
        max_concurrent_introspections: 1,
        ..AuthenticatorConfig::default()
    };
    (Authenticator::new(client, config), listener)
}
