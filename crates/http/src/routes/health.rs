//! Operations endpoints: health probes, metrics and the OpenAPI document.

use actix_web::HttpResponse;
use actix_web::web::Data;
use roster_app::Roster;

use crate::document::ApiDocument;
use crate::dto::HealthResponse;
use crate::extract::{Enabled, Healthchecks, MetricsEndpoint, OpenApiEndpoint};
use crate::metrics::Metrics;
use crate::problem::{ApiError, problems};

problems!(
    /// The problems `live` answers besides the shared ones.
    LiveProblems {
        ApiError::NotFound => "the `healthchecks` feature flag is off.",
    }
);

/// `GET /healthz`: liveness; touches no database.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "liveness",
    tag = "operations",
    summary = "Liveness probe",
    description = "200 while the process serves requests; touches no database. Public, while \
        the `healthchecks` flag is on.",
    responses(
        (status = 200, description = "`{\"status\": \"ok\"}`", body = HealthResponse),
        LiveProblems,
    ),
)]
pub async fn live(_: Enabled<Healthchecks>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(HealthResponse {
        status: "ok",
        reason: None,
    }))
}

problems!(
    /// The problems `metrics` answers besides the shared ones.
    MetricsProblems {
        ApiError::NotFound => "the `metrics` feature flag is off.",
    }
);

/// `GET /metrics`: Prometheus text format, while the `metrics` flag is on. Public: bind the
/// service privately or filter the path at the proxy.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "operations",
    summary = "Prometheus metrics",
    description = "Prometheus text exposition format 0.0.4. Public while the `metrics` flag is \
        on: bind the service privately or filter the path at the proxy.",
    responses(
        (status = 200, description = "The metrics.", body = String,
            content_type = "text/plain; version=0.0.4; charset=utf-8"),
        MetricsProblems,
    ),
)]
pub async fn metrics(
    _: Enabled<MetricsEndpoint>,
    roster: Data<Roster>,
    metrics: Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    // A database outage must not take the metrics down with it.
    let active_sessions = roster.active_sessions().await.ok();
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render(active_sessions)))
}

problems!(
    /// The problems `ready` answers besides the shared ones.
    ReadyProblems {
        ApiError::NotFound => "the `healthchecks` feature flag is off.",
    }
);

/// `GET /readyz`: 200 while the database answers and migrations are current, else 503.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readiness",
    tag = "operations",
    summary = "Readiness probe",
    description = "200 while the database answers and no migration is pending, else 503. \
        Public, while the `healthchecks` flag is on.",
    responses(
        (status = 200, description = "`{\"status\": \"ready\"}`", body = HealthResponse),
        (status = 503, description = "Not ready: `{\"status\": \"unavailable\", \
            \"reason\": ...}` (not a problem).", body = HealthResponse,
            headers(("Retry-After" = u64, description = "Seconds to wait."))),
        ReadyProblems,
    ),
)]
pub async fn ready(
    _: Enabled<Healthchecks>,
    roster: Data<Roster>,
) -> Result<HttpResponse, ApiError> {
    Ok(match roster.check_ready().await {
        Ok(()) => HttpResponse::Ok().json(HealthResponse {
            status: "ready",
            reason: None,
        }),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            HttpResponse::ServiceUnavailable()
                .insert_header((actix_web::http::header::RETRY_AFTER, "1"))
                .json(HealthResponse {
                    status: "unavailable",
                    reason: Some("database not ready".into()),
                })
        }
    })
}

problems!(
    /// The problems `openapi` answers besides the shared ones.
    OpenapiProblems {
        ApiError::NotFound => "the `openapi` feature flag is off.",
    }
);

/// `GET /openapi.json`: this API's OpenAPI 3.1 document, while the `openapi` flag is on.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    tag = "operations",
    summary = "This OpenAPI document",
    description = "The OpenAPI 3.1 description of this API. Public, while the `openapi` flag \
        is on.",
    responses(
        (status = 200, description = "The document.", body = Object,
            content_type = "application/json"),
        OpenapiProblems,
    ),
)]
pub async fn openapi(
    _: Enabled<OpenApiEndpoint>,
    document: Data<ApiDocument>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(document.json()))
}
