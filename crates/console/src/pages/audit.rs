//! The audit trail: newest first, filtered by actor and action, a page at a time, every event
//! said as a sentence beside its raw fields.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{self, Data, ServiceConfig};
use askama::Template;
use roster_app::model::{AuditAction, AuditEvent};
use roster_app::{AppError, AuditTrailForm, FieldError, PrincipalNames, Roster};
use serde::Deserialize;
use uuid::Uuid;

use crate::forms::FieldErrors;
use crate::layout::Layout;
use crate::render::{ConsoleError, html};
use crate::session::Viewer;
use crate::words::{Sentence, audit_action_in_words, audit_event_in_words, when};

const PATH: &str = "/console/admin/audit";

/// The page size when the link names none, and the largest one: the API's.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/admin/audit", web::get().to(show));
}

/// `?actor=&action=&cursor=&limit=`, as sent: every value is checked by the page or the use
/// case and a bad one is shown next to its field, never refused as a malformed request.
#[derive(Debug, Default, Deserialize)]
struct AuditFilters {
    actor: Option<String>,
    action: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
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
    next_href: Option<String>,
    newest_href: Option<String>,
    errors: FieldErrors,
}

/// `?limit=` and `?cursor=`, or what is wrong with them.
fn paging(filters: &AuditFilters) -> (Option<Uuid>, u32, Vec<FieldError>) {
    let mut problems = Vec::new();
    let limit = match filters.limit.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_LIMIT,
        Some(text) => match text.parse::<u32>() {
            Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => limit,
            _ => {
                problems.push(FieldError::new(
                    "limit",
                    "invalid_limit",
                    format!(
                        "A page shows between 1 and {MAX_LIMIT} events; showing {DEFAULT_LIMIT}."
                    ),
                ));
                DEFAULT_LIMIT
            }
        },
    };
    let before = match filters.cursor.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => text.parse().map_or_else(
            |_| {
                problems.push(FieldError::new(
                    "cursor",
                    "invalid_cursor",
                    "This page link was changed or is not from this list; showing the newest \
                     events.",
                ));
                None
            },
            Some,
        ),
    };
    (before, limit, problems)
}

/// The page's address with these filters (empty ones left out).
fn href(actor: &str, action: &str, limit: Option<u32>, cursor: Option<Uuid>) -> String {
    let limit = limit.map(|limit| limit.to_string());
    let cursor = cursor.map(|cursor| cursor.to_string());
    let pairs: Vec<(&str, &str)> = [
        ("actor", actor),
        ("action", action),
        ("limit", limit.as_deref().unwrap_or_default()),
        ("cursor", cursor.as_deref().unwrap_or_default()),
    ]
    .into_iter()
    .filter(|(_, value)| !value.is_empty())
    .collect();
    match serde_urlencoded::to_string(pairs) {
        Ok(query) if !query.is_empty() => format!("{PATH}?{query}"),
        _ => PATH.to_owned(),
    }
}

fn row(event: &AuditEvent, names: &PrincipalNames) -> EventRow {
    EventRow {
        at: event.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        when: when(event.at),
        sentence: audit_event_in_words(event, names),
        action: event.action.as_str(),
        actor: event.actor.clone(),
        actor_href: event
            .actor
            .as_deref()
            .map(|actor| href(actor, "", None, None)),
        target: event.target.clone(),
        source_ip: event.source_ip.map(|ip| ip.to_string()),
    }
}

/// `GET /console/admin/audit`.
async fn show(
    roster: Data<Roster>,
    viewer: Viewer,
    filters: web::Query<AuditFilters>,
) -> Result<HttpResponse, ConsoleError> {
    let filters = filters.into_inner();
    let (before, limit, mut problems) = paging(&filters);
    let actor = filters.actor.unwrap_or_default().trim().to_owned();
    let action = filters.action.unwrap_or_default().trim().to_owned();
    let form = AuditTrailForm {
        actor: actor.clone(),
        action: action.clone(),
        before,
        limit,
    };
    let kept_limit = (limit != DEFAULT_LIMIT).then_some(limit);
    let (rows, next_before) = match roster.audit_trail(&viewer.caller, &form).await {
        Ok(trail) => (
            trail
                .events
                .iter()
                .map(|event| row(event, &trail.names))
                .collect(),
            trail.next_before,
        ),
        Err(AppError::Validation(errors)) => {
            problems.extend(errors);
            (Vec::new(), None)
        }
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
        next_href: next_before.map(|cursor| href(&actor, &action, kept_limit, Some(cursor))),
        newest_href: before.map(|_| href(&actor, &action, kept_limit, None)),
        actor,
        limit: kept_limit,
        errors: FieldErrors::from_app(problems),
    };
    Ok(html(status, &page))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(cursor: Option<&str>, limit: Option<&str>) -> AuditFilters {
        AuditFilters {
            cursor: cursor.map(str::to_owned),
            limit: limit.map(str::to_owned),
            ..AuditFilters::default()
        }
    }

    #[test]
    fn page_size_and_cursor_are_checked_and_fall_back_to_the_first_page() {
        let (before, limit, problems) = paging(&filters(None, Some("")));
        assert_eq!((before, limit), (None, DEFAULT_LIMIT));
        assert!(problems.is_empty());

        let cursor = Uuid::from_u128(7);
        let (before, limit, problems) = paging(&filters(Some(&cursor.to_string()), Some("200")));
        assert_eq!((before, limit), (Some(cursor), 200));
        assert!(problems.is_empty());

        for limit in ["0", "201", "-1", "ten"] {
            let (_, got, problems) = paging(&filters(None, Some(limit)));
            assert_eq!(got, DEFAULT_LIMIT, "{limit}");
            assert_eq!(problems.len(), 1, "{limit}");
            assert_eq!(problems[0].field, "limit");
        }
        let (before, _, problems) = paging(&filters(Some("not-a-cursor"), None));
        assert_eq!(before, None);
        assert_eq!(problems[0].field, "cursor");
    }

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
            next_href: None,
            newest_href: None,
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
    fn links_keep_the_filters_and_leave_out_empty_ones() {
        assert_eq!(href("", "", None, None), PATH);
        let cursor = Uuid::from_u128(1);
        assert_eq!(
            href("ada@example.com", "grant.created", Some(10), Some(cursor)),
            format!("{PATH}?actor=ada%40example.com&action=grant.created&limit=10&cursor={cursor}")
        );
        assert_eq!(
            href("account:x&y=1", "", None, None),
            format!("{PATH}?actor=account%3Ax%26y%3D1")
        );
    }
}
