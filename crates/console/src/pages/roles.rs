//! Roles (`role-manage`): the list, each role's rules in words, and a form to create one
//! (`/console/admin/roles`); a page per role (`/console/admin/roles/{name}`) to change its
//! description and rules, or delete it.
//!
//! Rules are edited without JavaScript: a form has a row per rule (the role's rules, then
//! [`BLANK_ROWS`] blank ones), each an `action` text input and an `effect` select; blank rows
//! are ignored and each problem shows beside its row (see [`crate::rows`]). A role still held
//! cannot be deleted; the page then says who holds it ([`Roster::role_holders`]).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{self, Data, ServiceConfig};
use askama::Template;
use roster_app::model::StoredRole;
use roster_app::{AppError, MAX_RULES, RoleForm, Roster, RuleForm};
use roster_domain::{BuiltinAction, Role, RoleName};
use serde::Deserialize;

use super::{Landing, notice, step_up};
use crate::forms::{FieldErrors, Form, FormFields, FormState, NoFields};
use crate::layout::{Layout, may_globally};
use crate::paging::{PageQuery, Pager, Paging};
use crate::render::{ConsoleError, html, see_other};
use crate::rows::{BLANK_ROWS, Rows, pairs, row_error};
use crate::session::Viewer;
use crate::words::{holders_in_words, rule_in_words, when};

const PATH: &str = "/console/admin/roles";
/// How many holders a refused deletion names before "and N more".
const HOLDERS_NAMED: u32 = 3;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/admin/roles", web::get().to(list))
        .route("/admin/roles", web::post().to(create))
        .route("/admin/roles/{name}", web::get().to(show))
        .route("/admin/roles/{name}", web::post().to(update))
        .route("/admin/roles/{name}/delete", web::post().to(delete));
}

/// A role as listed.
struct RoleRow {
    name: String,
    description: String,
    /// "may do account-read", "may not do every action starting with “issuer-”"
    rules: Vec<String>,
    updated_at: String,
}

impl From<&StoredRole> for RoleRow {
    fn from(stored: &StoredRole) -> Self {
        RoleRow {
            name: stored.role.name.to_string(),
            description: stored.role.description.clone(),
            rules: stored.role.permissions.iter().map(rule_in_words).collect(),
            updated_at: when(stored.updated_at),
        }
    }
}

/// One rule row of a role form, as typed (or as stored), with its problems.
struct RuleRow {
    /// 1-based, as people count rows; ids are built from it.
    number: usize,
    action: String,
    deny: bool,
    action_error: Option<String>,
    effect_error: Option<String>,
}

/// A rule row as (action, effect), the shape the form sends.
type SentRule = (String, String);

/// The rows of a role form as shown: `sent`, each with the problems `errors` names for it.
fn rule_rows(sent: &[SentRule], errors: &FieldErrors) -> Vec<RuleRow> {
    sent.iter()
        .enumerate()
        .map(|(index, (action, effect))| RuleRow {
            number: index + 1,
            action: action.clone(),
            deny: effect == "deny",
            action_error: row_error(errors, "permissions", index, ".action"),
            effect_error: row_error(errors, "permissions", index, ".effect"),
        })
        .collect()
}

/// The rows of a form for `role`: its rules, then [`BLANK_ROWS`] blank ones.
fn rows_of(role: Option<&Role>) -> Vec<SentRule> {
    role.into_iter()
        .flat_map(|role| &role.permissions)
        .map(|rule| (rule.pattern.to_string(), rule.effect.as_str().to_owned()))
        .chain(std::iter::repeat_n(
            (String::new(), "allow".to_owned()),
            BLANK_ROWS,
        ))
        .collect()
}

/// The most rule rows a role's form takes: the rules a role may hold ([`MAX_RULES`]) and the
/// blank rows shown after them. Only a hand-made form sends more; it is refused before the
/// use case runs, with one message, rather than checked and shown back row by row
/// (security review L5).
const MAX_RULE_ROWS: usize = MAX_RULES + BLANK_ROWS;

