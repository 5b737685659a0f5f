use actix_web::HttpResponse;
use actix_web::web::Data;
use roster_app::{Feature, Roster};

use crate::dto::FeaturesResponse;
use crate::openapi::Problem;
use crate::problem::ApiError;

/// `GET /v1/features`: public while `feature-flag-information-endpoint` is on, else 404.
#[utoipa::path(
    get,
    path = "/v1/features",
    operation_id = "listFeatures",
    tag = "operations",
    summary = "List feature flags",
    description = "Which flags are on for this node, and whether the features file on disk is \
        the one in force. Public, while the `feature-flag-information-endpoint` flag is on.",
    responses(
        (status = 200, description = "The flags and the file's state.", body = FeaturesResponse),
        (status = 404, description = "`not_found`: the `feature-flag-information-endpoint` feature flag is off.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list(roster: Data<Roster>) -> Result<HttpResponse, ApiError> {
    if !roster.is_enabled(Feature::FeatureFlagInformationEndpoint) {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::Ok().json(FeaturesResponse::from(roster.feature_report())))
}
