//! "Confirm it is you": the step-up prompt. The most dangerous actions (creating API keys,
//! giving roles that manage grants, or a held role that power, disabling accounts,
//! resetting passwords, inviting or creating accounts with such roles, changing one's own
//! second factors) need a second factor presented recently (`mfa.step_up_window`); their
//! use cases answer `MfaStepUpRequired` otherwise, and the page that met it answers with
//! this prompt instead of an error. An account without a second factor changing its factors
//! needs a recent sign-in instead (`RecentSignInRequired`): the "Sign in again" page says so.
//!
//! Nothing typed is lost, and nothing is done twice: the prompt carries the refused form's
//! fields (as hidden fields; passwords are never written into a page, so those are asked
//! for again), and once the code is right, `POST /console/step-up` answers
//! `307 Temporary Redirect` to the refused form's own address. A 307 makes the browser send
//! the same POST body there again, so the form is submitted once more exactly as the person
//! sent it, through the same handler and checks (its CSRF token included), now with a fresh
//! second factor. With a passkey the script does the same by sending the prompt's form to
//! that address itself.

use actix_web::http::{StatusCode, header};
use actix_web::web::{self, Data, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use roster_app::{AppError, Roster};
use serde::Deserialize;
use serde_json::json;

use super::factors::{CodeField, PasskeyButton, passkey_refusal, too_many_failures, wrong_code};
use super::over_rate_limit;
use super::second_step::options_reply;
use crate::csrf::CSRF_FIELD;
use crate::forms::{FieldErrors, Form, FormFields};
use crate::json::{self, Credential, Empty, JsonRequest, credential_json};
use crate::layout::Layout;
use crate::render::{ConsoleError, encode_component, html, see_other};
use crate::session::{EnrollingViewer, Viewer, is_console_path};

/// The prompt's own fields, beside the refused form's.
const CODE_FIELD: &str = "code";
const ACTION_FIELD: &str = "step_up_action";
const BACK_FIELD: &str = "step_up_back";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/step-up", web::get().to(show))
        .route("/step-up", web::post().to(confirm))
        .route("/step-up/passkey/start", web::post().to(start_passkey))
        .route("/step-up/passkey/finish", web::post().to(finish_passkey))
        .route("/sign-in-again", web::get().to(sign_in_again_page));
}

/// A password field of the refused form, typed again on the prompt.
struct Retype {
    name: String,
    label: &'static str,
    /// `current-password` for the person's own password (so a password manager fills it
    /// rather than offering a new one), `new-password` for one being set.
    autocomplete: &'static str,
}

#[derive(Template)]
#[template(path = "step_up.html")]
struct StepUpPage {
    layout: Layout,
    /// "create this API key".
    what: &'static str,
    /// Where the refused form was posted, and is posted again; empty when no form waits
    /// (a passkey ceremony met the step-up: the person goes back and starts it again).
    action: String,
    /// The page the person came from, for "Cancel", and where a prompt without a waiting
    /// form returns.
    back_to: String,
    /// Where the script goes after a passkey step-up when no form waits.
    back_done: String,
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
    let two_step = || super::two_step::PATH.to_owned();
    // `["", "console", "admin", <list>, <id>, <verb>]`
    match segments.as_slice() {
        ["", "console", "admin", "api-keys"] => ("create this API key", action.to_owned()),
        ["", "console", "admin", "accounts"] => ("create this account", action.to_owned()),
        ["", "console", "admin", "invitations"] => ("send this invitation", action.to_owned()),
        ["", "console", "admin", "invitations", _, "resend"] => (
            "send this invitation again",
            "/console/admin/invitations".to_owned(),
        ),
        ["", "console", "admin", "roles", _] => ("save this role", action.to_owned()),
        ["", "console", "admin", "accounts", id, verb] => {
            let what = match *verb {
                "disable" => "disable this account",
                "password" => "reset this password",
                "grants" => "give this role",
                _ => "do this",
            };
            (what, format!("/console/admin/accounts/{id}"))
        }
        ["", "console", "account", "two-step", "app"] => {
            ("set up an authenticator app", two_step())
        }
        ["", "console", "account", "two-step", "app", "confirm"] => {
            ("turn on the authenticator app", two_step())
        }
        ["", "console", "account", "two-step", "app", "remove"] => {
            ("remove the authenticator app", two_step())
        }
        ["", "console", "account", "two-step", "recovery-codes"] => {
            ("get new recovery codes", two_step())
        }
        [
            "",
            "console",
            "account",
            "two-step",
            "passkeys",
            _,
            "remove",
        ] => ("remove this passkey", two_step()),
        _ => ("do this", "/console/account".to_owned()),
    }
}

