//! The few JSON requests the console's script makes: the WebAuthn ceremonies (passkeys), which
//! need the browser's `navigator.credentials` between a start and a finish, so they cannot be
//! plain forms. They are protected like forms: the same origin check in front of every
//! route ([`crate::csrf::refuse_cross_origin`]), and the same token, sent in the
//! [`CSRF_HEADER`] header instead of a field. A JSON body also cannot come from another
//! site's form (browsers send forms as `application/x-www-form-urlencoded`, `multipart` or
//! `text/plain`, and a script of another origin would need a CORS preflight this server
//! never grants).

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::csrf;
use crate::forms::{has_content_type, read_body};
use crate::render::ConsoleError;

/// The header carrying the CSRF token of a JSON request.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A JSON request body, CSRF-checked, parsed into `T`.
#[derive(Debug)]
pub struct JsonRequest<T>(pub T);

/// The browser's `PublicKeyCredential` as JSON: an object, which the relying party reads.
pub type Credential = serde_json::Map<String, Value>;

/// A credential as the JSON text the use cases take.
pub fn credential_json(credential: Credential) -> String {
    Value::Object(credential).to_string()
}

/// A JSON body with nothing in it (`{}`): a start of a ceremony.
#[derive(Debug, serde::Deserialize)]
pub struct Empty {}

impl<T: DeserializeOwned + 'static> FromRequest for JsonRequest<T> {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            if !has_content_type(&req, "application/json") {
                return Err(ConsoleError::BadForm(
                    "The request must be sent as application/json.",
                ));
            }
            let body = read_body(&req, &mut payload).await?;
            let token = req
                .headers()
                .get(CSRF_HEADER)
                .and_then(|value| value.to_str().ok());
            csrf::verify(&req, token).map_err(ConsoleError::Csrf)?;
            serde_json::from_slice(&body)
                .map(JsonRequest)
                .map_err(|_| ConsoleError::BadForm("The request could not be read."))
        })
    }
}

/// A JSON answer to the script.
pub fn reply(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status).json(body)
}

/// A refusal the script shows beside the button (or, with `field`, beside that field).
pub fn refusal(status: StatusCode, message: &str, field: Option<&str>) -> HttpResponse {
    reply(status, &json!({"message": message, "field": field}))
}

/// Where the script goes next (after a sign-in, or when the sign-in must start again).
pub fn go_to(status: StatusCode, location: &str, message: Option<&str>) -> HttpResponse {
    reply(status, &json!({"location": location, "message": message}))
}
