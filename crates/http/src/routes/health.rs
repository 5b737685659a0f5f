use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::web::Data;
use roster_app::ports::Readiness;
use roster_app::{Feature, Roster};

use crate::dto::HealthResponse;
use crate::metrics::Metrics;
use crate::problem::ApiError;

/// `GET /healthz`: liveness; touches no database.
pub async fn live(roster: Data<Roster>) -> Result<HttpResponse, ApiError> {
    if !roster.features().is_enabled(Feature::Healthchecks) {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::Ok().json(HealthResponse {
        status: "ok",
        reason: None,
    }))
}

/// `GET /metrics`: Prometheus text format, while the `metrics` flag is on. Public: bind the
/// service privately or filter the path at the proxy.
pub async fn metrics(
    roster: Data<Roster>,
    metrics: Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    if !roster.features().is_enabled(Feature::Metrics) {
        return Err(ApiError::NotFound);
    }
    // A database outage must not take the metrics down with it.
    let active_sessions = roster.active_sessions().await.ok();
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render(active_sessions)))
}

/// `GET /readyz`: 200 while the database answers and migrations are current, else 503.
pub async fn ready(
    roster: Data<Roster>,
    readiness: Data<Arc<dyn Readiness>>,
) -> Result<HttpResponse, ApiError> {
    if !roster.features().is_enabled(Feature::Healthchecks) {
        return Err(ApiError::NotFound);
    }
    Ok(match readiness.check_ready().await {
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