/// A password field's label on the prompt, by the refused form's address and the field's
/// name there.
fn retype_label(action: &str, name: &str) -> &'static str {
    match name {
        _ if action.starts_with("/console/account/") => "Your password, again",
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
        None,
        fields,
        StatusCode::FORBIDDEN,
        FieldErrors::default(),
    )
    .await
}

/// `back` with the notice that the step-up is done.
fn stepped_up(back: &str) -> String {
    let joint = if back.contains('?') { '&' } else { '?' };
    format!("{back}{joint}done=stepped-up")
}

/// Where a passkey ceremony that met `MfaStepUpRequired` sends the script: the prompt
/// without a waiting form, coming back to `back` afterwards.
pub(super) fn prompt_path(back: &str) -> String {
    format!("/console/step-up?back={}", encode_component(back))
}

#[derive(Debug, Deserialize)]
struct PromptQuery {
    back: Option<String>,
}

/// `GET /console/step-up?back=`: the prompt with no form waiting (a passkey ceremony met
/// the step-up); once confirmed, back to `back` with a notice to go on.
async fn show(
    roster: Data<Roster>,
    viewer: Viewer,
    query: web::Query<PromptQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let back = query
        .back
        .as_deref()
        .filter(|back| is_console_path(back))
        .unwrap_or("/console/account");
    render(
        &roster,
        &viewer,
        "",
        Some(back),
        &FormFields::default(),
        StatusCode::OK,
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
    back: Option<&str>,
    fields: &FormFields,
    status: StatusCode,
    errors: FieldErrors,
) -> Result<HttpResponse, ConsoleError> {
    let factors = roster.mfa_status(&viewer.caller).await?;
    let (what, back_to) = match back {
        // No form waits: the person changes their second factors when they come back.
        Some(back) => ("change your two-step sign-in", back.to_owned()),
        None => describe(action),
    };
    let mut hidden = Vec::new();
    let mut retype: Vec<Retype> = Vec::new();
    for (name, value) in fields.pairs() {
        // Never carried: the prompt's own fields, and a TOTP set-up's secret (shown only on
        // the page that made it).
        if [
            CSRF_FIELD,
            CODE_FIELD,
            ACTION_FIELD,
            BACK_FIELD,
            "secret",
            "otpauth_uri",
        ]
        .contains(&name)
        {
            continue;
        }
        if is_password(name) {
            if !retype.iter().any(|field| field.name == name) {
                let own = action.starts_with("/console/account/");
                retype.push(Retype {
                    name: name.to_owned(),
                    label: retype_label(action, name),
                    autocomplete: if own {
                        "current-password"
                    } else {
                        "new-password"
                    },
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
        back_done: stepped_up(&back_to),
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
    #[serde(default)]
    step_up_back: String,
}

/// Whether `action` may be sent again: a console path, never this prompt's own.
fn replayable(action: &str) -> bool {
    // No `%`: a percent-encoded path could name this prompt itself; the console's own form
    // addresses never hold one.
    is_console_path(action)
        && !action.starts_with("/console/step-up")
        && !action.contains(['?', '%'])
}

/// The refused form's address, to send it again (same method, same body).
fn send_again(action: &str) -> HttpResponse {
    HttpResponse::TemporaryRedirect()
        .insert_header((header::LOCATION, action))
        .finish()
}

/// `POST /console/step-up`: the code; then the refused form, once more (or, when none
/// waits, back where the person was).
async fn confirm(
    req: HttpRequest,
    roster: Data<Roster>,
    viewer: Viewer,
    form: Form<StepUpFields>,
) -> Result<HttpResponse, ConsoleError> {
    let action = form.fields.step_up_action.as_str();
    let back = form.fields.step_up_back.as_str();
    let done = if action.is_empty() && is_console_path(back) {
        see_other(&stepped_up(back))
    } else if replayable(action) {
        send_again(action)
    } else {
        return Err(ConsoleError::BadForm(
            "The form waiting for your confirmation is not one of this console's.",
        ));
    };
    let back = action.is_empty().then_some(back);
    let code = form.fields.code.as_str();
    let (status, errors) = if let Some(message) = over_rate_limit(&req) {
        (StatusCode::TOO_MANY_REQUESTS, FieldErrors::general(message))
    } else {
        match roster.step_up(&viewer.caller, code).await {
            // No second factor (any more): the action needs no step-up either.
            Ok(()) | Err(AppError::MfaNotEnrolled) => return Ok(done),
            Err(AppError::InvalidMfaCode) => (StatusCode::UNAUTHORIZED, wrong_code(code)),
            Err(AppError::TooManyAttempts { retry_after_secs }) => (
                StatusCode::TOO_MANY_REQUESTS,
                FieldErrors::general(too_many_failures(retry_after_secs)),
            ),
            Err(other) => return Err(other.into()),
        }
    };
    render(&roster, &viewer, action, back, &form.raw, status, errors).await
}

// ---------------------------------------------------------------------------------------
// A recent sign-in.

/// Where a change of second factors that needs a recent sign-in (`RecentSignInRequired`)
/// sends the person: the page saying so, coming back to `back` after signing in again.
pub(super) fn sign_in_again_path(back: &str) -> String {
    format!("/console/sign-in-again?next={}", encode_component(back))
}

/// The answer to a form refused with `RecentSignInRequired`.
pub(super) fn sign_in_again(back: &str) -> HttpResponse {
    see_other(&sign_in_again_path(back))
}

#[derive(Template)]
#[template(path = "sign_in_again.html")]
struct SignInAgainPage {
    layout: Layout,
    next: String,
}

#[derive(Debug, Deserialize)]
struct SignInAgainQuery {
    next: Option<String>,
}

/// `GET /console/sign-in-again?next=`: why, and a button that signs out and asks to sign in
/// again, then comes back to `next`. Open to a session the MFA policy holds back (it may
/// have signed in too long ago to set up its factor).
async fn sign_in_again_page(
    EnrollingViewer(viewer): EnrollingViewer,
    query: web::Query<SignInAgainQuery>,
) -> HttpResponse {
    let next = query
        .next
        .clone()
        .filter(|next| is_console_path(next))
        .unwrap_or_else(|| super::two_step::PATH.to_owned());
    let page = SignInAgainPage {
        layout: Layout::signed_in(&viewer, &next),
        next,
    };
    html(StatusCode::FORBIDDEN, &page)
}

/// `POST /console/step-up/passkey/start`: options allowing the account's passkeys.
async fn start_passkey(
    req: HttpRequest,
    roster: Data<Roster>,
    viewer: Viewer,
    _body: JsonRequest<Empty>,
) -> Result<HttpResponse, ConsoleError> {
    if let Some(message) = over_rate_limit(&req) {
        return Ok(json::refusal(StatusCode::TOO_MANY_REQUESTS, &message, None));
    }
    match roster.start_passkey_step_up(&viewer.caller).await {
        Ok(options) => options_reply(&options),
        Err(other) => passkey_refusal(&other).ok_or_else(|| other.into()),
    }
}

#[derive(Debug, Deserialize)]
struct PasskeyAnswer {
    credential: Credential,
}

/// `POST /console/step-up/passkey/finish`: the browser's answer; the session's second
/// factor is fresh, and the script sends the refused form again.
async fn finish_passkey(
    req: HttpRequest,
    roster: Data<Roster>,
    viewer: Viewer,
    JsonRequest(answer): JsonRequest<PasskeyAnswer>,
) -> Result<HttpResponse, ConsoleError> {
    if let Some(message) = over_rate_limit(&req) {
        return Ok(json::refusal(StatusCode::TOO_MANY_REQUESTS, &message, None));
    }
    match roster
        .finish_passkey_step_up(&viewer.caller, &credential_json(answer.credential))
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
        assert_eq!(
            describe("/console/admin/roles/viewer"),
            ("save this role", "/console/admin/roles/viewer".to_owned())
        );
        assert_eq!(
            describe(&format!("/console/account/two-step/passkeys/{id}/remove")),
            (
                "remove this passkey",
                "/console/account/two-step".to_owned()
            )
        );
        assert_eq!(
            describe("/console/account/two-step/recovery-codes").0,
            "get new recovery codes"
        );
        assert_eq!(describe("/console/elsewhere").0, "do this");
    }

    #[test]
    fn a_password_to_type_again_is_named_for_its_form() {
        let own = "/console/account/two-step/app/remove";
        assert_eq!(retype_label(own, "password"), "Your password, again");
        assert_eq!(
            retype_label("/console/admin/accounts", "password"),
            "The new account's password, again"
        );
        assert_eq!(
            retype_label("/console/admin/accounts/x/password", "new_password"),
            "The new password, again"
        );
    }

    #[test]
    fn a_prompt_without_a_waiting_form_returns_with_a_notice() {
        assert_eq!(
            stepped_up("/console/account/two-step"),
            "/console/account/two-step?done=stepped-up"
        );
        assert_eq!(
            stepped_up("/console/x?a=b"),
            "/console/x?a=b&done=stepped-up"
        );
        assert_eq!(
            prompt_path("/console/account/two-step"),
            "/console/step-up?back=%2Fconsole%2Faccount%2Ftwo-step"
        );
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
            "/console/step-u%70",
            "",
        ] {
            assert!(!replayable(action), "{action}");
        }
    }
}
