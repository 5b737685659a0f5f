use std::time::Duration;

use serde_json::{Value, json};

use roster_app::AppError;

use crate::helpers::{
    AppOptions, Db, PASSWORD, assert_problem, eventually, spawn_app_with, unique_email,
};
use crate::on_both_databases;

on_both_databases!(
    switching_registration_off_in_the_file_takes_effect_without_restart,
    health_probes_and_the_features_endpoint_follow_their_flags,
    a_holder_of_feature_manage_switches_a_flag_for_every_node,
);

const OFF: &str =
    "enabledFeatures = [\n]\ndisabledFeatures = [\n    account-registration // off\n]\n";
const ON: &str = "enabledFeatures = [\n]\ndisabledFeatures = [\n]\n";

async fn switching_registration_off_in_the_file_takes_effect_without_restart(db: Db) {
    let Some(app) = spawn_app_with(
        db,
        AppOptions {
            features: Some(ON.into()),
            ..AppOptions::default()
        },
    )
    .await
    else {
        return;
    };
    let root = app.superadmin_token().await;
    assert_eq!(
        app.register(&unique_email("before"), PASSWORD)
            .await
            .status(),
        201
    );

    app.write_features(OFF);
    let took = eventually(Duration::from_secs(2), || async {
        app.register(&unique_email("probe"), PASSWORD)
            .await
            .status()
            == 403
    })
    .await;
    assert!(took.is_some(), "flag change not noticed within 2 s");
    assert_problem(
        app.register(&unique_email("off"), PASSWORD).await,
        403,
        "feature_disabled",
    )
    .await;
    // The admin route keeps working.
    let admin = app
        .post_json(
            "/v1/admin/account/register",
            &json!({"email": unique_email("admin"), "password": PASSWORD}),
            Some(&root),
        )
        .await;
    assert_eq!(admin.status(), 201);

    // A broken edit keeps the last good state and is reported.
    app.write_features("disabledFeatures = [\n    acount-registration\n]\n");
    let reported = eventually(Duration::from_secs(3), || async {
        let features: Value = app.get("/v1/features").await.json().await.unwrap();
        features["file"]["error"]
            .as_str()
            .is_some_and(|e| e == "features file line 2: unknown feature name")
    })
    .await;
    assert!(
        reported.is_some(),
        "broken edit not reported in GET /v1/features"
    );
    assert_problem(
        app.register(&unique_email("still-off"), PASSWORD).await,
        403,
        "feature_disabled",
    )
    .await;
    let features: Value = app.get("/v1/features").await.json().await.unwrap();
    let registration = features["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "account-registration")
        .unwrap();
    assert_eq!(registration["enabled"], false);
    assert_eq!(registration["default"], true);

    // Switched back on: 201 again, and the error clears.
    app.write_features(ON);
    let took = eventually(Duration::from_secs(2), || async {
        app.register(&unique_email("on-again"), PASSWORD)
            .await
            .status()
            == 201
    })
    .await;
    assert!(
        took.is_some(),
        "flag switched back on not noticed within 2 s"
    );
    let features: Value = app.get("/v1/features").await.json().await.unwrap();
    assert!(features["file"]["error"].is_null(), "{features}");
}

/// `healthchecks` gates `/healthz` and `/readyz`, `feature-flag-information-endpoint` gates
/// `GET /v1/features`: off at start-up they are 404 `not_found` (and nothing else is), and
/// switching them on and off again in the file is followed without a restart.
async fn health_probes_and_the_features_endpoint_follow_their_flags(db: Db) {
    const GATED_OFF: &str = "enabledFeatures = [\n]\ndisabledFeatures = [\n    healthchecks\n    \
        feature-flag-information-endpoint\n]\n";
    let Some(app) = spawn_app_with(
        db,
        AppOptions {
            features: Some(GATED_OFF.into()),
            ..AppOptions::default()
        },
    )
    .await
    else {
        return;
    };
    let gated = ["/healthz", "/readyz", "/v1/features"];
    for path in gated {
        assert_problem(app.get(path).await, 404, "not_found").await;
    }
    for ungated in ["/metrics", "/openapi.json"] {
        assert_eq!(app.get(ungated).await.status(), 200, "{ungated}");
    }

    let all_answer = |expected: u16| {
        let app = &app;
        async move {
            for path in gated {
                if app.get(path).await.status() != expected {
                    return false;
                }
            }
            true
        }
    };
    app.write_features(ON);
    let on = eventually(Duration::from_secs(2), || all_answer(200)).await;
    assert!(
        on.is_some(),
        "the gated routes did not come back within 2 s"
    );
    app.write_features(GATED_OFF);
    let off = eventually(Duration::from_secs(2), || all_answer(404)).await;
    assert!(off.is_some(), "the gated routes did not go away within 2 s");
}

/// Switching a flag through the use case the console calls (there is no JSON route for it):
/// only a holder of `feature-manage` on `*` may; the file is edited with its comments kept;
/// the running server (another node reading the same file) follows; the audit trail shows
/// who switched what; a broken file is refused and left as it was.
async fn a_holder_of_feature_manage_switches_a_flag_for_every_node(db: Db) {
    const COMMENTED: &str = "# OPS-12: flags for the staging cluster\nenabledFeatures = [\n    \
        metrics   // scraped\n]\n";
    let Some(app) = spawn_app_with(
        db,
        AppOptions {
            features: Some(COMMENTED.into()),
            ..AppOptions::default()
        },
    )
    .await
    else {
        return;
    };
    let root = app.superadmin_token().await;
    let operator = app.new_account("flags").await;
    app.create_role(&root, "flag-operator", &[("feature-manage", "allow")])
        .await;
    app.grant_ok(&root, &operator.id, "flag-operator", "*")
        .await;
    let bystander = app.new_account("bystander").await;
    // The console runs in a node of its own here: the same database and features file.
    let node = app.components(&[]).roster;

    let caller = node
        .authenticate_bearer(&bystander.token, None)
        .await
        .unwrap();
    let refused = node
        .set_feature(&caller, "account-registration", false)
        .await;
    assert!(matches!(refused, Err(AppError::Forbidden)), "{refused:?}");
    assert_eq!(
        std::fs::read_to_string(&app.features_file).unwrap(),
        COMMENTED
    );

    let caller = node
        .authenticate_bearer(&operator.token, Some("192.0.2.7".parse().unwrap()))
        .await
        .unwrap();
    let state = node
        .set_feature(&caller, "account-registration", false)
        .await
        .unwrap();
    assert!(!state.enabled);
    assert!(!node.is_enabled(roster_app::Feature::AccountRegistration));
    let text = std::fs::read_to_string(&app.features_file).unwrap();
    assert!(
        text.starts_with(COMMENTED) && text.contains("account-registration"),
        "{text}"
    );
    let took = eventually(Duration::from_secs(2), || async {
        app.register(&unique_email("probe"), PASSWORD)
            .await
            .status()
            == 403
    })
    .await;
    assert!(took.is_some(), "the server did not follow within 2 s");

    let events: Value = app
        .get_as("/v1/admin/audit-events?action=feature.changed", &root)
        .await
        .json()
        .await
        .unwrap();
    let items = events["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{events}");
    assert_eq!(items[0]["actor"], format!("account:{}", operator.id));
    assert_eq!(items[0]["target"], "feature:account-registration");
    assert_eq!(items[0]["detail"], "disabled");
    assert_eq!(items[0]["source_ip"], "192.0.2.7");

    // A broken file is the operator's to fix: refused, and not a byte changed.
    let broken = "disabledFeatures = [\n    metrix\n]\n";
    app.write_features(broken);
    let refused = node.set_feature(&caller, "metrics", false).await;
    assert!(
        matches!(refused, Err(AppError::FeaturesFileInvalid)),
        "{refused:?}"
    );
    assert_eq!(std::fs::read_to_string(&app.features_file).unwrap(), broken);
}
