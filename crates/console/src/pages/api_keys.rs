//! API keys (`apikey-manage`): the list with each key's expiry, last use and status, a form
//! to create one (a lifetime, and grants as rows of role + scope), and revoking.
//!
//! A created key's secret is shown once, in the answer to the creating POST itself (201),
//! never behind a redirect a reload could replay into showing it again, and never in the
//! list.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{self, Data, ServiceConfig};
use askama::Template;
use chrono::Utc;
use roster_app::model::ApiKey;
use roster_app::{AppError, CreatedApiKey, Roster};
use roster_domain::{ApiKeyId, BuiltinAction};
use secrecy::ExposeSecret;
use serde::Deserialize;
use uuid::Uuid;

use super::{Landing, notice, path_id, step_up};
use crate::forms::{FieldErrors, Form, FormState, NoFields};
use crate::layout::{Layout, may_globally};
use crate::paging::{MAX_LIMIT, PageQuery, Pager, Paging};
use crate::render::{ConsoleError, html, see_other};
use crate::rows::{GrantFields, SentGrant, blank_grants, grant_errors, grant_forms, sent_grants};
use crate::session::Viewer;
use crate::words::{KeyStatus, scope_in_words, when, when_or};

const PATH: &str = "/console/admin/api-keys";

/// The lifetimes offered, as the `expires_in` the use case reads and in words. An empty
/// value is "never" (no `expires_in`).
const LIFETIMES: &[(&str, &str)] = &[
    ("1d", "1 day"),
    ("30d", "30 days"),
    ("90d", "90 days"),
    ("365d", "1 year"),
    ("", "Never (until revoked)"),
];
/// Selected on a fresh form: a key that is forgotten stops working by itself.
const DEFAULT_LIFETIME: &str = "90d";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/admin/api-keys", web::get().to(list))
        .route("/admin/api-keys", web::post().to(create))
        .route("/admin/api-keys/{id}/revoke", web::post().to(revoke));
}

/// A key as listed.
struct KeyRow {
    id: String,
    name: String,
    created_at: String,
    expires_at: String,
    last_used_at: String,
    status: KeyStatus,
}

impl KeyRow {
    fn new(key: &ApiKey, now: chrono::DateTime<Utc>) -> KeyRow {
        KeyRow {
            id: key.id.to_string(),
            name: key.name.clone(),
            created_at: when(key.created_at),
            expires_at: when_or(key.expires_at, "never"),
            last_used_at: when_or(key.last_used_at, "never"),
            status: KeyStatus::of(key, now),
        }
    }

    fn revoked(&self) -> bool {
        self.status == KeyStatus::Revoked
    }
}

/// One lifetime option of the form.
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

/// The `expires_in` a lifetime field sent: none for "never" (the empty value).
fn expires_in(sent: &str) -> Option<&str> {
    Some(sent.trim()).filter(|value| !value.is_empty())
}

#[derive(Template)]
#[template(path = "api_keys.html")]
struct ApiKeysPage {
    layout: Layout,
    keys: Vec<KeyRow>,
    /// A later page (`pager.first`) has its own empty state.
    pager: Pager,
    // The creation form, as typed.
    name: String,
    lifetimes: Vec<Lifetime>,
    /// The grant rows; role names are suggested when the viewer may list roles.
    grants: GrantFields,
    errors: FieldErrors,
}

/// The creation form as typed (blank for a fresh page).
struct Draft {
    name: String,
    lifetime: String,
    rows: Vec<SentGrant>,
}

impl Draft {
    fn blank() -> Draft {
        Draft {
            name: String::new(),
            lifetime: DEFAULT_LIFETIME.to_owned(),
            rows: blank_grants(),
        }
    }
}