/// Why a form with more than [`MAX_RULE_ROWS`] rule rows is refused.
const TOO_MANY_RULE_ROWS: &str = "The form has more rule rows than this page ever shows (a \
    role holds at most 256 rules). Reload the page and try again.";

/// The rule rows a form sent; a row without an action is blank.
fn sent_rules(raw: &FormFields) -> Result<Rows<SentRule>, ConsoleError> {
    let sent = pairs(raw, ("action", "effect"), MAX_RULE_ROWS, TOO_MANY_RULE_ROWS)?;
    Ok(Rows::new(sent, |(action, _)| action.trim().is_empty()))
}

/// What the use case receives for `rows`: the filled rows, the action trimmed.
fn rule_forms(rows: &Rows<SentRule>) -> Vec<RuleForm> {
    rows.filled()
        .map(|(action, effect)| RuleForm {
            action: action.trim().to_owned(),
            effect: Some(effect.clone()),
        })
        .collect()
}

/// What an action field may be: `all`, a prefix ending in `*`, or an exact action; the
/// built-in actions are offered as suggestions.
fn suggested_actions() -> Vec<&'static str> {
    std::iter::once("all")
        .chain(BuiltinAction::ALL.iter().map(|action| action.name()))
        .collect()
}

#[derive(Template)]
#[template(path = "roles.html")]
struct RolesPage {
    layout: Layout,
    roles: Vec<RoleRow>,
    /// A later page (`pager.first`) has its own empty state.
    pager: Pager,
    // The creation form, as typed.
    name: String,
    description: String,
    rules: Vec<RuleRow>,
    errors: FieldErrors,
    actions: Vec<&'static str>,
}

/// The creation form as typed (blank for a fresh page).
struct Draft {
    name: String,
    description: String,
    rows: Vec<SentRule>,
}

impl Draft {
    fn blank() -> Draft {
        Draft {
            name: String::new(),
            description: String::new(),
            rows: rows_of(None),
        }
    }
}

/// The list page at `paging`, the creation form showing `draft` and `errors`.
async fn render_list(
    roster: &Roster,
    viewer: &Viewer,
    paging: &Paging<RoleName>,
    form: FormState<Draft>,
) -> Result<HttpResponse, ConsoleError> {
    let FormState {
        status,
        notice: notice_text,
        typed: draft,
        errors,
    } = form;
    let page = roster
        .list_roles(
            &viewer.caller,
            paging.after.as_ref().map(RoleName::as_str),
            paging.limit,
        )
        .await?;
    let page = RolesPage {
        layout: Layout::signed_in(viewer, PATH).with_notice(notice_text),
        roles: page.roles.iter().map(RoleRow::from).collect(),
        pager: paging.pager(
            "Pages of roles",
            PATH,
            &[],
            page.next_after.as_ref().map(RoleName::as_str),
        ),
        name: draft.name,
        description: draft.description,
        rules: rule_rows(&draft.rows, &errors),
        errors,
        actions: suggested_actions(),
    };
    Ok(html(status, &page))
}

/// `GET /console/admin/roles`.
async fn list(
    roster: Data<Roster>,
    viewer: Viewer,
    page: web::Query<PageQuery>,
    landing: web::Query<Landing>,
) -> Result<HttpResponse, ConsoleError> {
    let paging = Paging::of(&page, |cursor| RoleName::parse(cursor).ok())?;
    render_list(
        &roster,
        &viewer,
        &paging,
        FormState::fresh(Draft::blank(), notice(landing.done.as_deref())),
    )
    .await
}

#[derive(Debug, Deserialize)]
struct NewRoleFields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

