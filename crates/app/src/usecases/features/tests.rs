//! Switching a feature flag with mock ports: who may, what is refused before the file is
//! touched, how the adapter's refusals surface, and the audit event of each switch.
//! The mock ports and fixtures are in [`crate::usecases::test_support`].

use std::sync::{Arc, Mutex};

use mockall::predicate::eq;

use crate::error::AppError;
use crate::model::{
    AuditAction, AuditEvent, Feature, FeatureEditError, FeatureReport, FeatureSource, FeatureState,
    StoreError,
};
use crate::usecases::Authenticated;
use crate::usecases::test_support::*;

/// Someone holding `feature-manage` on `*` and nothing else.
fn operator() -> Authenticated {
    actor(false, vec![grant(1, "*", vec![allow("feature-manage")])])
}

/// Every feature at its default but `feature`, which is `enabled` from the disabled or
/// enabled list: what the manager reports after the switch.
fn report_with(feature: Feature, enabled: bool) -> FeatureReport {
    FeatureReport {
        features: Feature::ALL
            .into_iter()
            .map(|each| {
                if each == feature {
                    FeatureState {
                        feature,
                        enabled,
                        source: if enabled {
                            FeatureSource::EnabledList
                        } else {
                            FeatureSource::DisabledList
                        },
                    }
                } else {
                    FeatureState {
                        feature: each,
                        enabled: each.default_enabled(),
                        source: FeatureSource::Default,
                    }
                }
            })
            .collect(),
        loaded_at: now(),
        error: None,
        path: "features/_features.conf".to_owned(),
        writable: true,
    }
}

/// The manager is asked once to set `feature` to `enabled` and answers `answer`; when it
/// succeeds, its report shows the feature as asked.
fn manager_sets(
    ports: &mut Ports,
    feature: Feature,
    enabled: bool,
    answer: Result<bool, FeatureEditError>,
) {
    let succeeded = answer.is_ok();
    ports
        .features
        .expect_set()
        .with(eq(feature), eq(enabled))
        .times(1)
        .return_once(move |_, _| answer);
    if succeeded {
        ports
            .features
            .expect_report()
            .returning(move || report_with(feature, enabled));
    }
}

/// Records the audit events written; each write answers `answer`.
fn audit_log(ports: &mut Ports, answer: Result<(), StoreError>) -> Arc<Mutex<Vec<AuditEvent>>> {
    let events: Arc<Mutex<Vec<AuditEvent>>> = Arc::default();
    let sink = Arc::clone(&events);
    ports.audit.expect_record().returning(move |event| {
        sink.lock().unwrap().push(event.clone());
        answer.clone()
    });
    events
}

/// Neither the file nor the audit trail may be touched.
fn forbid_any_switch(ports: &mut Ports) {
    ports.features.expect_set().never();
    ports.audit.expect_record().never();
}

#[tokio::test]
async fn a_holder_of_feature_manage_switches_a_flag_and_it_is_audited() {
    let mut ports = Ports::new();
    ports.clock_at(now());
    manager_sets(&mut ports, Feature::AccountRegistration, false, Ok(true));
    let events = audit_log(&mut ports, Ok(()));
    let caller = Authenticated {
        source_ip: Some("192.0.2.7".parse().unwrap()),
        ..operator()
    };

    let state = ports
        .build()
        .set_feature(&caller, "account-registration", false)
        .await
        .unwrap();

    assert_eq!(
        state,
        FeatureState {
            feature: Feature::AccountRegistration,
            enabled: false,
            source: FeatureSource::DisabledList,
        }
    );
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event.action, AuditAction::FeatureChanged);
    assert_eq!(event.action.as_str(), "feature.changed");
    assert_eq!(
        event.actor.as_deref(),
        Some(caller.principal_label().as_str())
    );
    assert_eq!(
        event.target.as_deref(),
        Some("feature:account-registration")
    );
    assert_eq!(event.detail.as_deref(), Some("disabled"));
    assert_eq!(event.source_ip, caller.source_ip);
    assert_eq!(event.at, now());
}

