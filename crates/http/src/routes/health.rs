use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::web::Data;
use roster_app::ports::Readiness;
use roster_app::{Feature, Roster};

use crate::dto::HealthResponse;
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
