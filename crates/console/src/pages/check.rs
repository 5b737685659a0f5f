//! "Who may do what where": pick an account or API key, an action and a scope, and see the
//! answer with the grant and rule that decided it. A GET form, so an answer is a link that
//! can be kept and shared (`?principal=&action=&scope=`).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{self, Data, ServiceConfig};
use askama::Template;
use roster_app::{AppError, CheckOutcome, Roster, SubjectCheck, SubjectCheckForm};
use roster_domain::{BuiltinAction, Reason};
use serde::Deserialize;

use crate::forms::FieldErrors;
use crate::layout::Layout;
use crate::render::{ConsoleError, html};
use crate::session::Viewer;
use crate::words::{check_in_words, scope_in_words, subject_in_words};

const PATH: &str = "/console/admin/check";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/admin/check", web::get().to(show));
}

/// The form's fields as sent (the JSON check's `action`, `scope` and `api_key_id`, and the
/// `principal` typed by a person); all absent on a first visit.
#[derive(Debug, Default, Deserialize)]
struct CheckQuery {
    principal: Option<String>,
    api_key_id: Option<String>,
    action: Option<String>,
    scope: Option<String>,
}

impl CheckQuery {
    fn asked(&self) -> bool {
        self.principal.is_some()
            || self.api_key_id.is_some()
            || self.action.is_some()
            || self.scope.is_some()
    }
}

/// An API key to pick.
struct KeyChoice {
    id: String,
    name: String,
    selected: bool,
}

/// The grant and rule that decided.
struct Deciding {
    role: String,
    scope: String,
    scope_words: String,
    rule: String,
    grant_id: String,
}

/// The answer, in words.
struct Answer {
    allowed: bool,
    /// "ada@example.com may do audit-read on acme.berlin."
    summary: String,
    /// Why, with the deciding grant and rule.
    reason: String,
    deciding: Option<Deciding>,
}

#[derive(Template)]
#[template(path = "check.html")]
struct CheckPage {
    layout: Layout,
    principal: String,
    /// The picked API key is the selected choice.
    action: String,
    scope: String,
    /// `None`: the viewer may not list API keys (an id can still be typed).
    keys: Option<Vec<KeyChoice>>,
    more_keys: bool,
    builtin_actions: Vec<&'static str>,
    answer: Option<Answer>,
    errors: FieldErrors,
}

fn answer(checked: &SubjectCheck, action: &str, scope: &str) -> Answer {
    let allowed = checked.outcome.is_allowed();
    let subject = subject_in_words(&checked.subject);
    let may = if allowed { "may" } else { "may not" };
    let deciding = match &checked.outcome {
        CheckOutcome::Decided(decision) => match decision.reason() {
            Reason::AllowedBy(m) | Reason::DeniedBy(m) => Some(Deciding {
                role: m.role.to_string(),
                scope: m.scope.to_string(),
                scope_words: scope_in_words(&m.scope),
                rule: m.rule.to_string(),
                grant_id: m.grant.to_string(),
            }),
            Reason::SuperAdmin | Reason::NoMatchingGrant => None,
        },
        CheckOutcome::Inactive => None,
    };
    Answer {
        allowed,
        summary: format!("{subject} {may} do {action} on {scope}."),
        reason: check_in_words(&checked.outcome, &checked.subject, action, scope),
        deciding,
    }
}

/// `GET /console/admin/check`: the form, and the answer when it was filled in.
async fn show(
    roster: Data<Roster>,
    viewer: Viewer,
    query: web::Query<CheckQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let query = query.into_inner();
    // Also the page's gate: `account-read` on `*`.
    let choices = roster.check_choices(&viewer.caller).await?;
    let asked = query.asked();
    let form = SubjectCheckForm {
        principal: query.principal.unwrap_or_default().trim().to_owned(),
        api_key_id: query.api_key_id.unwrap_or_default().trim().to_owned(),
        action: query.action.unwrap_or_default().trim().to_owned(),
        scope: query.scope.unwrap_or_default().trim().to_owned(),
    };
    let (status, answer, errors) = if asked {
        match roster.check_subject(&viewer.caller, &form).await {
            Ok(checked) => (
                StatusCode::OK,
                Some(answer(&checked, &form.action, &form.scope)),
                FieldErrors::default(),
            ),
            Err(AppError::Validation(errors)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                FieldErrors::from_app(errors),
            ),
            Err(other) => return Err(other.into()),
        }
    } else {
        (StatusCode::OK, None, FieldErrors::default())
    };
    let keys = choices.api_keys.map(|keys| {
        keys.into_iter()
            .map(|key| {
                let id = key.id.to_string();
                KeyChoice {
                    selected: id == form.api_key_id,
                    id,
                    name: key.name,
                }
            })
            .collect()
    });
    let page = CheckPage {
        layout: Layout::signed_in(&viewer, PATH),
        principal: form.principal,
        action: form.action,
        scope: form.scope,
        keys,
        more_keys: choices.more_api_keys,
        builtin_actions: BuiltinAction::ALL.iter().map(|a| a.name()).collect(),
        answer,
        errors,
    };
    Ok(html(status, &page))
}
