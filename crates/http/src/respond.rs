//! Success responses the routes share: what account data and tokens need on the way out.

use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder};

/// `200 OK` with `Cache-Control: no-store`, for responses carrying account data.
pub(crate) fn no_store() -> HttpResponseBuilder {
    let mut response = HttpResponse::Ok();
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    response
}

/// `201 Created` with `Location` and `Cache-Control: no-store`.
pub(crate) fn created(location: String, body: impl serde::Serialize) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}
