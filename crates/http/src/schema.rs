//! Schema-only names: types and constants that exist only to describe the wire in the
//! OpenAPI document (closed sets of strings, the problem media type, the security scheme).
//! A leaf: it imports nothing from this crate, so DTOs, problems and routes can all use it.

use std::fmt::Write as _;
use std::sync::OnceLock;

use roster_app::model::{AuditAction, InvitationStatus};
use roster_app::{EmailVerification, Feature};
use roster_domain::{AccountStatus, Effect, account, action, email, password, role, scope, text};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, SchemaFormat, SchemaType, Type};

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
    EmailVerificationName,
    "EmailVerification",
    "Whether a self-registered account must verify its email address before it can log in.",
    [EmailVerification::Off, EmailVerification::Required].map(EmailVerification::as_str)
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
    InvitationStatusName,
    "InvitationStatus",
    "Where an invitation stands: `pending` until accepted, revoked or past `expires_at` \
     (then `expired`).",
    InvitationStatus::ALL.map(InvitationStatus::as_str)
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

/// `active` of an active introspection answer: always `true`, so the two answers of
/// `oneOf` never both match.
pub(crate) fn always_true() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Boolean)
        .enum_values(Some([true]))
        .description(Some("Always true."))
        .build()
}

/// `active` of an inactive introspection answer: always `false`.
pub(crate) fn always_false() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Boolean)
        .enum_values(Some([false]))
        .description(Some("Always false."))
        .build()
}

// ---------------------------------------------------------------------------------------------
// Constrained strings: the rules the service enforces, stated in the document so that data
// generated from it as valid is accepted. The bounds come from the domain's constants.

/// A string with the given bounds (in characters) and an optional pattern.
fn constrained(min: usize, max: usize, pattern: Option<String>) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(min))
        .max_length(Some(max))
        .pattern(pattern)
}

/// One scope segment: `[a-z0-9][a-z0-9_-]{0,62}`.
fn scope_segment() -> String {
    format!("[a-z0-9][a-z0-9_-]{{0,{}}}", scope::MAX_SEGMENT_LENGTH - 1)
}

/// A password under the default policy (`password.min_length` / `max_length`); it must also
/// not be guessable, which no schema states.
pub(crate) fn password() -> Object {
    constrained(
        password::DEFAULT_MIN_LENGTH,
        password::DEFAULT_MAX_LENGTH,
        None,
    )
    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
    .description(Some(format!(
        "{} to {} characters by default (NFKC, Unicode scalar values); not a well-known or \
         guessable password.",
        password::DEFAULT_MIN_LENGTH,
        password::DEFAULT_MAX_LENGTH
    )))
    .build()
}

/// A password as typed at login or as the current one: any length up to the ceiling.
pub(crate) fn any_password() -> Object {
    constrained(1, password::MAX_LENGTH_CEILING, None)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
        .build()
}

/// An email address.
pub(crate) fn email() -> Object {
    constrained(3, email::MAX_EMAIL_LENGTH, None)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .description(Some(
            "Stored as given (trimmed); unique case-insensitively.".to_owned(),
        ))
        .examples(["Ada@Example.com"])
        .build()
}

/// A regex character class of what free text shown to people may not contain: control
/// characters (but those in `allowed`), bidirectional controls and invisible characters, as
/// the domain's `text` module defines them. The domain allows a joiner or a variation
/// selector inside some scripts and emoji; the document, simpler and stricter, refuses them
/// all. Characters outside the BMP are written as themselves (`\u` escapes stop at U+FFFF).
fn hidden_characters(allowed: &[char]) -> String {
    let hidden = |c: char| {
        !allowed.contains(&c)
            && (c.is_control() || text::is_bidi_control(c) || text::is_invisible(c))
    };
    let push_char = |class: &mut String, c: char| {
        if u32::from(c) <= 0xffff {
            // Writing to a `String` cannot fail.
            let _ = write!(class, "\\u{:04x}", u32::from(c));
        } else {
            class.push(c);
        }
    };
    let push_run = |class: &mut String, (first, last): (char, char)| {
        push_char(class, first);
        if last != first {
            class.push('-');
            push_char(class, last);
        }
    };
    let mut class = String::new();
    let mut run: Option<(char, char)> = None;
    for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
        match (hidden(c), run) {
            (true, Some((first, _))) => run = Some((first, c)),
            (true, None) => run = Some((c, c)),
            (false, Some(ended)) => {
                push_run(&mut class, ended);
                run = None;
            }
            (false, None) => {}
        }
    }
    if let Some(ended) = run {
        push_run(&mut class, ended);
    }
    class
}

/// [`hidden_characters`] with nothing allowed, scanned once per process: the document uses
/// it for every name field, and each scan walks every code point.
fn hidden_in_names() -> &'static str {
    static CLASS: OnceLock<String> = OnceLock::new();
    CLASS.get_or_init(|| hidden_characters(&[]))
}

/// [`hidden_characters`] but tabs and line breaks, scanned once per process.
fn hidden_in_descriptions() -> &'static str {
    static CLASS: OnceLock<String> = OnceLock::new();
    CLASS.get_or_init(|| hidden_characters(&['\t', '\n', '\r']))
}

/// A display name or an API key's name: 1 to 200 characters, not only spaces, nothing hidden.
pub(crate) fn display_name() -> Object {
    let hidden = hidden_in_names();
    constrained(
        1,
        account::MAX_NAME_LENGTH,
        Some(format!("^[^{hidden}]*[^\\s{hidden}][^{hidden}]*$")),
    )
    .description(Some(format!(
        "1 to {} characters, not only spaces, no control, bidirectional-control or invisible \
         characters.",
        account::MAX_NAME_LENGTH
    )))
    .examples(["Ada"])
    .build()
}

