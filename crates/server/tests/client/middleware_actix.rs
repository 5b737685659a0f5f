//! roster-client's actix-web extractor in a real actix-web server, against the real binary.

use std::net::TcpListener;

use actix_web::{App, HttpResponse, HttpServer, web};
use roster_client::actix::Denied;
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

async fn sign(caller: Caller, scope: web::Path<String>) -> Result<HttpResponse, Denied> {
    let Ok(scope) = ScopePath::parse(&scope) else {
        return Ok(HttpResponse::NotFound().finish());
    };
    caller.require(&Action::parse(SIGN).unwrap(), &scope)?;
    Ok(HttpResponse::Ok().json(json!({"principal": caller.id().to_string()})))
}

/// Serves the protected route on its own actix system (a thread) until the test ends.
fn serve(authenticator: Authenticator) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::new(authenticator.clone()))
                    .route("/scopes/{scope}/sign", web::get().to(sign))
            })
            .workers(1)
            .disable_signals()
            .listen(listener)
            .unwrap()
            .run()
            .await
        })
    });
    url
}

async fn decides_from_introspected_grants_and_caches_them(db: Db) {
    let Some(setup) = Setup::new(db).await else {
        return;
    };
    let service = serve(setup.authenticator(AuthenticatorConfig::default()));
    middleware::decisions_follow_the_grants(&setup, &service).await;
    middleware::a_seen_token_is_not_introspected_again(&setup, &service).await;
}

async fn serves_stale_answers_only_when_configured(db: Db) {
    let Some(setup) = Setup::new(db).await else {
        return;
    };
    let refusing = serve(setup.authenticator(middleware::short_lived(WhenUnreachable::Refuse)));
    let serving_stale = serve(setup.authenticator(middleware::short_lived(
        WhenUnreachable::ServeStaleFor(middleware::OUTAGE_GRACE),
    )));
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
    let service = serve(authenticator.clone());
    middleware::a_refused_service_key_empties_the_cache(&setup, &authenticator, &service).await;
}

#[tokio::test]
async fn an_unreachable_roster_gets_503() {
    let service = serve(middleware::unreachable_authenticator());
    middleware::an_unreachable_roster_refuses_with_503(&service).await;
}

#[tokio::test]
async fn a_flood_of_introspections_is_cut_at_the_limit() {
    let (authenticator, roster) = middleware::one_at_a_time().await;
    let service = serve(authenticator);
    middleware::introspections_in_flight_are_capped(&service, &roster).await;
}
