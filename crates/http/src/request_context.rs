//! Per-request context: a request id on every response and on the request's tracing span,
//! one log line per request, the security headers, and the refusals of
//! [`crate::hardening`] that come before routing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use actix_web::ResponseError;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Data;
use tracing::Instrument;
use uuid::Uuid;

use crate::hardening;
use crate::metrics::{IntrospectionAnswer, Metrics, ProblemCode};

/// Requests inside the service right now, so shutdown can wait for them to finish.
#[derive(Debug, Clone, Default)]
pub struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    /// How many requests are being handled.
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    fn enter(&self) -> InFlightGuard {
        self.0.fetch_add(1, Ordering::SeqCst);
        InFlightGuard(Arc::clone(&self.0))
    }
}

/// Counts a request out when it is done, however it ends.
struct InFlightGuard(Arc<AtomicUsize>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The request id header, echoed when the caller sends a sane one.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Accept a caller's id only if it cannot inject anything into logs or headers.
fn acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Middleware (`actix_web::middleware::from_fn(request_context)`).
///
/// # Errors
/// Passes through errors of the inner service.
pub async fn request_context<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| acceptable(id))
        .map_or_else(|| Uuid::now_v7().to_string(), str::to_owned);
    let span = tracing::info_span!("request", request_id = %request_id, method = %req.method(), path = %req.path());
    let started = Instant::now();
    let metrics = req.app_data::<Data<Metrics>>().cloned();
    let _in_flight = req
        .app_data::<Data<InFlight>>()
        .map(|in_flight| in_flight.enter());
    let mut response = match hardening::refuse_early(&req) {
        Some(error) => {
            let (request, _) = req.into_parts();
            ServiceResponse::new(request, error.error_response()).map_into_right_body()
        }
        None => next
            .call(req)
            .instrument(span.clone())
            .await?
            .map_into_left_body(),
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(X_REQUEST_ID.clone(), value);
    }
    hardening::set_security_headers(response.headers_mut());
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    if let Some(metrics) = &metrics {
        let request = response.request();
        let route = request.match_pattern();
        let problem = response
            .response()
            .extensions()
            .get::<ProblemCode>()
            .map(|c| c.0);
        metrics.observe_request(
            request.method().as_str(),
            route.as_deref().unwrap_or("unmatched"),
            status,
            problem,
            elapsed,
        );
    }
    let introspection = response
        .response()
        .extensions()
        .get::<IntrospectionAnswer>()
        .copied();
    if let (Some(answer), Some(metrics)) = (introspection, &metrics) {
        metrics.observe_introspection(answer);
    }
    let latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    if introspection.is_some() {
        // An answered introspection (active or not) is logged at debug only. Services ask on
        // every request they serve, so at info these lines would be most of the log; the
        // answers are counted and timed in metrics instead (the line would add only the
        // request id and its latency). A refusal or an error gets its info line like any
        // request's.
        span.in_scope(|| tracing::debug!(status, latency_us, "request completed"));
    } else {
        span.in_scope(|| tracing::info!(status, latency_us, "request completed"));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn only_plain_ids_are_echoed() {
        assert!(acceptable("abc-123_x.y:z"));
        assert!(!acceptable(""));
        assert!(!acceptable("a b"));
        assert!(!acceptable("a\nb"));
        assert!(!acceptable(&"a".repeat(129)));
    }
}
