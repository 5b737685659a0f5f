//! What a protected route pays per request once its caller's token is cached: the
//! `Authenticator`'s cache hit (the token's SHA-256, a lookup, the entry's age and expiry)
//! and the local decision (`Caller::require` on the compiled grants). Issue 17 asks under
//! 2 µs. The first request of the token is answered by a one-route stand-in for Roster's
//! introspection on a local socket; every measured request is a cache hit (checked).
//!
//! `cargo bench -p roster-client --bench cached_decision`

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use roster_client::domain::{Action, ScopePath};
use roster_client::{Authenticator, AuthenticatorConfig, Client};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Grants of the benchmarked caller: a realistic tenant admin's, one per tenant.
const GRANTS: usize = 20;
const TOKEN: &str = "rst_benchmarked-session-token-0123456789abcdefghijkl";

/// An active introspection answer: `GRANTS` grants of a role allowing `issuer-*` but
/// denying key deletion, on `tenant0` ... `tenantN`.
fn answer() -> String {
    let grants: Vec<_> = (0..GRANTS)
        .map(|n| {
            json!({
                "id": format!("0190b3e4-7f5a-7c3d-9a41-{n:012}"),
                "role": "issuer-admin",
                "scope": format!("tenant{n}"),
                "permissions": [
                    {"action": "issuer-*", "effect": "allow"},
                    {"action": "issuer-key-delete", "effect": "deny"},
                ],
            })
        })
        .collect();
    json!({
        "active": true,
        "principal": {"kind": "account", "id": "0190b3e4-7f5a-7c3d-9a41-2f6d8e1b5c07",
                      "email": "ada@example.com", "name": "Ada", "is_superadmin": false},
        "grants": grants,
        "grants_version": 1,
        "expires_at": null,
    })
    .to_string()
}

/// Introspections the stand-in answered: one, the first miss, if every measured request
/// was a cache hit.
static ANSWERED: AtomicUsize = AtomicUsize::new(0);

/// Serves the answer to every connection (one request each), for the cache's first miss.
async fn stand_in_for_roster() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let body = answer();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = vec![0; 64 * 1024];
            let _ = stream.read(&mut request).await;
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
            ANSWERED.fetch_add(1, Ordering::SeqCst);
        }
    });
    url
}

fn cached_decision(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let authenticator = runtime.block_on(async {
        let roster = Client::builder(stand_in_for_roster().await)
            .token("rak_service")
            .build()
            .unwrap();
        let authenticator = Authenticator::new(
            roster,
            AuthenticatorConfig {
                // Longer than the measurement: every measured request is a hit.
                cache_ttl: Duration::from_secs(60 * 60),
                ..AuthenticatorConfig::default()
            },
        );
        authenticator.authenticate(TOKEN).await.unwrap();
        authenticator
    });
    let sign = Action::parse("issuer-sign").unwrap();
    let delete = Action::parse("issuer-key-delete").unwrap();
    let scope = ScopePath::parse(&format!("tenant{}.berlin", GRANTS - 1)).unwrap();

    let mut group = c.benchmark_group("middleware");
    group.bench_function("cached token + require (allowed)", |b| {
        b.to_async(&runtime).iter(|| async {
            let caller = authenticator.authenticate(black_box(TOKEN)).await.unwrap();
            caller.require(black_box(&sign), black_box(&scope)).unwrap();
        });
    });
    group.bench_function("cached token + require (denied)", |b| {
        b.to_async(&runtime).iter(|| async {
            let caller = authenticator.authenticate(black_box(TOKEN)).await.unwrap();
            caller
                .require(black_box(&delete), black_box(&scope))
                .unwrap_err();
        });
    });
    let caller = runtime.block_on(authenticator.authenticate(TOKEN)).unwrap();
    group.bench_function("require alone", |b| {
        b.iter(|| caller.require(black_box(&sign), black_box(&scope)).unwrap());
    });
    group.finish();
    assert_eq!(
        ANSWERED.load(Ordering::SeqCst),
        1,
        "a measured request missed the cache"
    );
}

criterion_group!(benches, cached_decision);
criterion_main!(benches);
