//! The feature flags: every flag in force with its default, its description and where its
//! state comes from, and the features file (its path, and its error while the last good state
//! stays in force). Holders of `feature-manage` on `*` get a switch per flag while the service
//! may write the file; everyone else who may see the page is told how to change a flag on the
//! server.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{self, Data, ServiceConfig};
use askama::Template;
use roster_app::{AppError, Feature, FeatureOverview, FeatureState, Roster};
use serde::Deserialize;

use super::notice;
use crate::forms::{FieldErrors, Form};
use crate::layout::Layout;
use crate::render::{ConsoleError, html, see_other};
use crate::session::Viewer;
use crate::words::{feature_source_in_words, when};

const PATH: &str = "/console/admin/features";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/admin/features", web::get().to(show))
        .route("/admin/features/{name}", web::post().to(switch));
}

/// One flag as listed.
struct FlagRow {
    name: &'static str,
    description: &'static str,
    enabled: bool,
    default_enabled: bool,
    source: &'static str,
    /// The command that switches it the other way on the server.
    command: String,
    /// The question asked before the switch is sent, when it has consequences to weigh.
    confirm: Option<String>,
}

impl From<&FeatureState> for FlagRow {
    fn from(state: &FeatureState) -> Self {
        FlagRow {
            name: state.feature.name(),
            description: state.feature.description(),
            enabled: state.enabled,
            default_enabled: state.feature.default_enabled(),
            source: feature_source_in_words(state.source),
            command: command(state.feature, !state.enabled),
            confirm: confirmation(state.feature, !state.enabled),
        }
    }
}

/// `roster features enable|disable NAME`: the CLI's safe edit of the same file.
fn command(feature: Feature, enable: bool) -> String {
    let verb = if enable { "enable" } else { "disable" };
    format!("roster features {verb} {feature}")
}

/// What to ask before switching `feature` to `enable`: every switch-off (something stops
/// working at once), and opening public sign-up; `None` for a switch with nothing to weigh.
fn confirmation(feature: Feature, enable: bool) -> Option<String> {
    match (feature, enable) {
        (Feature::WebConsole, false) => Some(
            "Switch off web-console? You will lose access to this console: it answers \
             \u{201c}not found\u{201d} until the flag is switched on again on the server."
                .to_owned(),
        ),
        (Feature::AccountRegistration, true) => Some(
            "Switch on account-registration? Anyone who can reach the server can then create \
             an account."
                .to_owned(),
        ),
        (_, false) => Some(format!(
            "Switch off {feature}? It stops at once: {}",
            feature.description()
        )),
        (_, true) => None,
    }
}

/// Why the flags cannot be switched on this page, in the order a person would act on them;
/// empty when they can.
fn why_no_switch(overview: &FeatureOverview) -> Vec<&'static str> {
    let mut reasons = Vec::new();
    if !overview.may_switch {
        reasons.push(
            "Switching flags here needs the built-in action feature-manage on *, which your \
             grants do not give you.",
        );
    }
    if !overview.report.writable {
        reasons.push(
            "The service may not write the features file (its permissions, or a read-only \
             mount such as a Kubernetes ConfigMap), so flags cannot be switched here.",
        );
    }
    if overview.report.error.is_some() {
        reasons.push("Flags cannot be switched here while the features file has an error (above).");
    }
    reasons
}

#[derive(Template)]
#[template(path = "features.html")]
struct FeaturesPage {
    layout: Layout,
    flags: Vec<FlagRow>,
    /// The features file as the operator configured it.
    path: String,
    loaded_at: String,
    writable: bool,
    /// Why the last read of the file was rejected.
    file_error: Option<String>,
    /// Why there are no switches (none: every flag has one).
    no_switch: Vec<&'static str>,
    /// The failed switch's problem.
    errors: FieldErrors,
}

/// The page with `errors` (those of a switch just refused), answered with `status`.
fn render(
    roster: &Roster,
    viewer: &Viewer,
    status: StatusCode,
    notice_text: Option<&'static str>,
    errors: FieldErrors,
) -> Result<HttpResponse, ConsoleError> {
    let overview = roster.feature_overview(&viewer.caller)?;
    let page = FeaturesPage {
        layout: Layout::signed_in(viewer, PATH).with_notice(notice_text),
        flags: overview.report.features.iter().map(FlagRow::from).collect(),
        no_switch: why_no_switch(&overview),
        path: overview.report.path,
        loaded_at: when(overview.report.loaded_at),
        writable: overview.report.writable,
        file_error: overview.report.error,
        errors,
    };
    Ok(html(status, &page))
}

/// `?done=` after a switch.
#[derive(Debug, Default, Deserialize)]
struct Done {
    done: Option<String>,
}

