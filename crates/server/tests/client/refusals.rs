//! Assertions on what the client answers when Roster refuses a request.

use std::fmt::Debug;

use roster_client::{Error, Problem, ProblemCode};

/// The problem of `result`, asserting it is a refusal with `code`.
#[track_caller]
pub fn refused<T: Debug>(result: Result<T, Error>, code: &ProblemCode) -> Problem {
    match result {
        Err(Error::Problem { problem, .. }) if &problem.code == code => *problem,
        other => panic!("expected a `{code}` problem, got {other:?}"),
    }
}

/// Asserts `result` is 422 `validation_failed` naming `field` among its errors.
#[track_caller]
pub fn invalid_field<T: Debug>(result: Result<T, Error>, field: &str) {
    let problem = refused(result, &ProblemCode::ValidationFailed);
    assert!(
        problem.errors.iter().any(|error| error.field == field),
        "expected `{field}` among {:?}",
        problem.errors
    );
}
