//! Roster's HTTP adapter: thin actix-web handlers that parse, call one use case and render.
//! Errors become RFC 9457 problem responses in one place ([`ApiError`]); the OpenAPI 3.1
//! document ([`openapi_json`]) is generated from the handlers' annotations and the DTOs.

pub mod dto;
mod extract;
mod hardening;
mod metrics;
mod openapi;
mod problem;
mod rate_limit;
mod request_context;
mod routes;

pub use extract::{ApiJson, ApiQuery, BODY_LIMIT, Caller};
pub use hardening::{
    BodyTimeout, ConnectionLimiter, DEFAULT_BODY_TIMEOUT, MetricsListener, set_security_headers,
};
pub use metrics::{Metrics, MetricsProbe, ProblemCode, record_protocol_error};
pub use openapi::{openapi, openapi_json};
pub use problem::ApiError;
pub use rate_limit::{ClientRateLimiter, RateLimitSettings, RateLimited};
pub use request_context::{InFlight, X_REQUEST_ID, request_context};
pub use routes::configure;
