//! Posted forms: read within the API's limits, checked against cross-site requests before
//! anything else, then parsed. A handler that takes a [`Form`] runs only for a request that
//! passed [`crate::csrf::verify`]; a forged one is answered 403 and changes nothing.

use std::collections::HashMap;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::web::{BytesMut, Data};
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use roster_http::{BODY_LIMIT, BodyTimeout, DEFAULT_BODY_TIMEOUT};
use serde::de::DeserializeOwned;

use crate::csrf::{self, CSRF_FIELD};
use crate::render::ConsoleError;

/// A form posted as `application/x-www-form-urlencoded`, CSRF-checked, with its fields
/// parsed into `T` (fields `T` does not name, such as the token, are ignored) and also kept
/// as sent, for repeated fields (`role`, `scope` of several grant rows).
#[derive(Debug)]
pub struct Form<T> {
    pub fields: T,
    pub raw: FormFields,
    /// The path the form was posted to (what a step-up sends it to again).
    pub action: String,
}

/// The fields of a form that carries nothing but its token (sign out, revoke, delete).
#[derive(Debug, serde::Deserialize)]
pub struct NoFields {}

/// The fields of a form in the order sent.
#[derive(Debug, Default)]
pub struct FormFields(Vec<(String, String)>);

impl FormFields {
    /// Every value sent under `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }

    /// Fields as if sent in this order (for tests of what reads them).
    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&str, &str)]) -> FormFields {
        FormFields(
            pairs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
        )
    }

    /// Every field, in the order sent.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// The first value sent under `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_form(&req) {
                return Err(ConsoleError::BadForm(
                    "The form must be sent as application/x-www-form-urlencoded.",
                ));
            }
            let body = read_body(&req, &mut payload).await?;
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
                .map_err(|_| ConsoleError::BadForm("The form could not be read."))?;
            let raw = FormFields(pairs);
            csrf::verify(&req, raw.get(CSRF_FIELD)).map_err(ConsoleError::Csrf)?;
            if raw.0.iter().any(|(name, value)| {
                name.chars()
                    .chain(value.chars())
                    .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
            }) {
                return Err(ConsoleError::BadForm("The form holds control characters."));
            }
            // Single-valued fields into `T`; the first value wins for a repeated name.
            let mut single: HashMap<&str, &str> = HashMap::new();
            for (name, value) in &raw.0 {
                single.entry(name).or_insert(value);
            }
            let encoded = serde_urlencoded::to_string(&single)
                .map_err(|_| ConsoleError::BadForm("The form could not be read."))?;
            let fields = serde_urlencoded::from_str(&encoded).map_err(|_| {
                ConsoleError::BadForm("The form is missing a field or has one of the wrong kind.")
            })?;
            Ok(Form {
                fields,
                raw,
                action: req.path().to_owned(),
            })
        })
    }
}

/// A request body, read within the API's limits: at most [`BODY_LIMIT`] bytes, arriving
/// within the body timeout.
pub(crate) async fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> Result<BytesMut, ConsoleError> {
    let deadline = req
        .app_data::<Data<BodyTimeout>>()
        .map_or(DEFAULT_BODY_TIMEOUT, |timeout| timeout.0);
    let read = async {
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk =
                chunk.map_err(|_| ConsoleError::BadForm("The form did not arrive whole."))?;
            if body.len() + chunk.len() > BODY_LIMIT {
                return Err(ConsoleError::BadForm("The form is too large."));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    actix_web::rt::time::timeout(deadline, read)
        .await
        .map_err(|_| ConsoleError::BadForm("The form took too long to arrive."))?
}

fn is_form(req: &HttpRequest) -> bool {
    has_content_type(req, "application/x-www-form-urlencoded")
}

/// Whether `req`'s body is declared as `essence` (parameters such as `charset` aside).
pub(crate) fn has_content_type(req: &HttpRequest, essence: &str) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|declared| declared.trim().eq_ignore_ascii_case(essence))
}

/// What a page shows in its form: blank (or as stored) after a GET, with the notice its link
/// carries; or, after a refused POST, as typed, with its problems and the status saying why.
#[derive(Debug)]
pub struct FormState<T> {
    pub status: StatusCode,
    pub notice: Option<&'static str>,
    pub typed: T,
    pub errors: FieldErrors,
}