/// A role's description: at most 1000 characters; line breaks and tabs, but nothing else
/// hidden.
pub(crate) fn role_description() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(1000))
        .pattern(Some(format!("^[^{}]*$", hidden_in_descriptions())))
        .description(Some(
            "At most 1000 characters; line breaks and tabs, but no other control, \
             bidirectional-control or invisible characters.",
        ))
        .build()
}

/// A role name: `[a-z0-9][a-z0-9_-]*`, at most 64 characters.
pub(crate) fn role_name() -> Object {
    constrained(
        1,
        role::MAX_ROLE_NAME_LENGTH,
        Some("^[a-z0-9][a-z0-9_-]*$".to_owned()),
    )
    .examples(["tenant-admin"])
    .build()
}

/// An action to check: `[a-z0-9][a-z0-9_:.-]*`, at most 64 characters.
pub(crate) fn action() -> Object {
    constrained(
        1,
        action::MAX_ACTION_LENGTH,
        Some("^[a-z0-9][a-z0-9_:.-]*$".to_owned()),
    )
    .examples(["issuer-read"])
    .build()
}

/// A rule's action: an action, `all`, or an action prefix ending in `*` (`issuer-*`).
pub(crate) fn action_pattern() -> Object {
    constrained(
        1,
        action::MAX_ACTION_LENGTH + 1,
        Some("^(all|[a-z0-9][a-z0-9_:.-]*\\*?)$".to_owned()),
    )
    .description(Some(
        "An action, `all`, or a prefix ending in `*` (`issuer-*`).".to_owned(),
    ))
    .examples(["issuer-*"])
    .build()
}

/// A grant's scope: `*`, or a dot path of 1 to 8 segments where any but the first may be `*`.
pub(crate) fn scope() -> Object {
    let segment = scope_segment();
    let depth = scope::MAX_SCOPE_DEPTH - 1;
    constrained(
        1,
        scope::MAX_SCOPE_DEPTH * scope::MAX_SEGMENT_LENGTH + depth,
        Some(format!(
            "^(\\*|{segment}(\\.({segment}|\\*)){{0,{depth}}})$"
        )),
    )
    .description(Some(
        "`*` or a dot path of 1 to 8 segments; a segment other than the first may be `*`."
            .to_owned(),
    ))
    .examples(["acme.berlin"])
    .build()
}

/// A scope to check: `*` or a dot path without `*` segments.
pub(crate) fn concrete_scope() -> Object {
    let segment = scope_segment();
    let depth = scope::MAX_SCOPE_DEPTH - 1;
    constrained(
        1,
        scope::MAX_SCOPE_DEPTH * scope::MAX_SEGMENT_LENGTH + depth,
        Some(format!("^(\\*|{segment}(\\.{segment}){{0,{depth}}})$")),
    )
    .description(Some(
        "One place: `*` or a dot path of 1 to 8 segments without `*` segments.".to_owned(),
    ))
    .examples(["acme.berlin"])
    .build()
}

/// An API key's lifetime: `<n>s|m|h|d|w` or an ISO 8601 duration. The pattern states a
/// subset that is always within the 3650-day ceiling.
pub(crate) fn expires_in() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^([1-9][0-9]{0,2}[smhd]|[1-9][0-9]?w)$"))
        .description(Some(
            "`<n>s|m|h|d|w` or an ISO 8601 duration of weeks, days, hours, minutes and seconds \
             (`PT90M`, `P30D`); at most 3650 days. Left out: the key never expires.",
        ))
        .examples(["30d"])
        .build()
}

/// An invitation link's lifetime: the forms of [`expires_in`], at most 30 days. The pattern
/// states a subset that is always within that ceiling (up to 720 hours, 30 days, 4 weeks).
pub(crate) fn invitation_expires_in() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(
            "^([1-9][0-9]{0,2}[sm]|([1-9][0-9]?|[1-6][0-9]{2}|7[01][0-9]|720)h\
             |([1-9]|[12][0-9]|30)d|[1-4]w)$",
        ))
        .description(Some(
            "`<n>s|m|h|d|w` or an ISO 8601 duration of weeks, days, hours, minutes and seconds \
             (`PT90M`, `P14D`); at most 30 days. Left out: 7 days.",
        ))
        .examples(["7d"])
        .build()
}

// ---------------------------------------------------------------------------------------------
// Optional fields. The request DTOs read them as `Option` with `#[serde(default)]`, so `null`
// is accepted as "left out"; the document says so (`schema_with` replaces utoipa's own
// handling of `Option`, which would have added the `null`).

/// A string schema that also allows `null`.
fn string_or_null(mut object: Object) -> Object {
    object.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    object
}

/// [`display_name`], or `null` for none.
pub(crate) fn optional_display_name() -> Object {
    string_or_null(display_name())
}

/// [`role_name`], or `null` for none.
pub(crate) fn optional_role_name() -> Object {
    string_or_null(role_name())
}

/// [`expires_in`], or `null` for a key that never expires.
pub(crate) fn optional_expires_in() -> Object {
    string_or_null(expires_in())
}

/// [`invitation_expires_in`], or `null` for the default, 7 days.
pub(crate) fn optional_invitation_expires_in() -> Object {
    string_or_null(invitation_expires_in())
}