/// The role names to suggest: the first page of roles, to a viewer who may list them
/// (`role-manage`); nobody else learns them here.
async fn role_names(roster: &Roster, viewer: &Viewer) -> Result<Vec<String>, ConsoleError> {
    if !may_globally(&viewer.caller, BuiltinAction::RoleManage) {
        return Ok(Vec::new());
    }
    let page = roster.list_roles(&viewer.caller, None, MAX_LIMIT).await?;
    Ok(page
        .roles
        .iter()
        .map(|stored| stored.role.name.to_string())
        .collect())
}

/// The list page at `paging`, the creation form showing `draft` and `errors`.
async fn render_list(
    roster: &Roster,
    viewer: &Viewer,
    paging: &Paging<ApiKeyId>,
    form: FormState<Draft>,
) -> Result<HttpResponse, ConsoleError> {
    let FormState {
        status,
        notice: notice_text,
        typed: draft,
        errors,
    } = form;
    let page = roster
        .list_api_keys(&viewer.caller, paging.after, paging.limit)
        .await?;
    let now = Utc::now();
    let next = page.next_after.map(|id| id.to_string());
    let page = ApiKeysPage {
        layout: Layout::signed_in(viewer, PATH).with_notice(notice_text),
        keys: page.keys.iter().map(|key| KeyRow::new(key, now)).collect(),
        pager: paging.pager("Pages of API keys", PATH, &[], next.as_deref()),
        name: draft.name,
        lifetimes: lifetimes(&draft.lifetime),
        grants: GrantFields::new(
            &draft.rows,
            &errors,
            false,
            role_names(roster, viewer).await?,
            Vec::new(),
        ),
        errors,
    };
    Ok(html(status, &page))
}

/// `GET /console/admin/api-keys`.
async fn list(
    roster: Data<Roster>,
    viewer: Viewer,
    page: web::Query<PageQuery>,
    landing: web::Query<Landing>,
) -> Result<HttpResponse, ConsoleError> {
    let paging = Paging::of(&page, |cursor| {
        Uuid::parse_str(cursor).ok().map(ApiKeyId::new)
    })?;
    render_list(
        &roster,
        &viewer,
        &paging,
        FormState::fresh(Draft::blank(), notice(landing.done.as_deref())),
    )
    .await
}

#[derive(Debug, Deserialize)]
struct NewKeyFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    expires_in: String,
}

/// The page that shows a new key's secret, once.
#[derive(Template)]
#[template(path = "api_key_created.html")]
struct CreatedPage {
    layout: Layout,
    name: String,
    /// The bearer token: on this page and nowhere else, ever.
    secret: String,
    expires_at: String,
    grants: Vec<CreatedGrant>,
}

/// A grant of the new key: "viewer on acme (in acme and everything beneath it)".
struct CreatedGrant {
    role: String,
    scope: String,
    scope_words: String,
}

impl CreatedPage {
    fn new(viewer: &Viewer, created: &CreatedApiKey) -> CreatedPage {
        CreatedPage {
            layout: Layout::signed_in(viewer, PATH),
            name: created.key.name.clone(),
            secret: created.secret.expose_secret().to_owned(),
            expires_at: when_or(created.key.expires_at, "never (until revoked)"),
            grants: created
                .grants
                .iter()
                .map(|grant| CreatedGrant {
                    role: grant.role.to_string(),
                    scope: grant.scope.to_string(),
                    scope_words: scope_in_words(&grant.scope),
                })
                .collect(),
        }
    }
}

