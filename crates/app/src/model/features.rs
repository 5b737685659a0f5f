//! The feature-flag catalog and what the feature manager reports.
//!
//! The catalog is closed: every flag the service understands is a [`Feature`] variant with a
//! default, so a typo in the operator's file is caught instead of silently ignored.

use std::fmt;

/// A feature flag the service understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feature {
    /// Public self-registration at `POST /v1/account/register`.
    AccountRegistration,
    /// `GET /v1/features`: which flags are on and whether the file loaded.
    FeatureFlagInformationEndpoint,
    /// `GET /openapi.json`.
    Openapi,
    /// `GET /healthz` and `GET /readyz`.
    Healthchecks,
    /// `GET /metrics`.
    Metrics,
    /// The web console under `/console/`.
    WebConsole,
}

impl Feature {
    /// Every feature, in catalog order.
    pub const ALL: [Feature; 6] = [
        Feature::AccountRegistration,
        Feature::FeatureFlagInformationEndpoint,
        Feature::Openapi,
        Feature::Healthchecks,
        Feature::Metrics,
        Feature::WebConsole,
    ];

    /// The name used in `features/_features.conf` and over HTTP.
    pub fn name(self) -> &'static str {
        match self {
            Feature::AccountRegistration => "account-registration",
            Feature::FeatureFlagInformationEndpoint => "feature-flag-information-endpoint",
            Feature::Openapi => "openapi",
            Feature::Healthchecks => "healthchecks",
            Feature::Metrics => "metrics",
            Feature::WebConsole => "web-console",
        }
    }

    /// Whether the feature is on when the file does not mention it.
    pub fn default_enabled(self) -> bool {
        match self {
            Feature::AccountRegistration
            | Feature::FeatureFlagInformationEndpoint
            | Feature::Openapi
            | Feature::Healthchecks
            | Feature::Metrics
            | Feature::WebConsole => true,
        }
    }

    /// One line for operators: what switching the feature off does.
    pub fn description(self) -> &'static str {
        match self {
            Feature::AccountRegistration => {
                "Public self-registration (POST /v1/account/register). Admins can always create accounts."
            }
            Feature::FeatureFlagInformationEndpoint => {
                "Public listing of feature flags at GET /v1/features."
            }
            Feature::Openapi => "The OpenAPI document at GET /openapi.json.",
            Feature::Healthchecks => "Liveness and readiness probes at /healthz and /readyz.",
            Feature::Metrics => "Prometheus metrics at GET /metrics.",
            Feature::WebConsole => "The web console for people at /console/.",
        }
    }

    /// Looks a feature up by its file name; `None` for names outside the catalog.
    pub fn from_name(name: &str) -> Option<Feature> {
        Feature::ALL
            .into_iter()
            .find(|feature| feature.name() == name)
    }

    /// The catalog's names, comma separated, for error messages.
    pub fn known_names() -> String {
        Feature::ALL.map(Feature::name).join(", ")
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a feature's current value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureSource {
    /// Listed in `enabledFeatures`.
    EnabledList,
    /// Listed in `disabledFeatures` (this wins over `enabledFeatures`).
    DisabledList,
    /// Not mentioned in the file: the catalog default.
    Default,
}

/// One feature's state as currently in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureState {
    pub feature: Feature,
    pub enabled: bool,
    pub source: FeatureSource,
}

/// What the feature manager currently enforces, and how the last read of its file went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureReport {
    /// Every catalog feature, in catalog order.
    pub features: Vec<FeatureState>,
    /// When the state in force was loaded.
    pub loaded_at: chrono::DateTime<chrono::Utc>,
    /// Why the most recent read of the file was rejected, while the last good state stays in
    /// force; `None` when the file in force is the file on disk.
    pub error: Option<String>,
    /// The features file's path as the operator configured it. For operators (the console's
    /// features page, behind a built-in action on `*`); the public `GET /v1/features` does
    /// not show it.
    pub path: String,
    /// Whether [`FeatureManager::set`](crate::ports::FeatureManager::set) could write the file
    /// now: it exists and may be written, or it is missing and its folder may be written (the
    /// atomic replace writes a new file in the folder and renames it over the old one).
    pub writable: bool,
}

/// Why switching a feature left the features file as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeatureEditError {
    /// The file, or the folder that holds it, may not be written by the service (its
    /// permissions, a read-only mount such as a Kubernetes ConfigMap).
    #[error("the features file is read-only: {0}")]
    ReadOnly(String),
    /// The file cannot be edited safely: it does not parse, cannot be read, is not a regular
    /// file, is missing while the service runs on it, or has a layout the editor does not
    /// handle. The operator fixes it by hand.
    #[error("the features file cannot be edited: {0}")]
    Invalid(String),
    /// Writing failed for another reason (a full disk, an I/O error).
    #[error("cannot write the features file: {0}")]
    Failed(String),
}
