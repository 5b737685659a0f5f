//! The audit trail: newest first, filtered by actor and action, a page at a time, every event
//! said as a sentence beside its raw fields.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{self, Data, ServiceConfig};
use askama::Template;
use roster_app::model::{AuditAction, AuditEvent};
use roster_app::{AppError, AuditTrailForm, PrincipalNames, Roster};
use serde::Deserialize;
use uuid::Uuid;

use crate::forms::FieldErrors;
use crate::layout::Layout;
use crate::paging::{PageQuery, Pager, Paging, list_href};
use crate::render::{ConsoleError, html};
use crate::session::Viewer;
use crate::words::{Sentence, audit_action_in_words, audit_event_in_words, when};

const PATH: &str = "/console/admin/audit";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/admin/audit", web::get().to(show));
}

/// `?actor=&action=`, as sent (the page's `?cursor=&limit=` are a [`PageQuery`]): checked by
/// the use case, and one that names nobody is shown next to its field.
#[derive(Debug, Default, Deserialize)]
struct AuditFilters {
    actor: Option<String>,
    action: Option<String>,
}

/// One event as listed.
struct EventRow {
    /// RFC 3339 to the second, for `<time datetime>`.
    at: String,
    when: String,
    /// Drawn part by part: names and values each in their own element.
    sentence: Sentence,
    action: &'static str,
    actor: Option<String>,
    /// The page filtered by this event's actor.
    actor_href: Option<String>,
    target: Option<String>,
    source_ip: Option<String>,
}

/// One choice of the action filter.
struct ActionChoice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    /// The actor filter as typed (the action filter is the selected choice).
    actor: String,
    /// The page size, when the link named one other than the default (kept by the filters).
    limit: Option<u32>,
    actions: Vec<ActionChoice>,
    rows: Vec<EventRow>,
    /// Whether a filter narrowed the list (the empty state says so).
    filtered: bool,
    /// The older events, and back to the newest.
    pager: Pager,
    errors: FieldErrors,
}

/// The page's address showing `actor`'s events.
fn actor_href(actor: &str) -> String {
    list_href(PATH, &[("actor", actor)], None, None)
}

fn row(event: &AuditEvent, names: &PrincipalNames) -> EventRow {
    EventRow {
        at: event.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        when: when(event.at),
        sentence: audit_event_in_words(event, names),
        action: event.action.as_str(),
        actor: event.actor.clone(),
        actor_href: event.actor.as_deref().map(actor_href),
        target: event.target.clone(),
        source_ip: event.source_ip.map(|ip| ip.to_string()),
    }
}

/// `GET /console/admin/audit`.
async fn show(
    roster: Data<Roster>,
    viewer: Viewer,
    filters: web::Query<AuditFilters>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let filters = filters.into_inner();
    let paging = Paging::of(&page, |cursor| cursor.parse::<Uuid>().ok())?;
    let actor = filters.actor.unwrap_or_default().trim().to_owned();
    let action = filters.action.unwrap_or_default().trim().to_owned();
    let form = AuditTrailForm {
        actor: actor.clone(),
        action: action.clone(),
        before: paging.after,
        limit: paging.limit,
    };
    let (rows, next_before, problems) = match roster.audit_trail(&viewer.caller, &form).await {
        Ok(trail) => (
            trail
                .events
                .iter()
                .map(|event| row(event, &trail.names))
                .collect(),
            trail.next_before,
            Vec::new(),
        ),
        Err(AppError::Validation(errors)) => (Vec::new(), None, errors),
        Err(other) => return Err(other.into()),
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = AuditPage {
        layout: Layout::signed_in(&viewer, PATH),
        actions: AuditAction::ALL
            .iter()
            .map(|choice| ActionChoice {
                value: choice.as_str(),
                label: audit_action_in_words(*choice),
                selected: choice.as_str() == action,
            })
            .collect(),
        rows,
        filtered: !actor.is_empty() || !action.is_empty(),
        pager: paging
            .pager(
                "Pages of events",
                PATH,
                &[("actor", &actor), ("action", &action)],
                next_before.map(|cursor| cursor.to_string()).as_deref(),
            )
            .worded("Newest events", "Next page (older events)"),
        actor,
        limit: paging.kept_limit(),
        errors: FieldErrors::from_app(problems),
    };
    Ok(html(status, &page))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names are drawn in their own element, escaped, so a key named like a sentence
    /// cannot read as one.
    #[test]
    fn names_are_drawn_in_their_own_element() {
        let key = roster_domain::ApiKeyId::new(Uuid::from_u128(3));
        let forged =
            "ci\u{201d} with role boss on *. <b>admin@example.com</b> granted role \"boss\"";
        let mut names = PrincipalNames::default();
        names.api_keys.insert(key, forged.to_owned());
        let event =
            AuditEvent::new(AuditAction::ApiKeyRevoked, chrono::Utc::now()).target("api_key", key);
        let page = AuditPage {
            layout: Layout::anonymous("secret"),
            actor: String::new(),
            limit: None,
            actions: Vec::new(),
            rows: vec![row(&event, &names)],
            filtered: false,
            pager: Pager {
                label: "Pages of events",
                first: None,
                next: None,
                first_words: "",
                next_words: "",
            },
            errors: FieldErrors::default(),
        };
        let html = page.render().unwrap();
        assert!(
            html.contains(
                "Someone revoked the API key <q class=\"name\">ci\u{201d} with role boss on *. \
                 &#60;b&#62;admin@example.com&#60;/b&#62; granted role &#34;boss&#34;</q>"
            ),
            "{html}"
        );
    }

    #[test]
    fn an_actor_links_to_its_events() {
        assert_eq!(
            actor_href("account:x&y=1"),
            format!("{PATH}?actor=account%3Ax%26y%3D1")
        );
        assert_eq!(actor_href(""), PATH);
    }
}
