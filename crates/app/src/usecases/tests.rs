//! The service's own answers for adapters that gate whole routes: flag state and readiness
//! come from the ports as they are, never a default (a route must not be served while its
//! flag is off, nor `/readyz` say ready while the database is down).

use mockall::predicate::eq;

use crate::error::AppError;
use crate::model::{Feature, StoreError};
use crate::usecases::test_support::Ports;

#[test]
fn a_flag_is_as_the_feature_manager_says() {
    for on in [false, true] {
        let mut ports = Ports::new();
        ports
            .features
            .expect_is_enabled()
            .with(eq(Feature::Healthchecks))
            .times(1)
            .return_const(on);
        assert_eq!(ports.build().is_enabled(Feature::Healthchecks), on);
    }
}

#[tokio::test]
async fn readiness_is_the_stores_answer() {
    let mut ports = Ports::new();
    ports
        .readiness
        .expect_check_ready()
        .times(1)
        .returning(|| Err(StoreError::Unavailable("connection refused".into())));
    let result = ports.build().check_ready().await;
    assert!(
        matches!(&result, Err(AppError::Unavailable(reason)) if reason.contains("connection refused")),
        "{result:?}"
    );

    let mut ports = Ports::new();
    ports
        .readiness
        .expect_check_ready()
        .times(1)
        .returning(|| Ok(()));
    assert!(ports.build().check_ready().await.is_ok());
}