impl<T> FormState<T> {
    /// A page as its link asks, the form holding `typed`.
    pub fn fresh(typed: T, notice: Option<&'static str>) -> FormState<T> {
        FormState {
            status: StatusCode::OK,
            notice,
            typed,
            errors: FieldErrors::default(),
        }
    }

    /// A refused form, shown again as `typed` with its `errors`.
    pub fn refused(status: StatusCode, typed: T, errors: FieldErrors) -> FormState<T> {
        FormState {
            status,
            notice: None,
            typed,
            errors,
        }
    }
}

/// The problems of a submitted form, each next to the field it is about: the use cases'
/// validation errors keyed by the JSON field names the forms also use, so the same
/// `errors[].field` that names a field in the API puts a message beside it here.
#[derive(Debug, Default)]
pub struct FieldErrors {
    /// In the order the use case gave them (the summary's order).
    by_field: Vec<(String, String)>,
    /// Each field's first message in `by_field`: every field of every row looks itself up
    /// ([`FieldErrors::get`]), so a lookup must not walk the whole list.
    index: HashMap<String, usize>,
    /// A problem that is not about one field (wrong credentials, a refusal).
    pub general: Option<String>,
}

impl FieldErrors {
    /// The use case's field errors.
    pub fn from_app(errors: Vec<roster_app::FieldError>) -> FieldErrors {
        let by_field: Vec<(String, String)> = errors
            .into_iter()
            .map(|error| (error.field, error.message))
            .collect();
        let mut index = HashMap::with_capacity(by_field.len());
        for (at, (field, _)) in by_field.iter().enumerate() {
            index.entry(field.clone()).or_insert(at);
        }
        FieldErrors {
            by_field,
            index,
            general: None,
        }
    }

    /// A problem about the form as a whole.
    pub fn general(message: impl Into<String>) -> FieldErrors {
        FieldErrors {
            general: Some(message.into()),
            ..FieldErrors::default()
        }
    }

    /// One problem about `field`.
    pub fn field(field: &str, message: impl Into<String>) -> FieldErrors {
        FieldErrors::from_app(vec![roster_app::FieldError {
            field: field.to_owned(),
            code: "",
            message: message.into(),
        }])
    }

    /// The message for `field` (its first, when the use case gave several), if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.index
            .get(field)
            .map(|&at| self.by_field[at].1.as_str())
    }

    /// Every problem, for the summary at the top of the form.
    pub fn all(&self) -> Vec<&str> {
        self.general
            .iter()
            .map(String::as_str)
            .chain(self.by_field.iter().map(|(_, message)| message.as_str()))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.general.is_none() && self.by_field.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use roster_app::FieldError;

    use super::*;

    #[test]
    fn each_field_finds_its_first_message_and_the_summary_keeps_every_one() {
        let errors = FieldErrors::from_app(vec![
            FieldError::new("email", "invalid_email", "first"),
            FieldError::new("grants[0].role", "invalid_role_name", "role"),
            FieldError::new("email", "email_taken", "second"),
        ]);
        assert_eq!(errors.get("email"), Some("first"));
        assert_eq!(errors.get("grants[0].role"), Some("role"));
        assert_eq!(errors.get("grants[0]"), None);
        assert_eq!(errors.all(), ["first", "role", "second"]);
        assert_eq!(FieldErrors::field("scope", "bad").get("scope"), Some("bad"));
        let general = FieldErrors::general("refused");
        assert_eq!(
            (general.get("refused"), general.all()),
            (None, vec!["refused"])
        );
        assert!(!general.is_empty() && FieldErrors::default().is_empty());
    }

    /// Every field of a large form finds its own message (the lookup is a map; its speed is
    /// not asserted here: timing belongs in benchmarks, not unit tests).
    #[test]
    fn every_field_of_many_finds_its_own_error() {
        let fields: Vec<String> = (0..2_000).map(|i| format!("grants[{i}].role")).collect();
        let errors = FieldErrors::from_app(
            fields
                .iter()
                .map(|field| FieldError::new(field.clone(), "invalid_role_name", field.clone()))
                .collect(),
        );
        assert!(
            fields
                .iter()
                .all(|field| errors.get(field) == Some(field.as_str()))
        );
        assert_eq!(errors.get("grants[2000].role"), None);
    }
}