#[tokio::test]
async fn switching_on_is_audited_as_enabled() {
    let mut ports = Ports::new();
    ports.clock_at(now());
    manager_sets(&mut ports, Feature::Metrics, true, Ok(true));
    let events = audit_log(&mut ports, Ok(()));

    let state = ports
        .build()
        .set_feature(&operator(), "metrics", true)
        .await
        .unwrap();

    assert!(state.enabled);
    assert_eq!(state.feature, Feature::Metrics);
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].target.as_deref(), Some("feature:metrics"));
    assert_eq!(events[0].detail.as_deref(), Some("enabled"));
}

#[tokio::test]
async fn a_super_admin_needs_no_grant() {
    let mut ports = Ports::new();
    ports.clock_at(now());
    manager_sets(&mut ports, Feature::WebConsole, false, Ok(true));
    let events = audit_log(&mut ports, Ok(()));

    let state = ports
        .build()
        .set_feature(&actor(true, vec![]), "web-console", false)
        .await
        .unwrap();

    assert!(!state.enabled);
    assert_eq!(events.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_switch_that_changes_nothing_is_not_audited() {
    let mut ports = Ports::new();
    manager_sets(&mut ports, Feature::Openapi, false, Ok(false));
    ports.audit.expect_record().never();
    ports.clock.expect_now().never();

    let state = ports
        .build()
        .set_feature(&operator(), "openapi", false)
        .await
        .unwrap();

    assert!(!state.enabled);
}

#[tokio::test]
async fn callers_without_feature_manage_on_the_root_are_forbidden() {
    let callers = [
        ("no grant", actor(false, vec![])),
        (
            "another action",
            actor(false, vec![grant(1, "*", vec![allow("audit-read")])]),
        ),
        (
            "feature-manage below the root",
            actor(false, vec![grant(1, "acme", vec![allow("feature-manage")])]),
        ),
        (
            "feature-manage denied",
            actor(
                false,
                vec![
                    grant(1, "*", vec![allow("all")]),
                    grant(
                        2,
                        "*",
                        vec![roster_domain::Permission::deny(pattern("feature-manage"))],
                    ),
                ],
            ),
        ),
    ];
    for (who, caller) in callers {
        // An unknown name too: a caller who may not switch flags learns nothing about them.
        for name in ["web-console", "no-such-flag"] {
            let mut ports = Ports::new();
            forbid_any_switch(&mut ports);
            let result = ports.build().set_feature(&caller, name, false).await;
            assert!(
                matches!(result, Err(AppError::Forbidden)),
                "{who}, {name}: {result:?}"
            );
        }
    }
}

#[tokio::test]
async fn an_unknown_name_is_a_validation_error_naming_the_field() {
    for name in ["web-consol", "", "WEB-CONSOLE", "web-console "] {
        let mut ports = Ports::new();
        forbid_any_switch(&mut ports);
        let errors = field_errors(ports.build().set_feature(&operator(), name, true).await);
        assert_eq!(
            fields_and_codes(&errors),
            [("name", "unknown_feature")],
            "{name:?}"
        );
        assert!(
            errors[0].message.contains("web-console"),
            "{}",
            errors[0].message
        );
    }
}

/// What the adapter's refusals to write the file surface as.
type Surfaces = fn(&AppError) -> bool;

#[tokio::test]
async fn a_write_the_adapter_refuses_surfaces_as_its_own_error_and_is_not_audited() {
    let cases: [(FeatureEditError, bool, Surfaces); 3] = [
        // A file the service may not write.
        (
            FeatureEditError::ReadOnly("permission denied".into()),
            false,
            |error| matches!(error, AppError::FeaturesFileReadOnly),
        ),
        // A file that cannot be edited safely.
        (
            FeatureEditError::Invalid("line 3: unknown feature".into()),
            false,
            |error| matches!(error, AppError::FeaturesFileInvalid),
        ),
        // Any other failure: an internal error with its cause.
        (
            FeatureEditError::Failed("No space left on device".into()),
            true,
            |error| matches!(error, AppError::Internal(cause) if cause.contains("No space left")),
        ),
    ];
    for (refusal, enabled, surfaces) in cases {
        let case = format!("{refusal:?}");
        let mut ports = Ports::new();
        manager_sets(&mut ports, Feature::Metrics, enabled, Err(refusal));
        ports.audit.expect_record().never();

        let result = ports
            .build()
            .set_feature(&operator(), "metrics", enabled)
            .await;

        assert!(result.as_ref().is_err_and(surfaces), "{case}: {result:?}");
    }
}

#[tokio::test]
async fn an_unwritable_audit_trail_is_reported() {
    let mut ports = Ports::new();
    ports.clock_at(now());
    manager_sets(&mut ports, Feature::Metrics, false, Ok(true));
    let events = audit_log(
        &mut ports,
        Err(StoreError::Unavailable("connection refused".into())),
    );

    let result = ports
        .build()
        .set_feature(&operator(), "metrics", false)
        .await;

    assert!(
        matches!(result, Err(AppError::Unavailable(_))),
        "{result:?}"
    );
    assert_eq!(events.lock().unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------
// The overview the console's features page shows.

/// The manager reports `report` (any number of times).
fn manager_reports(ports: &mut Ports, report: FeatureReport) {
    ports
        .features
        .expect_report()
        .returning(move || report.clone());
}

/// A report with a broken, read-only file, to see it passed through as it is.
fn troubled_report() -> FeatureReport {
    FeatureReport {
        error: Some("line 2: unknown feature \"metrix\"".to_owned()),
        path: "/etc/roster/features.conf".to_owned(),
        writable: false,
        ..report_with(Feature::Metrics, false)
    }
}

#[test]
fn an_operator_with_any_builtin_action_on_the_root_sees_the_flags_but_may_not_switch() {
    for action in roster_domain::BuiltinAction::ALL
        .into_iter()
        .filter(|action| *action != roster_domain::BuiltinAction::FeatureManage)
    {
        let mut ports = Ports::new();
        manager_reports(&mut ports, troubled_report());
        forbid_any_switch(&mut ports);
        let caller = actor(false, vec![grant(1, "*", vec![allow(action.name())])]);

        let overview = ports.build().feature_overview(&caller).unwrap();

        assert_eq!(overview.report, troubled_report(), "{action:?}");
        assert!(!overview.may_switch, "{action:?}");
    }
}

#[test]
fn holders_of_feature_manage_and_super_admins_may_switch() {
    for (who, caller) in [
        ("feature-manage", operator()),
        ("super admin", actor(true, vec![])),
        ("all", actor(false, vec![grant(1, "*", vec![allow("all")])])),
    ] {
        let mut ports = Ports::new();
        manager_reports(&mut ports, report_with(Feature::Openapi, false));

        let overview = ports.build().feature_overview(&caller).unwrap();

        assert!(overview.may_switch, "{who}");
        assert_eq!(
            overview.report,
            report_with(Feature::Openapi, false),
            "{who}"
        );
    }
}

#[test]
fn feature_manage_denied_leaves_the_view_without_the_switches() {
    let mut ports = Ports::new();
    manager_reports(&mut ports, report_with(Feature::Openapi, false));
    let caller = actor(
        false,
        vec![
            grant(1, "*", vec![allow("all")]),
            grant(
                2,
                "*",
                vec![roster_domain::Permission::deny(pattern("feature-manage"))],
            ),
        ],
    );

    let overview = ports.build().feature_overview(&caller).unwrap();

    assert!(!overview.may_switch);
}

#[test]
fn callers_without_a_builtin_action_on_the_root_may_not_see_the_flags() {
    let callers = [
        ("no grant", actor(false, vec![])),
        (
            "a built-in action below the root",
            actor(
                false,
                vec![grant(
                    1,
                    "acme",
                    vec![allow("feature-manage"), allow("audit-read")],
                )],
            ),
        ),
        (
            "only the services' own actions",
            actor(false, vec![grant(1, "*", vec![allow("issuer-*")])]),
        ),
        (
            "every built-in action denied",
            actor(
                false,
                vec![
                    grant(1, "*", vec![allow("all")]),
                    grant(
                        2,
                        "*",
                        roster_domain::BuiltinAction::ALL
                            .into_iter()
                            .map(|action| roster_domain::Permission::deny(pattern(action.name())))
                            .collect(),
                    ),
                ],
            ),
        ),
    ];
    for (who, caller) in callers {
        let mut ports = Ports::new();
        // Not even the path: the report is never asked for.
        ports.features.expect_report().never();
        let result = ports.build().feature_overview(&caller);
        assert!(
            matches!(result, Err(AppError::Forbidden)),
            "{who}: {result:?}"
        );
    }
}
