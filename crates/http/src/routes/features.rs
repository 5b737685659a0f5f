use actix_web::HttpResponse;
use actix_web::web::Data;
use roster_app::Roster;

use crate::dto::FeaturesResponse;
use crate::extract::{Enabled, FeaturesEndpoint};
use crate::problem::{ApiError, problems};

problems!(
    /// The problems `list` answers besides the shared ones.
    ListProblems {
        ApiError::NotFound => "the `feature-flag-information-endpoint` feature flag is off.",
    }
);

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
        ListProblems,
    ),
)]
pub async fn list(
    _: Enabled<FeaturesEndpoint>,
    roster: Data<Roster>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(FeaturesResponse::from(roster.feature_report())))
}