/// `POST /console/admin/api-keys`: creates the key and answers with its secret (201).
async fn create(
    roster: Data<Roster>,
    viewer: Viewer,
    form: Form<NewKeyFields>,
) -> Result<HttpResponse, ConsoleError> {
    let rows = sent_grants(&form.raw)?;
    let NewKeyFields {
        name,
        expires_in: lifetime,
    } = form.fields;
    let created = roster
        .create_api_key(
            &viewer.caller,
            &name,
            expires_in(&lifetime),
            &grant_forms(&rows),
        )
        .await;
    let (status, errors) = match created {
        Ok(created) => {
            return Ok(html(
                StatusCode::CREATED,
                &CreatedPage::new(&viewer, &created),
            ));
        }
        Err(AppError::MfaStepUpRequired) => {
            return step_up::prompt(&roster, &viewer, &form.action, &form.raw).await;
        }
        Err(AppError::Validation(errors)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            grant_errors(&rows, errors),
        ),
        Err(AppError::RoleNotFound) => (
            StatusCode::NOT_FOUND,
            FieldErrors::general(
                "A grant names a role that does not exist. Check the role names; nothing was \
                 created.",
            ),
        ),
        Err(AppError::TooManyGrants { limit }) => (
            StatusCode::CONFLICT,
            FieldErrors::general(format!("A key may hold at most {limit} grants.")),
        ),
        // One who may manage keys is refused a grant: giving a role on a scope needs
        // `grant-manage` there and every right the role gives.
        Err(AppError::Forbidden) if may_globally(&viewer.caller, BuiltinAction::ApikeyManage) => (
            StatusCode::FORBIDDEN,
            FieldErrors::general(
                "You may not give one of these grants. Giving a role on a scope needs \
                 grant-manage there and every right the role gives; nothing was created.",
            ),
        ),
        Err(other) => return Err(other.into()),
    };
    let draft = Draft {
        name,
        lifetime,
        rows: rows.sent,
    };
    render_list(
        &roster,
        &viewer,
        &Paging::first(),
        FormState::refused(status, draft, errors),
    )
    .await
}

/// `POST /console/admin/api-keys/{id}/revoke`: at once, with every key it created.
async fn revoke(
    roster: Data<Roster>,
    viewer: Viewer,
    id: web::Path<String>,
    _form: Form<NoFields>,
) -> Result<HttpResponse, ConsoleError> {
    let id = path_id(&id, "api key", ApiKeyId::new)?;
    roster.revoke_api_key(&viewer.caller, id).await?;
    Ok(see_other(&format!("{PATH}?done=api-key-revoked")))
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use roster_app::lifetime::parse_lifetime;

    use super::*;

    #[test]
    fn every_lifetime_offered_is_one_the_use_case_reads() {
        let days: Vec<Option<i64>> = LIFETIMES
            .iter()
            .map(|(value, _)| expires_in(value).map(|v| parse_lifetime(v).unwrap().num_days()))
            .collect();
        assert_eq!(days, [Some(1), Some(30), Some(90), Some(365), None]);
        assert_eq!(parse_lifetime("90d"), Ok(Duration::days(90)));
        assert!(
            LIFETIMES
                .iter()
                .any(|(value, _)| *value == DEFAULT_LIFETIME)
        );
        let shown = lifetimes("");
        assert_eq!(
            shown
                .iter()
                .filter(|l| l.selected)
                .map(|l| l.words)
                .collect::<Vec<_>>(),
            ["Never (until revoked)"]
        );
    }

    #[test]
    fn the_created_page_shows_the_secret_with_its_copy_button_and_warning() {
        let page = CreatedPage {
            layout: Layout {
                signed_in_as: Some("ada@example.com".into()),
                menu: Vec::new(),
                csrf_token: "token".into(),
                notice: None,
            },
            name: "ci-deploy".into(),
            secret: "rak_secret_value".into(),
            expires_at: "never (until revoked)".into(),
            grants: Vec::new(),
        }
        .render()
        .unwrap();
        assert!(
            page.contains(r#"<code id="api-key-secret" class="secret">rak_secret_value</code>"#)
        );
        assert_eq!(
            page.matches("rak_secret_value").count(),
            1,
            "shown once on the page"
        );
        assert!(
            page.contains(
                r#"<button type="button" data-copy="api-key-secret" hidden>Copy</button>"#
            )
        );
        assert!(page.contains("Copy it now: it will not be shown again."));
        assert!(page.contains("If you lose it, revoke the key and create a new one."));
    }

    #[test]
    fn never_is_no_expiry() {
        assert_eq!(expires_in(""), None);
        assert_eq!(expires_in("  "), None);
        assert_eq!(expires_in("30d"), Some("30d"));
    }
}
