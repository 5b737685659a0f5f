//! `roster-client` against the real `roster` executable, on SQLite and (when
//! `ROSTER_TEST_POSTGRES_URL` is set) PostgreSQL: the typed client over the whole API, the
//! actix-web and axum middleware, and the example service of `examples/`.

#[path = "../process/mod.rs"]
mod process;

mod support;

mod api_admin;
mod api_invitations;
mod api_mfa;
mod api_retries;
mod api_self_service;
mod example;
mod local_evaluation;
mod middleware;
mod middleware_actix;
mod middleware_axum;
mod outbox;
mod refusals;
