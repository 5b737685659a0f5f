//! Route table. Each resource lists its methods; any other method gets a 405 problem.

mod admin_accounts;
mod features;
mod health;
mod login;
mod me;
mod register;

use actix_web::web::{self, ServiceConfig};
use actix_web::{HttpResponse, Responder};

use crate::problem::ApiError;

/// Registers every route. The caller puts `Data<Roster>` and `Data<Arc<dyn Readiness>>`
/// into the app.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(resource("/v1/account/register").route(web::post().to(register::register_self)))
        .service(
            resource("/v1/admin/account/register")
                .route(web::post().to(register::register_by_admin)),
        )
        .service(resource("/v1/auth/login").route(web::post().to(login::login)))
        .service(resource("/v1/auth/logout").route(web::post().to(me::logout)))
        .service(resource("/v1/account/me").route(web::get().to(me::me)))
        .service(resource("/v1/account/me/password").route(web::put().to(me::change_password)))
        .service(resource("/v1/account/me/sessions").route(web::get().to(me::sessions)))
        .service(
            resource("/v1/account/me/sessions/{id}").route(web::delete().to(me::revoke_session)),
        )
        .service(resource("/v1/admin/accounts").route(web::get().to(admin_accounts::list)))
        .service(resource("/v1/admin/accounts/{id}").route(web::get().to(admin_accounts::get)))
        .service(
            resource("/v1/admin/accounts/{id}/disable")
                .route(web::post().to(admin_accounts::disable)),
        )
        .service(
            resource("/v1/admin/accounts/{id}/enable")
                .route(web::post().to(admin_accounts::enable)),
        )
        .service(
            resource("/v1/admin/accounts/{id}/password")
                .route(web::put().to(admin_accounts::reset_password)),
        )
        .service(resource("/v1/features").route(web::get().to(features::list)))
        .service(resource("/healthz").route(web::get().to(health::live)))
        .service(resource("/readyz").route(web::get().to(health::ready)))
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
fn created(location: String, body: impl serde::Serialize) -> impl Responder {
    HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, location))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(body)
}
