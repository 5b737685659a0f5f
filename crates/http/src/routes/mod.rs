//! Route table. Each resource lists its methods; any other method gets a 405 problem.

mod features;
mod health;
mod login;
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

/// `201 Created` with `Location` and `Cache-Control: no-store`.
fn created(location: String, body: impl serde::Serialize) -> impl Responder {
    HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, location))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .json(body)
}
