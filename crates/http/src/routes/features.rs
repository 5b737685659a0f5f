use actix_web::HttpResponse;
use actix_web::web::Data;
use roster_app::{Feature, Roster};

use crate::dto::FeaturesResponse;
use crate::problem::ApiError;

/// `GET /v1/features`: public while `feature-flag-information-endpoint` is on, else 404.
pub async fn list(roster: Data<Roster>) -> Result<HttpResponse, ApiError> {
    let features = roster.features();
    if !features.is_enabled(Feature::FeatureFlagInformationEndpoint) {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::Ok().json(FeaturesResponse::from(features.report())))
}
