//! Route table. Each resource lists its methods; any other method gets a 405 problem.
//! Every route here is documented in `crate::openapi` (checked by the server's API tests).

pub(crate) mod admin_accounts;
pub(crate) mod admin_api_keys;
pub(crate) mod audit;
pub(crate) mod authz;
pub(crate) mod features;
pub(crate) mod grants;
pub(crate) mod health;
pub(crate) mod login;
pub(crate) mod me;
pub(crate) mod register;
pub(crate) mod roles;

use actix_web::HttpResponse;
use actix_web::web::{self, ServiceConfig};

use crate::problem::ApiError;

/// Registers every route. The caller puts `Data<Roster>` and `Data<ClientRateLimiter>` (login
/// and public registration) into the app.
///
/// actix tries resources in registration order (and again for the metrics' route label),
/// and every pattern with a `{parameter}` is a regex match: the two calls services make on
/// every request come first, so they skip the walk over the administration routes (about
/// 10 µs of CPU for the check when it came after them).
pub fn configure(cfg: &mut ServiceConfig) {
    // Routes read queries with `ApiQuery`; a `web::Query` still answers with a problem.
    cfg.app_data(web::QueryConfig::default().error_handler(|error, _| {
        ApiError::InvalidQuery {
            name: "?".to_owned(),
            code: "invalid_value",
            message: error.to_string(),
        }
        .into()
    }))
    .service(resource("/v1/authz/check").route(web::post().to(authz::check)))
    .service(resource("/v1/account/me").route(web::get().to(me::me)))
    .service(resource("/v1/account/register").route(web::post().to(register::register_self)))
    .service(
        resource("/v1/admin/account/register").route(web::post().to(register::register_by_admin)),
    )
    .service(resource("/v1/auth/login").route(web::post().to(login::login)))
    .service(resource("/v1/auth/logout").route(web::post().to(me::logout)))
    .service(resource("/v1/account/me/password").route(web::put().to(me::change_password)))
    .service(resource("/v1/account/me/sessions").route(web::get().to(me::sessions)))
    .service(resource("/v1/account/me/sessions/{id}").route(web::delete().to(me::revoke_session)))
    .service(resource("/v1/admin/accounts").route(web::get().to(admin_accounts::list)))
    .service(resource("/v1/admin/accounts/{id}").route(web::get().to(admin_accounts::get)))
    .service(
        resource("/v1/admin/accounts/{id}/disable").route(web::post().to(admin_accounts::disable)),
    )
    .service(
        resource("/v1/admin/accounts/{id}/enable").route(web::post().to(admin_accounts::enable)),
    )
    .service(
        resource("/v1/admin/accounts/{id}/password")
            .route(web::put().to(admin_accounts::reset_password)),
    )
    .service(
        resource("/v1/admin/api-keys")
            .route(web::post().to(admin_api_keys::create))
            .route(web::get().to(admin_api_keys::list)),
    )
    .service(
        resource("/v1/admin/api-keys/{id}")
            .route(web::get().to(admin_api_keys::get))
            .route(web::delete().to(admin_api_keys::revoke)),
    )
    .service(
        resource("/v1/admin/accounts/{id}/grants")
            .route(web::post().to(grants::create_for_account))
            .route(web::get().to(grants::list_for_account)),
    )
    .service(
        resource("/v1/admin/accounts/{id}/grants/{grant_id}")
            .route(web::delete().to(grants::delete_for_account)),
    )
    .service(
        resource("/v1/admin/api-keys/{id}/grants")
            .route(web::post().to(grants::create_for_api_key))
            .route(web::get().to(grants::list_for_api_key)),
    )
    .service(
        resource("/v1/admin/api-keys/{id}/grants/{grant_id}")
            .route(web::delete().to(grants::delete_for_api_key)),
    )
    .service(
        resource("/v1/admin/roles")
            .route(web::post().to(roles::create))
            .route(web::get().to(roles::list)),
    )
    .service(
        resource("/v1/admin/roles/{name}")
            .route(web::get().to(roles::get))
            .route(web::put().to(roles::replace))
            .route(web::delete().to(roles::delete)),
    )
    .service(resource("/v1/admin/audit-events").route(web::get().to(audit::list)))
    .service(resource("/v1/features").route(web::get().to(features::list)))
    .service(resource("/healthz").route(web::get().to(health::live)))
    .service(resource("/readyz").route(web::get().to(health::ready)))
    .service(resource("/metrics").route(web::get().to(health::metrics)))
    .service(resource("/openapi.json").route(web::get().to(health::openapi)))
    .default_service(web::to(not_found));
}

fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

/// `200 OK` with `Cache-Control: no-store`, for responses carrying account data.
fn no_store() -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    response.insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"));
    response
}

/// `201 Created` with `Location` and `Cache-Control: no-store`.
fn created(location: String, body: impl serde::Serialize) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, location))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(body)
}
