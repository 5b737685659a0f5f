//! "Confirm it is you": the step-up prompt. The most dangerous actions (creating API keys,
//! giving roles that manage grants, disabling accounts, resetting passwords, inviting or
//! creating accounts with such roles) need a second factor presented recently
//! (`mfa.step_up_window`); their use cases answer `MfaStepUpRequired` otherwise, and the
//! page that met it answers with this prompt instead of an error.
//!
//! Nothing typed is lost, and nothing is done twice: the prompt carries the refused form's
//! fields (as hidden fields; passwords are never written into a page, so those are asked
//! for again), and once the code is right, `POST /console/step-up` answers
//! `307 Temporary Redirect` to the refused form's own address. A 307 makes the browser send
//! the same POST body there again, so the form is submitted once more exactly as the person
//! sent it, through the same handler and checks (its CSRF token included), now with a fresh
//! second factor. With a passkey the script does the same by sending the prompt's form to
//! that address itself.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use actix_web::web::{self, Data, ServiceConfig};
use askama::Template;
use roster_app::{AppError, Roster};
use serde::Deserialize;
use serde_json::{Value, json};

use super::factors::{CodeField, PasskeyButton, passkey_refusal, too_many_failures, wrong_code};
use super::second_step::options_reply;
use crate::csrf::CSRF_FIELD;
use crate::forms::{FieldErrors, Form, FormFields};
use crate::json::{self, Empty, JsonRequest};
use crate::layout::Layout;
use crate::render::{ConsoleError, html};
use crate::session::{Viewer, is_console_path};

/// The prompt's own fields, beside the refused form's.
const CODE_FIELD: &str = "code";
const ACTION_FIELD: &str = "step_up_action";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/step-up", web::post().to(confirm))
        .route("/step-up/passkey/start", web::post().to(start_passkey))
        .route("/step-up/passkey/finish", web::post().to(finish_passkey));
}

/// A password field of the refused form, typed again on the prompt.
struct Retype {
    name: String,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "step_up.html")]
struct StepUpPage {
    layout: Layout,
    /// "create this API key".
    what: &'static str,
    /// Where the refused form was posted, and is posted again.
    action: String,
    /// The page the person came from, for "Cancel".
    back_to: String,
    /// The refused form's fields, as sent, in order.
    hidden: Vec<(String, String)>,
    retype: Vec<Retype>,
    /// `None`: the account has only passkeys.
    code: Option<CodeField>,
    passkey: Option<PasskeyButton>,
    errors: FieldErrors,
}

/// What a refused form's address was for, in words, and the page it was on.
fn describe(action: &str) -> (&'static str, String) {
    let segments: Vec<&str> = action.trim_end_matches('/').split('/').collect();
    // `["", "console", "admin", <list>, <id>, <verb>]`
    match segments.as_slice() {
        ["", "console", "admin", "api-keys"] => ("create this API key", action.to_owned()),
        ["", "console", "admin", "accounts"] => ("create this account", action.to_owned()),
        ["", "console", "admin", "invitations"] => ("send this invitation", action.to_owned()),
        ["", "console", "admin", "invitations", _, "resend"] => (
            "send this invitation again",
            "/console/admin/invitations".to_owned(),
        ),
        ["", "console", "admin", "accounts", id, verb] => {
            let what = match *verb {
                "disable" => "disable this account",
                "password" => "reset this password",
                "grants" => "give this role",
                _ => "do this",
            };
            (what, format!("/console/admin/accounts/{id}"))
        }
        _ => ("do this", "/console/account".to_owned()),
    }
}

/// A password field's label on the prompt, by its name in the refused form.
fn retype_label(name: &str) -> &'static str {
    match name {
        "new_password" => "The new password, again",
        "password" => "The new account's password, again",
        _ => "The password, again",
    }
}

/// Whether a field of the refused form is a password, which a page never shows back.
fn is_password(name: &str) -> bool {
    name.contains("password")
}

/// The prompt for the form posted to `action` with `fields`, whose use case answered
/// `MfaStepUpRequired` (`Form::action`, `Form::raw`).
pub(super) async fn prompt(
    roster: &Roster,
    viewer: &Viewer,
    action: &str,
    fields: &FormFields,
) -> Result<HttpResponse, ConsoleError> {
    render(
        roster,
        viewer,
        action,
        fields,
        StatusCode::FORBIDDEN,
        FieldErrors::default(),
    )
    .await
}

