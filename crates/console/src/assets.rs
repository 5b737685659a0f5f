//! The console's stylesheet and its one small script, compiled into the binary: nothing is
//! fetched from the internet and there is no build step. The script only enhances (a copy
//! button, a confirmation before a destructive action); every flow works without it.

use actix_web::http::header;
use actix_web::web::{self, ServiceConfig};
use actix_web::{HttpResponse, Responder};

const STYLESHEET: &str = include_str!("../assets/console.css");
const SCRIPT: &str = include_str!("../assets/console.js");

/// Browsers may reuse a file for five minutes: short enough that a new release's look
/// arrives quickly, long enough that a page view does not refetch it.
const CACHE: &str = "public, max-age=300";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/assets/console.css", web::get().to(stylesheet))
        .route("/assets/console.js", web::get().to(script));
}

async fn stylesheet() -> impl Responder {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, CACHE))
        .body(STYLESHEET)
}

async fn script() -> impl Responder {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, CACHE))
        .body(SCRIPT)
}
