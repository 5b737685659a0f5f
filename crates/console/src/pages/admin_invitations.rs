//! Invitations for administrators: the list (a status filter, pages), an "Invite" form with
//! grant rows as on the accounts page, and per invitation "Revoke" and "Send again" (a new
//! link, the old one dead). The list needs `account-read`, inviting and its actions
//! `account-create`; each is still checked by its use case.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{self, Data, ServiceConfig};
use askama::Template;
use chrono::{DateTime, Utc};
use roster_app::model::{Invitation, InvitationId, InvitationPage, InvitationStatus};
use roster_app::{AppError, InvitationForm, Roster};
use roster_domain::BuiltinAction;
use serde::Deserialize;
use uuid::Uuid;

use super::admin_accounts::offer_for;
use super::{notice, path_id, step_up};
use crate::forms::{FieldErrors, Form, FormState, NoFields};
use crate::layout::{Layout, may_globally};
use crate::paging::{PageQuery, Pager, Paging};
use crate::render::{ConsoleError, html, see_other};
use crate::rows::{
    GrantFields, SentGrant, blank_grants, grant_errors, grant_forms, grant_refusal, sent_grants,
};
use crate::session::Viewer;
use crate::words::when;

const PATH: &str = "/console/admin/invitations";

/// What the lifetime field offers; the first is the API's default.
const LIFETIMES: &[(&str, &str)] = &[
    ("7d", "7 days"),
    ("1d", "1 day"),
    ("14d", "14 days"),
    ("30d", "30 days"),
];

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/admin/invitations", web::get().to(list))
        .route("/admin/invitations", web::post().to(create))
        .route("/admin/invitations/{id}/revoke", web::post().to(revoke))
        .route("/admin/invitations/{id}/resend", web::post().to(resend));
}

/// One invitation in the list.
struct InvitationRow {
    id: String,
    email: String,
    name: Option<String>,
    status: &'static str,
    /// `pending` or `expired`: may be revoked or sent again.
    open: bool,
    grants: Vec<String>,
    expires_at: String,
    created_at: String,
}

impl InvitationRow {
    fn new(invitation: &Invitation, now: DateTime<Utc>) -> Self {
        let status = invitation.status(now);
        InvitationRow {
            id: invitation.id.to_string(),
            email: invitation.email.as_str().to_owned(),
            name: invitation.name.as_ref().map(ToString::to_string),
            status: status.as_str(),
            open: matches!(
                status,
                InvitationStatus::Pending | InvitationStatus::Expired
            ),
            grants: invitation
                .grants
                .iter()
                .map(|grant| format!("{} on {}", grant.role, grant.scope))
                .collect(),
            expires_at: when(invitation.expires_at),
            created_at: when(invitation.created_at),
        }
    }
}

/// One choice of the lifetime field.
struct Lifetime {
    value: &'static str,
    words: &'static str,
    selected: bool,
}

fn lifetimes(chosen: &str) -> Vec<Lifetime> {
    LIFETIMES
        .iter()
        .map(|&(value, words)| Lifetime {
            value,
            words,
            selected: value == chosen,
        })
        .collect()
}

/// The "Invite" form, for viewers with `account-create`.
struct InviteForm {
    email: String,
    name: String,
    lifetimes: Vec<Lifetime>,
    grants: Option<GrantFields>,
    scopes_hint: String,
    no_offer: &'static str,
}

/// One choice of the status filter.
struct StatusChoice {
    value: &'static str,
    words: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "admin_invitations.html")]
struct InvitationsPage {
    layout: Layout,
    statuses: Vec<StatusChoice>,
    filtered: bool,
    invitations: Vec<InvitationRow>,
    may_change: bool,
    pager: Pager,
    invite: Option<InviteForm>,
    errors: FieldErrors,
}

/// `?status=` and `?done=`, as sent.
#[derive(Debug, Default, Deserialize)]
struct Filter {
    status: Option<String>,
    done: Option<String>,
}

/// What the form showed, as typed.
struct Typed {
    email: String,
    name: String,
    expires_in: String,
    rows: Vec<SentGrant>,
}

impl Typed {
    fn blank() -> Typed {
        Typed {
            email: String::new(),
            name: String::new(),
            expires_in: LIFETIMES[0].0.to_owned(),
            rows: blank_grants(),
        }
    }
}

/// The status a filter link names; an empty one (the "All" choice) is none, anything else a
/// bad link.
fn status_of(filter: &Filter) -> Result<Option<InvitationStatus>, ConsoleError> {
    match filter.status.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => InvitationStatus::parse(text)
            .map(Some)
            .ok_or(ConsoleError::BadLink(
                "This list has no such status. Choose one from the filter.",
            )),
    }
}