/// The prompt for a form posted to `action` with `fields` (the refused form's, or the
/// prompt's own after a wrong code: its own fields are left out either way).
async fn render(
    roster: &Roster,
    viewer: &Viewer,
    action: &str,
    fields: &FormFields,
    status: StatusCode,
    errors: FieldErrors,
) -> Result<HttpResponse, ConsoleError> {
    let factors = roster.mfa_status(&viewer.caller).await?;
    let (what, back_to) = describe(action);
    let mut hidden = Vec::new();
    let mut retype: Vec<Retype> = Vec::new();
    for (name, value) in fields.pairs() {
        if [CSRF_FIELD, CODE_FIELD, ACTION_FIELD].contains(&name) {
            continue;
        }
        if is_password(name) {
            if !retype.iter().any(|field| field.name == name) {
                retype.push(Retype {
                    name: name.to_owned(),
                    label: retype_label(name),
                });
            }
        } else {
            hidden.push((name.to_owned(), value.to_owned()));
        }
    }
    let passkey = (!factors.passkeys.is_empty()).then_some(PasskeyButton {
        ceremony: "step-up",
        start: "/console/step-up/passkey/start",
        finish: "/console/step-up/passkey/finish",
        next: None,
        label: "Use a passkey",
    });
    let page = StepUpPage {
        layout: Layout::signed_in(viewer, &back_to),
        what,
        action: action.to_owned(),
        back_to,
        hidden,
        retype,
        code: CodeField::for_factors(factors.totp, factors.recovery_codes_left > 0),
        passkey,
        errors,
    };
    Ok(html(status, &page))
}

#[derive(Debug, Deserialize)]
struct StepUpFields {
    #[serde(default)]
    code: String,
    #[serde(default)]
    step_up_action: String,
}

/// Whether `action` may be sent again: a console path, never this prompt's own.
fn replayable(action: &str) -> bool {
    is_console_path(action) && !action.starts_with("/console/step-up") && !action.contains('?')
}

/// The refused form's address, to send it again (same method, same body).
fn send_again(action: &str) -> HttpResponse {
    HttpResponse::TemporaryRedirect()
        .insert_header((header::LOCATION, action))
        .finish()
}

/// `POST /console/step-up`: the code; then the refused form, once more.
async fn confirm(
    roster: Data<Roster>,
    viewer: Viewer,
    form: Form<StepUpFields>,
) -> Result<HttpResponse, ConsoleError> {
    let action = form.fields.step_up_action.as_str();
    if !replayable(action) {
        return Err(ConsoleError::BadForm(
            "The form waiting for your confirmation is not one of this console's.",
        ));
    }
    let code = form.fields.code.as_str();
    let (status, errors) = match roster.step_up(&viewer.caller, code).await {
        // No second factor (any more): the action needs no step-up either.
        Ok(()) | Err(AppError::MfaNotEnrolled) => return Ok(send_again(action)),
        Err(AppError::InvalidMfaCode) => (StatusCode::UNAUTHORIZED, wrong_code(code)),
        Err(AppError::TooManyAttempts { retry_after_secs }) => (
            StatusCode::TOO_MANY_REQUESTS,
            FieldErrors::general(too_many_failures(retry_after_secs)),
        ),
        Err(other) => return Err(other.into()),
    };
    render(&roster, &viewer, action, &form.raw, status, errors).await
}

/// `POST /console/step-up/passkey/start`: options allowing the account's passkeys.
async fn start_passkey(
    roster: Data<Roster>,
    viewer: Viewer,
    _body: JsonRequest<Empty>,
) -> Result<HttpResponse, ConsoleError> {
    match roster.start_passkey_step_up(&viewer.caller).await {
        Ok(options) => options_reply(&options),
        Err(other) => passkey_refusal(&other).ok_or_else(|| other.into()),
    }
}

#[derive(Debug, Deserialize)]
struct PasskeyAnswer {
    credential: Value,
}

/// `POST /console/step-up/passkey/finish`: the browser's answer; the session's second
/// factor is fresh, and the script sends the refused form again.
async fn finish_passkey(
    roster: Data<Roster>,
    viewer: Viewer,
    JsonRequest(answer): JsonRequest<PasskeyAnswer>,
) -> Result<HttpResponse, ConsoleError> {
    match roster
        .finish_passkey_step_up(&viewer.caller, &answer.credential.to_string())
        .await
    {
        Ok(()) => Ok(json::reply(StatusCode::OK, &json!({"confirmed": true}))),
        Err(other) => passkey_refusal(&other).ok_or_else(|| other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refused_form_is_said_in_words_with_its_page() {
        let id = "0190f0a0-0000-7000-8000-000000000001";
        assert_eq!(
            describe("/console/admin/api-keys"),
            ("create this API key", "/console/admin/api-keys".to_owned())
        );
        assert_eq!(
            describe(&format!("/console/admin/accounts/{id}/disable")),
            (
                "disable this account",
                format!("/console/admin/accounts/{id}")
            )
        );
        assert_eq!(
            describe(&format!("/console/admin/accounts/{id}/password")).0,
            "reset this password"
        );
        assert_eq!(
            describe(&format!("/console/admin/invitations/{id}/resend")),
            (
                "send this invitation again",
                "/console/admin/invitations".to_owned()
            )
        );
        assert_eq!(describe("/console/elsewhere").0, "do this");
    }

    #[test]
    fn only_console_forms_other_than_the_prompt_are_sent_again() {
        assert!(replayable("/console/admin/api-keys"));
        for action in [
            "/console/step-up",
            "/console/step-up/passkey/finish",
            "https://evil.example/console/admin/api-keys",
            "//evil.example",
            "/v1/admin/api-keys",
            "/console/admin/api-keys?x=1",
            "",
        ] {
            assert!(!replayable(action), "{action}");
        }
    }
}
