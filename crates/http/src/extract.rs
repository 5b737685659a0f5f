//! Extractors: JSON bodies held to the contract's rules, and the bearer-token caller.

use std::net::IpAddr;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{BytesMut, Data};
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use roster_app::{AppError, Authenticated, Roster};
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 64 * 1024;

/// How long a request body may take to arrive (`server.body_timeout`), as app data for
/// [`ApiJson`]; without it, [`DEFAULT_BODY_TIMEOUT`].
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// The body deadline when none is configured.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// A JSON body: `application/json` (else 415), at most [`BODY_LIMIT`] bytes (else 413), and
/// of exactly the expected shape (else 400 `invalid_body` naming the offending field; the
/// DTOs deny unknown fields).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !is_json(req) {
            return Box::pin(async { Err(ApiError::UnsupportedMediaType) });
        }
        if declared_length(req).is_some_and(|length| length > BODY_LIMIT) {
            return Box::pin(async { Err(ApiError::PayloadTooLarge { limit: BODY_LIMIT }) });
        }
        let mut payload = payload.take();
        // actix times out only a slow request head; a body trickling in (or never finished)
        // would hold the connection and this task forever.
        let deadline = req
            .app_data::<Data<BodyTimeout>>()
            .map_or(DEFAULT_BODY_TIMEOUT, |timeout| timeout.0);
        Box::pin(async move {
            let read = async {
                let mut body = BytesMut::new();
                while let Some(chunk) = payload.next().await {
                    let chunk = chunk.map_err(|e| ApiError::InvalidBody {
                        field: None,
                        message: e.to_string(),
                    })?;
                    if body.len() + chunk.len() > BODY_LIMIT {
                        return Err(ApiError::PayloadTooLarge { limit: BODY_LIMIT });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(body)
            };
            let body = actix_web::rt::time::timeout(deadline, read)
                .await
                .map_err(|_| ApiError::RequestTimeout)??;
            parse_body(&body).map(ApiJson)
        })
    }
}

/// A query string of the expected shape, else 400 `invalid_query` naming the parameter (a
/// value of the wrong type, a repeated or unknown name). Use it instead of `web::Query`,
/// whose errors are plain text. Control characters and names a route does not document are
/// refused for every route before routing ([`crate::request_context`]).
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T> ApiQuery<T> {
    /// The parsed query.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(ApiQuery))
    }
}

fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        ApiError::InvalidQuery {
            name: if path == "." { "?".to_owned() } else { path },
            code: "invalid_value",
            message: error.inner().to_string(),
        }
    })
}

/// Deserializes, tracking the path of the first offending field.
fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        ApiError::InvalidBody {
            field: (path != ".").then_some(path),
            message: error.inner().to_string(),
        }
    })?;
    deserializer.end().map_err(|e| ApiError::InvalidBody {
        field: None,
        message: e.to_string(),
    })?;
    Ok(value)
}

/// The authenticated caller, from `Authorization: Bearer <token>`. Missing, malformed or
/// unknown tokens are 401 `unauthenticated` with `WWW-Authenticate: Bearer`.
#[derive(Debug)]
pub struct Caller(pub Authenticated);

/// The token of an `Authorization: Bearer` header (scheme case-insensitive).
fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let roster = req.app_data::<Data<Roster>>().cloned();
        let token = bearer_token(req);
        let source_ip = client_ip(req);
        Box::pin(async move {
            let roster = roster.ok_or_else(|| {
                ApiError::App(AppError::Internal(
                    "Roster not registered as app data".into(),
                ))
            })?;
            let token = token.ok_or(ApiError::App(AppError::Unauthenticated))?;
            Ok(Caller(roster.authenticate_bearer(&token, source_ip).await?))
        })
    }
}

/// The client's address: the TCP peer. `X-Forwarded-For` is not trusted (a client could
/// write anything there); behind a proxy, every request shows the proxy's address.
pub fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    req.peer_addr().map(|addr| addr.ip())
}

/// The client's address as an extractor, for handlers of anonymous requests.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequest for ClientIp {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(Ok(ClientIp(client_ip(req))))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        nested: Option<Nested>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Nested {
        count: u32,
    }

    fn field_of(error: ApiError) -> Option<String> {
        match error {
            ApiError::InvalidBody { field, .. } => field,
            other => panic!("expected invalid body, got {other:?}"),
        }
    }

    #[test]
    fn wrong_types_and_unknown_fields_name_the_field() {
        assert_eq!(
            field_of(parse_body::<Body>(br#"{"email": 5}"#).unwrap_err()).as_deref(),
            Some("email")
        );
        assert_eq!(
            field_of(
                parse_body::<Body>(br#"{"email": "a", "nested": {"count": "x"}}"#).unwrap_err()
            )
            .as_deref(),
            Some("nested.count")
        );
        assert_eq!(
            field_of(parse_body::<Body>(br#"{"email": "a", "emial": 1}"#).unwrap_err()).as_deref(),
            Some("emial")
        );
        assert!(parse_body::<Body>(br#"{"email": "a"} trailing"#).is_err());
        assert!(parse_body::<Body>(br#"{"email": "a"}"#).is_ok());
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Page {
        limit: Option<u32>,
        cursor: Option<String>,
    }

    fn query_error(query: &str) -> (String, String) {
        match parse_query::<Page>(query).unwrap_err() {
            ApiError::InvalidQuery { name, message, .. } => (name, message),
            other => panic!("expected invalid query, got {other:?}"),
        }
    }

    #[test]
    fn query_errors_name_the_parameter() {
        assert_eq!(query_error("limit=abc").0, "limit");
        assert_eq!(query_error("cursor=x&limt=5").0, "limt");
        assert!(query_error("limit=1&limit=2").1.contains("limit"));
        let page = parse_query::<Page>("limit=5&cursor=a%20b").unwrap();
        assert_eq!((page.limit, page.cursor.as_deref()), (Some(5), Some("a b")));
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_token_required() {
        let token = |value: &str| {
            bearer_token(
                &TestRequest::default()
                    .insert_header(("Authorization", value))
                    .to_http_request(),
            )
        };
        assert_eq!(token("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(token("bearer  abc ").as_deref(), Some("abc"));
        assert_eq!(token("Basic abc"), None);
        assert_eq!(token("Bearer "), None);
        assert_eq!(token("Bearer"), None);
    }

    #[test]
    fn content_type_must_be_json() {
        let req = |ct: &str| {
            TestRequest::default()
                .insert_header(("Content-Type", ct))
                .to_http_request()
        };
        assert!(is_json(&req("application/json")));
        assert!(is_json(&req("Application/JSON; charset=utf-8")));
        assert!(is_json(&req("application/merge-patch+json")));
        assert!(!is_json(&req("text/plain")));
        assert!(!is_json(&TestRequest::default().to_http_request()));
    }
}
