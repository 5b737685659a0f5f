//! My account: who I am, my password, my sessions (the API's list: every browser and token),
//! my grants with what they let me do, in words, and where two-step sign-in stands (managed
//! on its own page, [`super::two_step`]). A session the MFA policy holds back until it sets
//! up a second factor sees only the profile and the way to that set-up.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use roster_app::model::SessionId;
use roster_app::{AppError, CallerKind, MfaStatus, Roster};
use secrecy::SecretString;
use serde::Deserialize;

use super::{Landing, notice, path_id};
use crate::forms::{FieldErrors, Form, NoFields};
use crate::layout::Layout;
use crate::render::{ConsoleError, html, see_other};
use crate::session::{ConsoleCookie, ENROLMENT_PAGE, EnrollingViewer, Viewer, settings_of};
use crate::words::{GrantInWords, device_in_words, when};

const PATH: &str = "/console/account";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/account", web::get().to(show))
        .route("/account/password", web::post().to(change_password))
        .route(
            "/account/sessions/{id}/revoke",
            web::post().to(revoke_session),
        );
}

/// One of my sessions as listed.
struct SessionRow {
    id: String,
    /// "Chrome on Linux".
    device: String,
    /// The `User-Agent` as stored, for whoever wants the detail.
    user_agent: Option<String>,
    /// Where it signed in from.
    address: String,
    created_at: String,
    last_seen_at: String,
    expires_at: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    email: String,
    name: Option<String>,
    is_superadmin: bool,
    created_at: String,
    sessions: Vec<SessionRow>,
    grants: Vec<GrantInWords>,
    /// The password form's problems.
    errors: FieldErrors,
    /// The MFA policy holds this session back: only the profile and the set-up link show.
    must_enrol: bool,
    two_step: TwoStepSummary,
}

/// Where two-step sign-in stands, in one line on My account.
struct TwoStepSummary {
    app: bool,
    passkeys: usize,
    recovery_codes_left: u32,
    /// The page that manages it.
    href: &'static str,
}

impl TwoStepSummary {
    fn is_on(&self) -> bool {
        self.app || self.passkeys > 0
    }
}

/// The page, with `password_errors` beside the password form.
async fn render(
    roster: &Roster,
    viewer: &Viewer,
    status: StatusCode,
    notice_text: Option<&'static str>,
    password_errors: FieldErrors,
) -> Result<HttpResponse, ConsoleError> {
    // A session held back by the MFA policy may not list sessions (nor the API's).
    let sessions = if viewer.must_enrol() {
        Vec::new()
    } else {
        roster.my_sessions(&viewer.caller).await?
    };
    let MfaStatus {
        totp,
        recovery_codes_left,
        passkeys,
    } = roster.mfa_status(&viewer.caller).await?;
    let account = viewer.account();
    let page = AccountPage {
        layout: Layout::signed_in(viewer, PATH).with_notice(notice_text),
        email: account.email.as_str().to_owned(),
        name: account.name.as_ref().map(ToString::to_string),
        is_superadmin: account.is_superadmin,
        created_at: when(account.created_at),
        sessions: sessions
            .iter()
            .map(|own| SessionRow {
                id: own.session.id.to_string(),
                device: device_in_words(own.session.user_agent.as_deref()),
                user_agent: own.session.user_agent.clone(),
                address: own
                    .session
                    .source_ip
                    .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string()),
                created_at: when(own.session.created_at),
                last_seen_at: when(own.session.last_seen_at),
                expires_at: when(own.session.expires_at),
                current: own.current,
            })
            .collect(),
        grants: viewer
            .caller
            .principal
            .grants
            .iter()
            .map(GrantInWords::from)
            .collect(),
        errors: password_errors,
        must_enrol: viewer.must_enrol(),
        two_step: TwoStepSummary {
            app: totp,
            passkeys: passkeys.len(),
            recovery_codes_left,
            href: ENROLMENT_PAGE,
        },
    };
    Ok(html(status, &page))
}

/// `GET /console/account`: open to a session held back by the MFA policy (its profile).
async fn show(
    roster: Data<Roster>,
    EnrollingViewer(viewer): EnrollingViewer,
    landing: web::Query<Landing>,
) -> Result<HttpResponse, ConsoleError> {
    render(
        &roster,
        &viewer,
        StatusCode::OK,
        notice(landing.done.as_deref()),
        FieldErrors::default(),
    )
    .await
}

#[derive(Debug, Deserialize)]
struct ChangePasswordForm {
    current_password: String,
    new_password: String,
}

/// `POST /console/account/password`: every other session ends; this one stays.
async fn change_password(
    roster: Data<Roster>,
    viewer: Viewer,
    form: Form<ChangePasswordForm>,
) -> Result<HttpResponse, ConsoleError> {
    let current = SecretString::from(form.fields.current_password);
    let new = SecretString::from(form.fields.new_password);
    let errors = match roster
        .change_my_password(&viewer.caller, &current, &new)
        .await
    {
        Ok(()) => return Ok(see_other("/console/account?done=password-changed")),
        Err(AppError::Validation(errors)) => FieldErrors::from_app(errors),
        Err(AppError::TooManyAttempts { retry_after_secs }) => FieldErrors::field(
            "current_password",
            format!("Too many wrong passwords. Try again in {retry_after_secs} seconds."),
        ),
        Err(other) => return Err(other.into()),
    };
    render(
        &roster,
        &viewer,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
        errors,
    )
    .await
}

/// `POST /console/account/sessions/{id}/revoke`. Revoking this browser's own session signs
/// it out.
async fn revoke_session(
    req: HttpRequest,
    roster: Data<Roster>,
    viewer: Viewer,
    id: web::Path<String>,
    _form: Form<NoFields>,
) -> Result<HttpResponse, ConsoleError> {
    let id = path_id(&id, "session", SessionId::new)?;
    roster.revoke_my_session(&viewer.caller, id).await?;
    let own =
        matches!(&viewer.caller.kind, CallerKind::Session { session_id, .. } if *session_id == id);
    if own {
        let mut response = see_other("/console/login?done=signed-out");
        let _ = response.add_cookie(&ConsoleCookie::Session.expired(&settings_of(&req)));
        return Ok(response);
    }
    Ok(see_other("/console/account?done=session-revoked"))
}
