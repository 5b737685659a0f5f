//! Schema-only names: types and constants that exist only to describe the wire in the
//! OpenAPI document (closed sets of strings, the problem media type, the security scheme).
//! A leaf: it imports nothing from this crate, so DTOs, problems and routes can all use it.

use roster_app::Feature;
use roster_app::audit::AuditAction;
use roster_domain::{AccountStatus, Effect};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

/// Name of the bearer security scheme that secured operations refer to.
pub(crate) const BEARER: &str = "bearer";

/// Media type of every error response.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

pub(crate) fn string_enum<const N: usize>(values: [&'static str; N]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .build()
}

/// A schema-only type: a string with a closed set of values, kept once under
/// `components/schemas/<name>` and listed from the type that defines the values.
macro_rules! string_enum_schema {
    ($ty:ident, $name:literal, $description:literal, $values:expr) => {
        #[doc = $description]
        #[derive(Debug)]
        pub(crate) struct $ty;

        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
                let mut schema = string_enum($values);
                schema.description = Some($description.to_owned());
                schema.into()
            }
        }

        impl utoipa::ToSchema for $ty {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed($name)
            }
        }
    };
}

string_enum_schema!(
    AccountStatusName,
    "AccountStatus",
    "An account's status: a disabled account cannot log in.",
    [AccountStatus::Active, AccountStatus::Disabled].map(AccountStatus::as_str)
);
string_enum_schema!(
    EffectName,
    "Effect",
    "A rule's effect: a matching `deny` anywhere above the target wins over any `allow`.",
    [Effect::Allow, Effect::Deny].map(Effect::as_str)
);
string_enum_schema!(
    AuditActionName,
    "AuditAction",
    "What an audit event records.",
    AuditAction::ALL.map(AuditAction::as_str)
);
string_enum_schema!(
    FeatureName,
    "FeatureName",
    "A feature flag's name, as written in the features file.",
    Feature::ALL.map(Feature::name)
);
string_enum_schema!(
    CheckReason,
    "CheckReason",
    "What decided an authorization check.",
    [
        "superadmin",
        "allowed_by",
        "denied_by",
        "no_matching_grant",
        "inactive",
    ]
);

pub(crate) fn token_type() -> Object {
    string_enum(["Bearer"])
}

pub(crate) fn health_status() -> Object {
    string_enum(["ok", "ready", "unavailable"])
}