async fn render_list(
    roster: &Roster,
    viewer: &Viewer,
    status: Option<InvitationStatus>,
    paging: &Paging<InvitationId>,
    form: FormState<Typed>,
) -> Result<HttpResponse, ConsoleError> {
    let FormState {
        status: http_status,
        notice: notice_text,
        typed,
        errors,
    } = form;
    let InvitationPage {
        invitations,
        next_before,
    } = roster
        .list_invitations(&viewer.caller, status, paging.after, paging.limit)
        .await?;
    let now = roster.now();
    let may_change = may_globally(&viewer.caller, BuiltinAction::AccountCreate);
    let invite = if may_change {
        let (grants, scopes_hint, no_offer) = match offer_for(roster, &viewer.caller).await? {
            Ok(offer) => (
                Some(GrantFields::new(
                    &typed.rows,
                    &errors,
                    true,
                    offer.roles,
                    offer.scopes,
                )),
                offer.scopes_hint,
                "",
            ),
            Err(why) => (None, String::new(), why),
        };
        Some(InviteForm {
            email: typed.email,
            name: typed.name,
            lifetimes: lifetimes(&typed.expires_in),
            grants,
            scopes_hint,
            no_offer,
        })
    } else {
        None
    };
    let chosen = status.map_or("", InvitationStatus::as_str);
    let statuses = std::iter::once(("", "All"))
        .chain(
            InvitationStatus::ALL
                .into_iter()
                .map(|status| (status.as_str(), status_words(status))),
        )
        .map(|(value, words)| StatusChoice {
            value,
            words,
            selected: value == chosen,
        })
        .collect();
    let next = next_before.map(|id| id.to_string());
    let page = InvitationsPage {
        layout: Layout::signed_in(viewer, PATH).with_notice(notice_text),
        statuses,
        filtered: status.is_some(),
        invitations: invitations
            .iter()
            .map(|invitation| InvitationRow::new(invitation, now))
            .collect(),
        may_change,
        pager: paging.pager(
            "Pages of invitations",
            PATH,
            &[("status", chosen)],
            next.as_deref(),
        ),
        invite,
        errors,
    };
    Ok(html(http_status, &page))
}

fn status_words(status: InvitationStatus) -> &'static str {
    match status {
        InvitationStatus::Pending => "Pending",
        InvitationStatus::Accepted => "Accepted",
        InvitationStatus::Revoked => "Revoked",
        InvitationStatus::Expired => "Expired",
    }
}

/// `GET /console/admin/invitations`.
async fn list(
    roster: Data<Roster>,
    viewer: Viewer,
    filter: web::Query<Filter>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let status = status_of(&filter)?;
    let paging = Paging::of(&page, |cursor| {
        Uuid::parse_str(cursor).ok().map(InvitationId::new)
    })?;
    render_list(
        &roster,
        &viewer,
        status,
        &paging,
        FormState::fresh(Typed::blank(), notice(filter.done.as_deref())),
    )
    .await
}

#[derive(Debug, Deserialize)]
struct CreateInvitationForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    expires_in: String,
}

/// `POST /console/admin/invitations`: the invitation and its email; then the list.
async fn create(
    roster: Data<Roster>,
    viewer: Viewer,
    form: Form<CreateInvitationForm>,
) -> Result<HttpResponse, ConsoleError> {
    let rows = sent_grants(&form.raw)?;
    let CreateInvitationForm {
        email,
        name,
        expires_in,
    } = form.fields;
    let invitation = InvitationForm {
        email: email.clone(),
        name: Some(name.trim().to_owned()).filter(|name| !name.is_empty()),
        grants: grant_forms(&rows),
        expires_in: Some(expires_in.trim().to_owned()).filter(|value| !value.is_empty()),
    };
    let (status, errors) = match roster.invite(&viewer.caller, invitation).await {
        Ok(_) => return Ok(see_other(&format!("{PATH}?done=invitation-sent"))),
        Err(AppError::Validation(errors)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            grant_errors(&rows, errors),
        ),
        Err(AppError::MfaStepUpRequired) => {
            return step_up::prompt(&roster, &viewer, &form.action, &form.raw).await;
        }
        Err(AppError::EmailTaken) => (
            StatusCode::CONFLICT,
            FieldErrors::field(
                "email",
                "An account with this email address exists already: no invitation is needed.",
            ),
        ),
        Err(AppError::InvitationPending) => (
            StatusCode::CONFLICT,
            FieldErrors::field(
                "email",
                "A pending invitation for this address exists already. Send it again from the \
                 list below, or revoke it first.",
            ),
        ),
        Err(error) => {
            let may_create = may_globally(&viewer.caller, BuiltinAction::AccountCreate);
            match grant_refusal(&error, "sent", may_create) {
                Some(refusal) => refusal,
                None => return Err(error.into()),
            }
        }
    };
    let typed = Typed {
        email,
        name,
        expires_in,
        rows: rows.sent,
    };
    render_list(
        &roster,
        &viewer,
        None,
        &Paging::first(),
        FormState::refused(status, typed, errors),
    )
    .await
}

/// `POST /console/admin/invitations/{id}/revoke`: the link stops working.
async fn revoke(
    roster: Data<Roster>,
    viewer: Viewer,
    id: web::Path<String>,
    _form: Form<NoFields>,
) -> Result<HttpResponse, ConsoleError> {
    let id = path_id(&id, "invitation", InvitationId::new)?;
    roster.revoke_invitation(&viewer.caller, id).await?;
    Ok(see_other(&format!("{PATH}?done=invitation-revoked")))
}

/// `POST /console/admin/invitations/{id}/resend`: a new link, valid 7 days, by email.
async fn resend(
    roster: Data<Roster>,
    viewer: Viewer,
    id: web::Path<String>,
    form: Form<NoFields>,
) -> Result<HttpResponse, ConsoleError> {
    let id = path_id(&id, "invitation", InvitationId::new)?;
    match roster.resend_invitation(&viewer.caller, id, None).await {
        Ok(_) => Ok(see_other(&format!("{PATH}?done=invitation-resent"))),
        Err(AppError::MfaStepUpRequired) => {
            step_up::prompt(&roster, &viewer, &form.action, &form.raw).await
        }
        Err(other) => Err(other.into()),
    }
}