/// `POST /console/admin/roles`: creates the role, then shows its page.
async fn create(
    roster: Data<Roster>,
    viewer: Viewer,
    form: Form<NewRoleFields>,
) -> Result<HttpResponse, ConsoleError> {
    let rows = sent_rules(&form.raw)?;
    let NewRoleFields { name, description } = form.fields;
    let role = RoleForm {
        name: name.trim().to_owned(),
        description: Some(description.clone()),
        permissions: rule_forms(&rows),
    };
    let (status, errors) = match roster.create_role(&viewer.caller, &role).await {
        Ok(stored) => {
            return Ok(see_other(&format!(
                "{PATH}/{}?done=role-created",
                stored.role.name
            )));
        }
        Err(AppError::Validation(errors)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            rows.errors_on_page("permissions", "Rule", errors),
        ),
        Err(AppError::RoleExists) => (
            StatusCode::CONFLICT,
            FieldErrors::field(
                "name",
                "A role with this name exists already. Choose another name, or edit that role.",
            ),
        ),
        Err(other) => return Err(other.into()),
    };
    let draft = Draft {
        name,
        description,
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

#[derive(Template)]
#[template(path = "role.html")]
struct RolePage {
    layout: Layout,
    name: String,
    created_at: String,
    updated_at: String,
    /// The rules as stored, in words.
    rules_in_words: Vec<String>,
    // The edit form, as typed (or as stored).
    description: String,
    rules: Vec<RuleRow>,
    errors: FieldErrors,
    actions: Vec<&'static str>,
    /// Why the role could not be deleted, naming who holds it.
    delete_problem: Option<String>,
}

/// What a role page shows besides the stored role: the edit form as typed, its problems,
/// and a refused deletion.
struct RoleView {
    status: StatusCode,
    notice: Option<&'static str>,
    /// The description and rows typed; `None`: the stored ones.
    typed: Option<(String, Vec<SentRule>)>,
    errors: FieldErrors,
    delete_problem: Option<String>,
}

impl RoleView {
    fn plain(notice: Option<&'static str>) -> RoleView {
        RoleView {
            status: StatusCode::OK,
            notice,
            typed: None,
            errors: FieldErrors::default(),
            delete_problem: None,
        }
    }
}

/// The page of role `name` as stored, with `view`.
async fn render_role(
    roster: &Roster,
    viewer: &Viewer,
    name: &str,
    view: RoleView,
) -> Result<HttpResponse, ConsoleError> {
    let stored = roster.role(&viewer.caller, name).await?;
    let (description, rows) = view
        .typed
        .unwrap_or_else(|| (stored.role.description.clone(), rows_of(Some(&stored.role))));
    let name = stored.role.name.to_string();
    let page = RolePage {
        layout: Layout::signed_in(viewer, &format!("{PATH}/{name}")).with_notice(view.notice),
        name,
        created_at: when(stored.created_at),
        updated_at: when(stored.updated_at),
        rules_in_words: stored.role.permissions.iter().map(rule_in_words).collect(),
        description,
        rules: rule_rows(&rows, &view.errors),
        errors: view.errors,
        actions: suggested_actions(),
        delete_problem: view.delete_problem,
    };
    Ok(html(view.status, &page))
}

/// `GET /console/admin/roles/{name}`.
async fn show(
    roster: Data<Roster>,
    viewer: Viewer,
    name: web::Path<String>,
    landing: web::Query<Landing>,
) -> Result<HttpResponse, ConsoleError> {
    let view = RoleView::plain(notice(landing.done.as_deref()));
    render_role(&roster, &viewer, &name, view).await
}

#[derive(Debug, Deserialize)]
struct RoleFields {
    #[serde(default)]
    description: String,
}

/// `POST /console/admin/roles/{name}`: replaces the description and rules.
async fn update(
    roster: Data<Roster>,
    viewer: Viewer,
    name: web::Path<String>,
    form: Form<RoleFields>,
) -> Result<HttpResponse, ConsoleError> {
    let rows = sent_rules(&form.raw)?;
    let description = form.fields.description;
    let role = RoleForm {
        name: name.clone(),
        description: Some(description.clone()),
        permissions: rule_forms(&rows),
    };
    let (status, errors) = match roster.replace_role(&viewer.caller, &name, &role).await {
        Ok(stored) => {
            return Ok(see_other(&format!(
                "{PATH}/{}?done=role-updated",
                stored.role.name
            )));
        }
        Err(AppError::Validation(errors)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            rows.errors_on_page("permissions", "Rule", errors),
        ),
        // Giving a held role the power to grant grants it to every holder.
        Err(AppError::MfaStepUpRequired) => {
            return step_up::prompt(&roster, &viewer, &form.action, &form.raw).await;
        }
        Err(AppError::RoleChanged) => (
            StatusCode::CONFLICT,
            FieldErrors::general(
                "The role, or who holds it, changed while your changes were being checked, so \
                 nothing was saved. Look at the rules above and save again.",
            ),
        ),
        // One who may manage roles is refused this change itself: the role is held where
        // the new rules would give (or take) rights the viewer does not hold.
        Err(AppError::Forbidden) if may_globally(&viewer.caller, BuiltinAction::RoleManage) => (
            StatusCode::FORBIDDEN,
            FieldErrors::general(
                "You may not make this change. This role is held, and changing its rules \
                 changes what its holders may do: wherever it is held you need every right \
                 the old and the new rules give. Ask an administrator with those rights, or \
                 change only the description.",
            ),
        ),
        Err(other) => return Err(other.into()),
    };
    let view = RoleView {
        status,
        notice: None,
        typed: Some((description, rows.sent)),
        errors,
        delete_problem: None,
    };
    render_role(&roster, &viewer, &name, view).await
}

/// `POST /console/admin/roles/{name}/delete`: only a role nobody holds; otherwise the
/// role's page says who does.
async fn delete(
    roster: Data<Roster>,
    viewer: Viewer,
    name: web::Path<String>,
    _form: Form<NoFields>,
) -> Result<HttpResponse, ConsoleError> {
    match roster.delete_role(&viewer.caller, &name).await {
        Ok(()) => return Ok(see_other(&format!("{PATH}?done=role-deleted"))),
        Err(AppError::RoleInUse) => {}
        Err(other) => return Err(other.into()),
    }
    let holders = roster
        .role_holders(&viewer.caller, &name, HOLDERS_NAMED)
        .await?;
    let problem = if holders.total == 0 {
        // Its last grant went between the two reads.
        "The role was still held a moment ago, so it was not deleted; nobody holds it now. \
         Delete it again."
            .to_owned()
    } else {
        format!(
            "The role {name} was not deleted: it is held by {}. Take it away from them first, \
             then delete the role.",
            holders_in_words(&holders)
        )
    };
    let view = RoleView {
        status: StatusCode::CONFLICT,
        delete_problem: Some(problem),
        ..RoleView::plain(None)
    };
    render_role(&roster, &viewer, &name, view).await
}

#[cfg(test)]
mod tests {
    use roster_domain::{ActionPattern, Permission, RoleName};

    use super::*;

    /// A role with the most rules it may hold is still edited with its blank rows.
    #[test]
    fn the_rule_rows_limit_leaves_room_for_the_largest_role() {
        assert_eq!(MAX_RULE_ROWS, MAX_RULES + BLANK_ROWS);
        assert!(TOO_MANY_RULE_ROWS.contains(&format!(" {MAX_RULES} ")));
        let rows: Vec<(&str, &str)> =
            std::iter::repeat_n([("action", "a"), ("effect", "allow")], MAX_RULE_ROWS)
                .flatten()
                .collect();
        assert_eq!(
            sent_rules(&FormFields::from_pairs(&rows))
                .unwrap()
                .sent
                .len(),
            MAX_RULE_ROWS
        );
        let one_more: Vec<(&str, &str)> = rows
            .iter()
            .copied()
            .chain([("action", "a"), ("effect", "allow")])
            .collect();
        assert!(matches!(
            sent_rules(&FormFields::from_pairs(&one_more)),
            Err(ConsoleError::BadForm(TOO_MANY_RULE_ROWS))
        ));
    }

    #[test]
    fn a_role_form_shows_the_rules_then_blank_rows() {
        let role = Role {
            name: RoleName::parse("issuer-admin").unwrap(),
            description: String::new(),
            permissions: vec![
                Permission::allow(ActionPattern::parse("issuer-*").unwrap()),
                Permission::deny(ActionPattern::parse("issuer-delete").unwrap()),
            ],
        };
        let rows = rows_of(Some(&role));
        assert_eq!(
            rows[..2],
            [
                ("issuer-*".to_owned(), "allow".to_owned()),
                ("issuer-delete".to_owned(), "deny".to_owned())
            ]
        );
        assert_eq!(rows.len(), 2 + BLANK_ROWS);
        assert!(rows[2..].iter().all(|(action, _)| action.is_empty()));
        assert_eq!(rows_of(None).len(), BLANK_ROWS);
    }

    #[test]
    fn blank_rule_rows_are_ignored_and_problems_stay_with_their_row() {
        let raw = FormFields::from_pairs(&[
            ("name", "ops"),
            ("action", ""),
            ("effect", "allow"),
            ("action", " all "),
            ("effect", "allow"),
            ("action", "   "),
            ("effect", "deny"),
            ("action", "Bad Action"),
            ("effect", "deny"),
        ]);
        let rows = sent_rules(&raw).unwrap();
        let forms = rule_forms(&rows);
        assert_eq!(
            forms,
            [
                RuleForm {
                    action: "all".into(),
                    effect: Some("allow".into())
                },
                RuleForm {
                    action: "Bad Action".into(),
                    effect: Some("deny".into())
                },
            ]
        );
        // The use case names the second rule it received: the fourth row on the page.
        let errors = rows.errors_on_page(
            "permissions",
            "Rule",
            vec![roster_app::FieldError::new(
                "permissions[1].action",
                "invalid_action",
                "action must start with a lower-case letter or a digit",
            )],
        );
        let shown = rule_rows(&rows.sent, &errors);
        assert_eq!(shown.len(), 4);
        assert!(shown[..3].iter().all(|row| row.action_error.is_none()));
        assert_eq!(
            shown[3].action_error.as_deref(),
            Some("Rule 4: action must start with a lower-case letter or a digit")
        );
        assert!(shown[3].deny && !shown[1].deny);
        assert_eq!(shown[3].action, "Bad Action", "kept as typed");
    }

    #[test]
    fn a_rule_problem_is_tied_to_its_row_in_the_page() {
        let errors = FieldErrors::from_app(vec![roster_app::FieldError::new(
            "permissions[1].effect",
            "invalid_effect",
            "Rule 2: must be \"allow\" or \"deny\"",
        )]);
        let sent = vec![
            ("all".to_owned(), "allow".to_owned()),
            ("issuer-*".to_owned(), "maybe".to_owned()),
        ];
        let page = RolePage {
            layout: Layout {
                signed_in_as: Some("ada@example.com".into()),
                menu: Vec::new(),
                csrf_token: "token".into(),
                notice: None,
            },
            name: "ops".into(),
            created_at: String::new(),
            updated_at: String::new(),
            rules_in_words: Vec::new(),
            description: String::new(),
            rules: rule_rows(&sent, &errors),
            errors,
            actions: suggested_actions(),
            delete_problem: None,
        }
        .render()
        .unwrap();
        assert!(page.contains(
            r#"<select id="rule-2-effect" name="effect" aria-invalid="true" aria-describedby="rule-2-effect-error">"#
        ));
        assert!(
            page.contains(r#"<p class="field-error" id="rule-2-effect-error">Rule 2: must be"#)
        );
        assert!(!page.contains(r#"id="rule-1-effect" name="effect" aria-invalid"#));
        assert!(page.contains(r#"<label for="rule-2-action">Rule 2: action</label>"#));
        assert!(page.contains(r#"action="/console/admin/roles/ops/delete" data-confirm="#));
    }

    #[test]
    fn every_built_in_action_is_suggested() {
        let suggested = suggested_actions();
        assert_eq!(suggested[0], "all");
        for action in BuiltinAction::ALL {
            assert!(suggested.contains(&action.name()), "{}", action.name());
        }
    }
}
