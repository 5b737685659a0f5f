//! actix-web 4: [`Caller`] as an extractor, and the refusals as responses.
//!
//! ```no_run
//! use actix_web::{App, HttpResponse, web};
//! use roster_client::actix::Denied;
//! use roster_client::{Authenticator, AuthenticatorConfig, Caller, Client, Requirement};
//!
//! static SIGN: std::sync::LazyLock<Requirement> =
//!     std::sync::LazyLock::new(|| Requirement::new("issuer-sign", "acme").unwrap());
//!
//! async fn sign(caller: Caller) -> Result<HttpResponse, Denied> {
//!     caller.require(&SIGN.action, &SIGN.scope)?;
//!     Ok(HttpResponse::Ok().finish())
//! }
//!
//! # fn app(roster: Client) {
//! let authenticator = Authenticator::new(roster, AuthenticatorConfig::default());
//! let app = App::new()
//!     .app_data(web::Data::new(authenticator))
//!     .route("/sign", web::post().to(sign));
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};

pub use crate::authenticator::{AuthError, Denied};
use crate::authenticator::{Authenticator, Caller, Refusal};

impl FromRequest for Caller {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, actix_web::Error>>>>;

    /// Needs `web::Data<Authenticator>` in the app's data; the caller is kept in the
    /// request's extensions, so a second extraction costs nothing.
    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            if let Some(caller) = request.extensions().get::<Caller>() {
                return Ok(caller.clone());
            }
            let authenticator = request
                .app_data::<web::Data<Authenticator>>()
                .ok_or_else(|| {
                    actix_web::error::ErrorInternalServerError(
                        "roster_client::Authenticator is not in the app's data",
                    )
                })?
                .clone();
            let authorization = request
                .headers()
                .get(header::AUTHORIZATION)
                .map(HeaderValue::as_bytes);
            let caller = authenticator.authenticate_header(authorization).await?;
            request.extensions_mut().insert(caller.clone());
            Ok(caller)
        })
    }
}

fn respond(refusal: &Refusal) -> HttpResponse {
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    response.content_type("application/problem+json");
    if status == StatusCode::UNAUTHORIZED {
        response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.insert_header((header::RETRY_AFTER, "1"));
    }
    response.body(refusal.body())
}

impl ResponseError for AuthError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.refusal().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if let AuthError::Unavailable(error) = self {
            tracing::warn!(%error, "request refused: Roster cannot be asked");
        }
        respond(&self.refusal())
    }
}

impl ResponseError for Denied {
    fn status_code(&self) -> StatusCode {
        StatusCode::FORBIDDEN
    }

    fn error_response(&self) -> HttpResponse {
        respond(&self.refusal())
    }
}