/// `GET /console/admin/features`.
async fn show(
    roster: Data<Roster>,
    viewer: Viewer,
    query: web::Query<Done>,
) -> Result<HttpResponse, ConsoleError> {
    render(
        &roster,
        &viewer,
        StatusCode::OK,
        notice(query.done.as_deref()),
        FieldErrors::default(),
    )
}

/// The switch form: `enabled` is `true` or `false` (anything else is not this console's form).
#[derive(Debug, Deserialize)]
struct SwitchForm {
    enabled: bool,
}

/// `POST /console/admin/features/{name}`: switches the flag through the same safe editor as
/// the CLI, audited as `feature.changed`; then the list again.
async fn switch(
    roster: Data<Roster>,
    viewer: Viewer,
    name: web::Path<String>,
    form: Form<SwitchForm>,
) -> Result<HttpResponse, ConsoleError> {
    let enabled = form.fields.enabled;
    let (status, errors) = match roster.set_feature(&viewer.caller, &name, enabled).await {
        Ok(state) => {
            let done = if state.enabled {
                "feature-on"
            } else {
                "feature-off"
            };
            return Ok(see_other(&format!("{PATH}?done={done}")));
        }
        // An unknown name: the message lists the known ones.
        Err(AppError::Validation(errors)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::from_app(errors),
        ),
        Err(AppError::FeaturesFileReadOnly) => (
            StatusCode::CONFLICT,
            FieldErrors::general(
                "The service may not write the features file (its permissions, or a read-only \
                 mount); nothing changed. Switch the flag where the file is managed.",
            ),
        ),
        Err(AppError::FeaturesFileInvalid) => (
            StatusCode::CONFLICT,
            FieldErrors::general(
                "The features file cannot be edited safely: it has an error, cannot be read, \
                 or differs from the state in force. Nothing changed. Fix the file by hand, \
                 then try again.",
            ),
        ),
        Err(other) => return Err(other.into()),
    };
    render(&roster, &viewer, status, None, errors)
}

#[cfg(test)]
mod tests {
    use roster_app::{FeatureReport, FeatureSource};

    use super::*;

    fn overview(may_switch: bool, writable: bool, error: Option<&str>) -> FeatureOverview {
        FeatureOverview {
            report: FeatureReport {
                features: Vec::new(),
                loaded_at: chrono::DateTime::UNIX_EPOCH,
                error: error.map(str::to_owned),
                path: "features/_features.conf".to_owned(),
                writable,
            },
            may_switch,
        }
    }

    #[test]
    fn switches_are_offered_only_with_the_permission_a_writable_file_and_no_error() {
        assert!(why_no_switch(&overview(true, true, None)).is_empty());
        let reasons = |may, writable, error| why_no_switch(&overview(may, writable, error));
        let lacking = reasons(false, true, None);
        assert_eq!(lacking.len(), 1);
        assert!(lacking[0].contains("feature-manage"), "{lacking:?}");
        let read_only = reasons(true, false, None);
        assert_eq!(read_only.len(), 1);
        assert!(read_only[0].contains("may not write"), "{read_only:?}");
        let broken = reasons(true, true, Some("line 2: unknown feature"));
        assert_eq!(broken.len(), 1);
        assert!(broken[0].contains("error"), "{broken:?}");
        // Every reason that holds is said.
        assert_eq!(reasons(false, false, Some("x")).len(), 3);
    }

    #[test]
    fn the_command_switches_the_other_way() {
        assert_eq!(
            command(Feature::Metrics, false),
            "roster features disable metrics"
        );
        assert_eq!(
            command(Feature::AccountRegistration, true),
            "roster features enable account-registration"
        );
        let row = FlagRow::from(&FeatureState {
            feature: Feature::Openapi,
            enabled: false,
            source: FeatureSource::DisabledList,
        });
        assert_eq!(row.command, "roster features enable openapi");
        assert!(!row.enabled && row.default_enabled);
        assert!(row.source.contains("disabledFeatures"), "{}", row.source);
        assert_eq!(row.confirm, None);
    }

    #[test]
    fn switching_off_the_console_warns_of_losing_it() {
        let question = confirmation(Feature::WebConsole, false).unwrap();
        assert!(
            question.contains("You will lose access to this console"),
            "{question}"
        );
        // Every switch-off asks; of the switch-ons only opening public sign-up does.
        for feature in Feature::ALL {
            assert!(confirmation(feature, false).is_some(), "{feature}");
            assert_eq!(
                confirmation(feature, true).is_some(),
                feature == Feature::AccountRegistration,
                "{feature}"
            );
        }
        assert!(
            confirmation(Feature::Metrics, false)
                .unwrap()
                .contains("GET /metrics")
        );
    }
}
