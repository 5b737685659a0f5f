//! roster-client's axum extractor in a real axum server, against the real binary.

use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use roster_client::domain::{Action, ScopePath};
use roster_client::{Authenticator, AuthenticatorConfig, Caller, WhenUnreachable};
use serde_json::json;

use crate::middleware::{self, SIGN, Setup};
use crate::on_both_databases;
use crate::support::Db;

on_both_databases!(
    decides_from_introspected_grants_and_caches_them,
    serves_stale_answers_only_when_configured,
    forgets_everything_when_roster_refuses_its_key,
);

async fn sign(caller: Caller, Path(scope): Path<String>) -> Response {
    let Ok(scope) = ScopePath::parse(&scope) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match caller.require(&Action::parse(SIGN).unwrap(), &scope) {
        Ok(()) => Json(json!({"principal": caller.id().to_string()})).into_response(),
        Err(denied) => denied.into_response(),
    }
}

/// Serves the protected route on the test's runtime until the test ends.
async fn serve(authenticator: Authenticator) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/scopes/{scope}/sign", get(sign))
        .with_state(authenticator);
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn decides_from_introspected_grants_and_caches_them(db: Db) {
    let Some(setup) = Setup::new(db).await else {
        return;
    };
    let service = serve(setup.authenticator(AuthenticatorConfig::default())).await;
    middleware::decisions_follow_the_grants(&setup, &service).await;
    middleware::a_seen_token_is_not_introspected_again(&setup, &service).await;
}

async fn serves_stale_answers_only_when_configured(db: Db) {
    let Some(setup) = Setup::new(db).await else {
        return;
    };
    let refusing =
        serve(setup.authenticator(middleware::short_lived(WhenUnreachable::Refuse))).await;
    let serving_stale = serve(setup.authenticator(middleware::short_lived(
        WhenUnreachable::ServeStaleFor(middleware::OUTAGE_GRACE),
    )))
    .await;
    middleware::when_roster_goes_away(setup, &refusing, &serving_stale).await;
}

async fn forgets_everything_when_roster_refuses_its_key(db: Db) {
    let Some(setup) = Setup::new(db).await else {
        return;
    };
    let authenticator = setup.authenticator(AuthenticatorConfig {
        when_unreachable: WhenUnreachable::ServeStaleFor(middleware::OUTAGE_GRACE),
        ..AuthenticatorConfig::default()
    });
    let service = serve(authenticator.clone()).await;
    middleware::a_refused_service_key_empties_the_cache(&setup, &authenticator, &service).await;
}

#[tokio::test]
async fn an_unreachable_roster_gets_503() {
    let service = serve(middleware::unreachable_authenticator()).await;
    middleware::an_unreachable_roster_refuses_with_503(&service).await;
}

#[tokio::test]
async fn a_flood_of_introspections_is_cut_at_the_limit() {
    let (authenticator, roster) = middleware::one_at_a_time().await;
    let service = serve(authenticator).await;
    middleware::introspections_in_flight_are_capped(&service, &roster).await;
}
