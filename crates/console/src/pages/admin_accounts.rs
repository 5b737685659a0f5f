//! Account administration: the list (search by email, pages, a "Create account" form on the
//! same page), and one account's page (its facts and grants, disable/enable, reset password,
//! add and remove grants). The actions a viewer sees are those its grants allow; every one
//! is still checked by its use case.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{self, Data, ServiceConfig};
use askama::Template;
use roster_app::model::{AccountPage, GrantRecord};
use roster_app::{
    AccountDetails, AppError, Authenticated, GrantForm, GrantOptions, RegistrationForm, Roster,
};
use roster_domain::{
    Account, AccountId, AccountStatus, BuiltinAction, Grant, GrantId, PrincipalId, Rights,
    may_act_on,
};
use secrecy::SecretString;
use serde::Deserialize;
use uuid::Uuid;

use super::{Landing, notice, path_id, step_up};
use crate::forms::{FieldErrors, Form, FormState, NoFields};
use crate::layout::{Layout, may_globally};
use crate::paging::{PageQuery, Pager, Paging};
use crate::render::{ConsoleError, html, see_other};
use crate::rows::{
    GrantFields, SentGrant, blank_grants, grant_errors, grant_forms, grant_refusal, sent_grants,
};
use crate::session::Viewer;
use crate::words::{GrantInWords, grant_scopes_hint, when};

const PATH: &str = "/console/admin/accounts";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/admin/accounts", web::get().to(list))
        .route("/admin/accounts", web::post().to(create))
        .route("/admin/accounts/{id}", web::get().to(show))
        .route("/admin/accounts/{id}/disable", web::post().to(disable))
        .route("/admin/accounts/{id}/enable", web::post().to(enable))
        .route(
            "/admin/accounts/{id}/password",
            web::post().to(reset_password),
        )
        .route("/admin/accounts/{id}/grants", web::post().to(add_grant))
        .route(
            "/admin/accounts/{id}/grants/{grant_id}/delete",
            web::post().to(remove_grant),
        );
}

// ---------------------------------------------------------------------------------------
// The list, and the create form on it.

/// One account in the list.
struct AccountRow {
    id: String,
    email: String,
    name: Option<String>,
    active: bool,
    is_superadmin: bool,
    email_verified: bool,
    created_at: String,
}

impl From<&Account> for AccountRow {
    fn from(account: &Account) -> Self {
        AccountRow {
            id: account.id.to_string(),
            email: account.email.as_str().to_owned(),
            name: account.name.as_ref().map(ToString::to_string),
            active: account.status == AccountStatus::Active,
            is_superadmin: account.is_superadmin,
            email_verified: account.email_verified,
            created_at: when(account.created_at),
        }
    }
}

/// What may be offered in a grant form: the roles as `<option>`s, the scopes as a
/// `<datalist>` with a hint in words.
pub(super) struct Offer {
    pub(super) roles: Vec<String>,
    pub(super) scopes: Vec<String>,
    pub(super) scopes_hint: String,
}

/// Why a grant form is replaced by a sentence.
const MAY_NOT_GRANT: &str =
    "You may not give roles: that needs grant management (grant-manage) on some scope.";
const NO_ROLES: &str = "There are no roles yet: create one under Roles, then give it here.";
const NO_ROLE_IN_REACH: &str = "None of the roles is yours to give: you may give a role only \
    where you manage grants, and only if you hold its every action there.";
const ONLY_SUPERADMIN: &str = "Only a super admin changes the grants of a super admin.";

impl Offer {
    /// The offer for `options`, or why there is none.
    fn of(caller: &Authenticated, options: &GrantOptions) -> Result<Offer, &'static str> {
        if options.roles.is_empty() {
            // A super admin is offered every role: none means there is none.
            return Err(if caller.principal.is_superadmin {
                NO_ROLES
            } else {
                NO_ROLE_IN_REACH
            });
        }
        Ok(Offer {
            roles: options
                .roles
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            scopes: options.scopes.iter().map(ToString::to_string).collect(),
            scopes_hint: grant_scopes_hint(&options.scopes),
        })
    }
}

/// The "Create account" form, for viewers with `account-create`.
struct CreateForm {
    email: String,
    name: String,
    /// `None`: the viewer may give no role, so the form has no grant rows; `no_offer` says why.
    grants: Option<GrantFields>,
    /// Where the viewer may give roles, in words.
    scopes_hint: String,
    no_offer: &'static str,
    min_length: usize,
    max_length: usize,
}

#[derive(Template)]
#[template(path = "admin_accounts.html")]
struct AccountsPage {
    layout: Layout,
    /// The email searched for, as typed.
    search: String,
    accounts: Vec<AccountRow>,
    pager: Pager,
    create: Option<CreateForm>,
    /// The create form's problems.
    errors: FieldErrors,
}

/// `?email=` (the search) and `?done=` (after a redirect), as sent.
#[derive(Debug, Default, Deserialize)]
struct Search {
    email: Option<String>,
    done: Option<String>,
}

/// Which accounts the list shows: those with an email, a page at a time.
#[derive(Debug, PartialEq, Eq)]
struct Listing {
    email: Option<String>,
    paging: Paging<AccountId>,
}

impl Listing {
    /// The first page, unfiltered.
    fn first() -> Listing {
        Listing {
            email: None,
            paging: Paging::first(),
        }
    }

    /// The list `search` and `page` ask for; an empty email, as the search form sends it,
    /// counts as none.
    fn of(search: &Search, page: &PageQuery) -> Result<Listing, ConsoleError> {
        Ok(Listing {
            email: search
                .email
                .as_deref()
                .map(str::trim)
                .filter(|email| !email.is_empty())
                .map(str::to_owned),
            paging: Paging::of(page, |cursor| {
                Uuid::parse_str(cursor).ok().map(AccountId::new)
            })?,
        })
    }

    /// The links to the list's other pages, keeping the search.
    fn pager(&self, next: Option<AccountId>) -> Pager {
        let email = self.email.as_deref().unwrap_or_default();
        let next = next.map(|last| last.to_string());
        self.paging.pager(
            "Pages of accounts",
            PATH,
            &[("email", email)],
            next.as_deref(),
        )
    }
}

/// What the create form shows: as typed (never the password), with its problems.
struct Typed {
    email: String,
    name: String,
    rows: Vec<SentGrant>,
}

impl Typed {
    fn blank() -> Typed {
        Typed {
            email: String::new(),
            name: String::new(),
            rows: blank_grants(),
        }
    }
}

/// What the viewer may give, or why it may give nothing (the use case's `Forbidden`: no
/// `grant-manage` anywhere).
pub(super) async fn offer_for(
    roster: &Roster,
    caller: &Authenticated,
) -> Result<Result<Offer, &'static str>, AppError> {
    match roster.grant_options(caller).await {
        Ok(options) => Ok(Offer::of(caller, &options)),
        Err(AppError::Forbidden) => Ok(Err(MAY_NOT_GRANT)),
        Err(other) => Err(other),
    }
}

/// The list page: `listing`'s page of accounts, and the create form (for viewers with
/// `account-create`) holding `typed` with `errors`.
async fn render_list(
    roster: &Roster,
    viewer: &Viewer,
    listing: &Listing,
    form: FormState<Typed>,
) -> Result<HttpResponse, ConsoleError> {
    let FormState {
        status,
        notice: notice_text,
        typed,
        errors,
    } = form;
    let AccountPage {
        accounts,
        next_after,
    } = roster
        .list_accounts(
            &viewer.caller,
            listing.email.as_deref(),
            listing.paging.after,
            listing.paging.limit,
        )
        .await?;
    let create = if may_globally(&viewer.caller, BuiltinAction::AccountCreate) {
        let policy = roster.password_policy();
        let offer = offer_for(roster, &viewer.caller).await?;
        let (grants, scopes_hint, no_offer) = match offer {
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
        Some(CreateForm {
            email: typed.email,
            name: typed.name,
            grants,
            scopes_hint,
            no_offer,
            min_length: policy.min_length(),
            max_length: policy.max_length(),
        })
    } else {
        None
    };
    let page = AccountsPage {
        layout: Layout::signed_in(viewer, PATH).with_notice(notice_text),
        search: listing.email.clone().unwrap_or_default(),
        accounts: accounts.iter().map(AccountRow::from).collect(),
        pager: listing.pager(next_after),
        create,
        errors,
    };
    Ok(html(status, &page))
}

/// `GET /console/admin/accounts`.
async fn list(
    roster: Data<Roster>,
    viewer: Viewer,
    search: web::Query<Search>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let listing = Listing::of(&search, &page)?;
    render_list(
        &roster,
        &viewer,
        &listing,
        FormState::fresh(Typed::blank(), notice(search.done.as_deref())),
    )
    .await
}

#[derive(Debug, Deserialize)]
struct CreateAccountForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

/// `POST /console/admin/accounts`: the account and its grants, all or nothing; then its page.
async fn create(
    roster: Data<Roster>,
    viewer: Viewer,
    form: Form<CreateAccountForm>,
) -> Result<HttpResponse, ConsoleError> {
    let rows = sent_grants(&form.raw)?;
    let CreateAccountForm {
        email,
        name,
        password,
    } = form.fields;
    let display_name = Some(name.trim().to_owned()).filter(|name| !name.is_empty());
    let registration =
        RegistrationForm::new(email.clone(), SecretString::from(password), display_name);
    let (status, errors) = match roster
        .register_by_admin(&viewer.caller, registration, grant_forms(&rows))
        .await
    {
        Ok((account, _)) => {
            return Ok(see_other(&format!(
                "{PATH}/{}?done=account-created",
                account.id
            )));
        }
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
                "An account with this email address already exists. Search for it above.",
            ),
        ),
        Err(error) => {
            let may_create = may_globally(&viewer.caller, BuiltinAction::AccountCreate);
            match grant_refusal(&error, "created", may_create) {
                Some(refusal) => refusal,
                None => return Err(error.into()),
            }
        }
    };
    let typed = Typed {
        email,
        name,
        rows: rows.sent,
    };
    render_list(
        &roster,
        &viewer,
        &Listing::first(),
        FormState::refused(status, typed, errors),
    )
    .await
}

// ---------------------------------------------------------------------------------------
// One account.

/// One grant of the account, with whether its "Remove grant" button is shown.
struct GrantItem {
    words: GrantInWords,
    created_at: String,
    removable: bool,
}

/// Whether the account's grants show "Remove grant": to a viewer who may change its grants
/// at all, as the "Add grant" offer already tells (`grant-manage` somewhere; a super admin's
/// grants only for a super admin). One answer for the whole page: whether one grant may go
/// is [`Roster::delete_grant`]'s to decide on POST, and its refusal is shown on the page.
/// Checking every grant here (up to 1000, each against every rule of the viewer and of the
/// account) held a worker for seconds on each view (security review M1).
fn may_remove_grants(offer: &Result<Offer, &'static str>) -> bool {
    !matches!(offer, Err(MAY_NOT_GRANT | ONLY_SUPERADMIN))
}

/// The account's grants as listed, each with the page's one answer to "Remove grant".
fn grant_items(grants: &[GrantRecord], removable: bool) -> Vec<GrantItem> {
    grants
        .iter()
        .map(|record| GrantItem {
            words: GrantInWords::from(&record.grant),
            created_at: when(record.created_at),
            removable,
        })
        .collect()
}

/// The "Add grant" form.
struct AddGrant {
    offer: Offer,
    role: String,
    scope: String,
}

#[derive(Template)]
#[template(path = "admin_account.html")]
struct AccountDetailPage {
    layout: Layout,
    id: String,
    email: String,
    name: Option<String>,
    active: bool,
    is_superadmin: bool,
    email_verified: bool,
    created_at: String,
    updated_at: String,
    grants: Vec<GrantItem>,
    actions: Actions,
    /// Why disabling or enabling was refused (the last super admin).
    status_problem: Option<String>,
    /// Why removing a grant was refused.
    remove_problem: Option<String>,
    /// `None` with `add_grant_note` saying why.
    add_grant: Option<AddGrant>,
    add_grant_note: &'static str,
    grant_errors: FieldErrors,
    password_errors: FieldErrors,
    min_length: usize,
    max_length: usize,
}

/// What went wrong with one of the page's forms, shown beside it.
#[derive(Debug, Default)]
struct Problems {
    status: Option<String>,
    remove: Option<String>,
    password: FieldErrors,
    grant: FieldErrors,
    /// The add-grant form as typed.
    grant_typed: (String, String),
}

/// The actions the viewer is offered on an account. A courtesy: each is checked again by
/// its use case, which may still refuse (disabling also weighs the API keys the account
/// created, which this page does not load).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Actions {
    set_status: bool,
    reset_password: bool,
}

impl Actions {
    /// What `caller` may do to an account holding `target`: the built-in action on `*`, and
    /// every right the account holds (see [`may_act_on`]).
    fn for_target(caller: &Authenticated, target: Rights<'_>) -> Actions {
        let acts_on = may_act_on(&caller.principal, target);
        Actions {
            set_status: acts_on && may_globally(caller, BuiltinAction::AccountDisable),
            reset_password: acts_on && may_globally(caller, BuiltinAction::AccountPasswordReset),
        }
    }
}

/// An account id from the path; a malformed one names no account.
fn account_id(raw: &str) -> Result<AccountId, ConsoleError> {
    path_id(raw, "account", AccountId::new)
}

fn account_path(id: AccountId) -> String {
    format!("{PATH}/{id}")
}

async fn render_account(
    roster: &Roster,
    viewer: &Viewer,
    id: AccountId,
    status: StatusCode,
    notice_text: Option<&'static str>,
    problems: Problems,
) -> Result<HttpResponse, ConsoleError> {
    let AccountDetails { account, grants } = roster.account_details(&viewer.caller, id).await?;
    let held: Vec<Grant> = grants.iter().map(|record| record.grant.clone()).collect();
    let target = Rights {
        is_superadmin: account.is_superadmin,
        grants: &held,
    };
    let offer = if account.is_superadmin && !viewer.caller.principal.is_superadmin {
        Err(ONLY_SUPERADMIN)
    } else {
        offer_for(roster, &viewer.caller).await?
    };
    let removable = may_remove_grants(&offer);
    let (add_grant, add_grant_note) = match offer {
        Ok(offer) => {
            let (role, scope) = problems.grant_typed;
            (Some(AddGrant { offer, role, scope }), "")
        }
        Err(why) => (None, why),
    };
    let policy = roster.password_policy();
    let path = account_path(id);
    let page = AccountDetailPage {
        layout: Layout::signed_in(viewer, &path).with_notice(notice_text),
        id: account.id.to_string(),
        email: account.email.as_str().to_owned(),
        name: account.name.as_ref().map(ToString::to_string),
        active: account.status == AccountStatus::Active,
        is_superadmin: account.is_superadmin,
        email_verified: account.email_verified,
        created_at: when(account.created_at),
        updated_at: when(account.updated_at),
        grants: grant_items(&grants, removable),
        // One check for the page (not one per grant).
        actions: Actions::for_target(&viewer.caller, target),
        status_problem: problems.status,
        remove_problem: problems.remove,
        add_grant,
        add_grant_note,
        grant_errors: problems.grant,
        password_errors: problems.password,
        min_length: policy.min_length(),
        max_length: policy.max_length(),
    };
    Ok(html(status, &page))
}

/// `GET /console/admin/accounts/{id}`.
async fn show(
    roster: Data<Roster>,
    viewer: Viewer,
    id: web::Path<String>,
    landing: web::Query<Landing>,
) -> Result<HttpResponse, ConsoleError> {
    let id = account_id(&id)?;
    render_account(
        &roster,
        &viewer,
        id,
        StatusCode::OK,
        notice(landing.done.as_deref()),
        Problems::default(),
    )
    .await
}

/// `POST .../disable` and `.../enable` (`form`, for the step-up disabling may need).
async fn set_status(
    roster: &Roster,
    viewer: &Viewer,
    raw_id: &str,
    status: AccountStatus,
    form: &Form<NoFields>,
) -> Result<HttpResponse, ConsoleError> {
    let id = account_id(raw_id)?;
    match roster.set_account_status(&viewer.caller, id, status).await {
        Ok(_) => {
            let done = match status {
                AccountStatus::Active => "account-enabled",
                AccountStatus::Disabled => "account-disabled",
            };
            Ok(see_other(&format!("{}?done={done}", account_path(id))))
        }
        Err(AppError::LastSuperadmin) => {
            let problems = Problems {
                status: Some(
                    "This is the last active super admin: disabling it would leave nobody who \
                     may do everything. Create another super admin first (on the server: \
                     roster superadmin create --email ...), then disable this one."
                        .to_owned(),
                ),
                ..Problems::default()
            };
            render_account(roster, viewer, id, StatusCode::CONFLICT, None, problems).await
        }
        Err(AppError::MfaStepUpRequired) => {
            step_up::prompt(roster, viewer, &form.action, &form.raw).await
        }
        Err(other) => Err(other.into()),
    }
}

async fn disable(
    roster: Data<Roster>,
    viewer: Viewer,
    id: web::Path<String>,
    form: Form<NoFields>,
) -> Result<HttpResponse, ConsoleError> {
    set_status(&roster, &viewer, &id, AccountStatus::Disabled, &form).await
}

async fn enable(
    roster: Data<Roster>,
    viewer: Viewer,
    id: web::Path<String>,
    form: Form<NoFields>,
) -> Result<HttpResponse, ConsoleError> {
    set_status(&roster, &viewer, &id, AccountStatus::Active, &form).await
}

#[derive(Debug, Deserialize)]
struct ResetPasswordForm {
    #[serde(default)]
    new_password: String,
}

/// `POST .../password`: a new password; every session of the account ends.
async fn reset_password(
    roster: Data<Roster>,
    viewer: Viewer,
    id: web::Path<String>,
    form: Form<ResetPasswordForm>,
) -> Result<HttpResponse, ConsoleError> {
    let id = account_id(&id)?;
    let password = SecretString::from(form.fields.new_password);
    match roster.reset_password(&viewer.caller, id, &password).await {
        Ok(()) => Ok(see_other(&format!(
            "{}?done=password-reset",
            account_path(id)
        ))),
        Err(AppError::MfaStepUpRequired) => {
            step_up::prompt(&roster, &viewer, &form.action, &form.raw).await
        }
        Err(AppError::Validation(errors)) => {
            let problems = Problems {
                password: FieldErrors::from_app(errors),
                ..Problems::default()
            };
            render_account(
                &roster,
                &viewer,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                problems,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Debug, Deserialize)]
struct AddGrantForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    scope: String,
}

/// `POST .../grants`: one role on one scope.
async fn add_grant(
    roster: Data<Roster>,
    viewer: Viewer,
    id: web::Path<String>,
    form: Form<AddGrantForm>,
) -> Result<HttpResponse, ConsoleError> {
    let id = account_id(&id)?;
    let AddGrantForm { role, scope } = form.fields;
    let grant = GrantForm {
        role: role.trim().to_owned(),
        scope: scope.trim().to_owned(),
    };
    let (status, errors) = match roster
        .create_grant(&viewer.caller, PrincipalId::Account(id), &grant)
        .await
    {
        Ok(_) => {
            return Ok(see_other(&format!("{}?done=grant-added", account_path(id))));
        }
        Err(AppError::Validation(errors)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::from_app(errors),
        ),
        Err(AppError::RoleNotFound) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::field("role", "No role with this name exists (any more)."),
        ),
        Err(AppError::MfaStepUpRequired) => {
            return step_up::prompt(&roster, &viewer, &form.action, &form.raw).await;
        }
        Err(AppError::GrantExists) => (
            StatusCode::CONFLICT,
            FieldErrors::general("This account already has this role on this scope."),
        ),
        Err(AppError::TooManyGrants { limit }) => (
            StatusCode::CONFLICT,
            FieldErrors::general(format!(
                "This account holds {limit} grants, the most allowed. Remove one before adding \
                 another."
            )),
        ),
        Err(AppError::Forbidden) => (
            StatusCode::FORBIDDEN,
            FieldErrors::general(
                "Your grants do not allow giving this role on this scope to this account. You \
                 may give a role only on a scope where you manage grants, only if you hold its \
                 every action there, and never to someone who holds more than you.",
            ),
        ),
        Err(other) => return Err(other.into()),
    };
    let problems = Problems {
        grant: errors,
        grant_typed: (role, scope),
        ..Problems::default()
    };
    render_account(&roster, &viewer, id, status, None, problems).await
}

/// Why a grant's removal was refused.
const REMOVE_REFUSED: &str = "Your grants do not allow removing that grant. You may remove a \
    role only on a scope where you manage grants, only if you hold its every action there, and \
    never from someone who holds more than you.";

/// `POST .../grants/{grant_id}/delete`.
async fn remove_grant(
    roster: Data<Roster>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    _form: Form<NoFields>,
) -> Result<HttpResponse, ConsoleError> {
    let (raw_id, raw_grant) = path.into_inner();
    let id = account_id(&raw_id)?;
    let grant_id = path_id(&raw_grant, "grant", GrantId::new)?;
    match roster
        .delete_grant(&viewer.caller, PrincipalId::Account(id), grant_id)
        .await
    {
        Ok(()) => Ok(see_other(&format!(
            "{}?done=grant-removed",
            account_path(id)
        ))),
        // The page offers "Remove grant" to whoever manages grants somewhere; this grant
        // is the use case's to refuse.
        Err(AppError::Forbidden) => {
            let problems = Problems {
                remove: Some(REMOVE_REFUSED.to_owned()),
                ..Problems::default()
            };
            render_account(&roster, &viewer, id, StatusCode::FORBIDDEN, None, problems).await
        }
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use roster_domain::{ActionPattern, Permission, Principal, RoleName, ScopePath};

    use super::*;

    fn search(email: &str) -> Search {
        Search {
            email: Some(email.to_owned()),
            done: None,
        }
    }

    #[test]
    fn the_search_is_trimmed_and_kept_by_the_pages_links() {
        let page = PageQuery::default();
        // The search form sends an empty field: no search.
        assert_eq!(Listing::of(&search(" "), &page).unwrap(), Listing::first());
        let id = "0190f0a0-0000-7000-8000-000000000001";
        let later = PageQuery {
            cursor: Some(id.to_owned()),
            limit: Some("10".to_owned()),
        };
        let listing = Listing::of(&search(" a+b@example.com "), &later).unwrap();
        assert_eq!(listing.email.as_deref(), Some("a+b@example.com"));
        assert_eq!(
            listing.paging.after.map(|a| a.to_string()).as_deref(),
            Some(id)
        );
        let last = AccountId::new(Uuid::from_u128(7));
        let pager = listing.pager(Some(last));
        assert_eq!(
            pager.next,
            Some(format!(
                "{PATH}?email=a%2Bb%40example.com&limit=10&cursor={last}"
            ))
        );
        assert_eq!(
            pager.first.as_deref(),
            Some("/console/admin/accounts?email=a%2Bb%40example.com&limit=10")
        );
        let not_ours = PageQuery {
            cursor: Some("x".to_owned()),
            limit: None,
        };
        assert!(matches!(
            Listing::of(&search(""), &not_ours),
            Err(ConsoleError::BadLink(_))
        ));
    }

    fn grant(scope: &str, rules: Vec<Permission>) -> Grant {
        Grant {
            id: GrantId::new(Uuid::from_u128(1)),
            role: RoleName::parse("r").unwrap(),
            scope: ScopePath::parse(scope).unwrap(),
            permissions: rules,
        }
    }

    fn allow(action: &str) -> Permission {
        Permission::allow(ActionPattern::parse(action).unwrap())
    }

    fn caller(is_superadmin: bool, grants: Vec<Grant>) -> Authenticated {
        Authenticated {
            principal: Principal {
                id: PrincipalId::Account(AccountId::new(Uuid::from_u128(0xad))),
                is_superadmin,
                grants: Arc::from(grants),
            },
            kind: roster_app::CallerKind::ApiKey {
                key: roster_app::model::ApiKey {
                    id: roster_domain::ApiKeyId::new(Uuid::from_u128(0xad)),
                    name: "test".to_owned(),
                    created_at: chrono::DateTime::UNIX_EPOCH,
                    created_by: None,
                    expires_at: None,
                    last_used_at: None,
                    revoked_at: None,
                },
            },
            source_ip: None,
            mfa_enrolment_required: false,
        }
    }

    #[test]
    fn actions_are_offered_only_on_accounts_holding_no_more_than_the_viewer() {
        let helpdesk = caller(
            false,
            vec![
                grant("*", vec![allow("account-*")]),
                grant("acme", vec![allow("issuer-read")]),
            ],
        );
        let reader = [grant("acme.berlin", vec![allow("issuer-read")])];
        let operator = [grant("acme.berlin", vec![allow("issuer-sign")])];
        let rights = |grants: &'static [Grant]| Rights {
            is_superadmin: false,
            grants,
        };
        let reader: &'static [Grant] = Box::leak(Box::new(reader));
        let operator: &'static [Grant] = Box::leak(Box::new(operator));
        let both = Actions {
            set_status: true,
            reset_password: true,
        };
        let neither = Actions {
            set_status: false,
            reset_password: false,
        };
        assert_eq!(Actions::for_target(&helpdesk, rights(reader)), both);
        assert_eq!(Actions::for_target(&helpdesk, rights(operator)), neither);
        let superadmin = Rights {
            is_superadmin: true,
            grants: &[],
        };
        assert_eq!(Actions::for_target(&helpdesk, superadmin), neither);
        assert_eq!(Actions::for_target(&caller(true, vec![]), superadmin), both);
        // Without the built-in action, nothing, whatever else is held.
        let resetter = caller(
            false,
            vec![grant("*", vec![allow("account-password-reset")])],
        );
        assert_eq!(
            Actions::for_target(&resetter, rights(&[])),
            Actions {
                set_status: false,
                reset_password: true,
            }
        );
    }

    #[test]
    fn an_empty_offer_says_why() {
        let options = |roles: &[&str], scopes: &[&str]| GrantOptions {
            roles: roles.iter().map(|r| RoleName::parse(r).unwrap()).collect(),
            scopes: scopes
                .iter()
                .map(|s| ScopePath::parse(s).unwrap())
                .collect(),
        };
        let delegate = caller(false, vec![]);
        let offer = Offer::of(&delegate, &options(&["reader"], &["acme"])).unwrap();
        assert_eq!(
            (offer.roles, offer.scopes),
            (vec!["reader".to_owned()], vec!["acme".to_owned()])
        );
        assert_eq!(
            Offer::of(&delegate, &options(&[], &["acme"])).err(),
            Some(NO_ROLE_IN_REACH)
        );
        assert_eq!(
            Offer::of(&caller(true, vec![]), &options(&[], &["*"])).err(),
            Some(NO_ROLES)
        );
    }

    /// The page does not weigh each grant (security review M1): a grant the viewer could
    /// not remove (a role holding more than the viewer, a scope it does not manage) still
    /// shows "Remove grant", and `delete_grant` refuses it on POST.
    #[test]
    fn remove_is_offered_on_every_grant_to_whoever_manages_grants() {
        let offer = || {
            Offer::of(
                &caller(false, vec![]),
                &GrantOptions {
                    roles: vec![RoleName::parse("reader").unwrap()],
                    scopes: vec![ScopePath::parse("acme").unwrap()],
                },
            )
        };
        assert!(may_remove_grants(&offer()));
        assert!(may_remove_grants(&Err(NO_ROLE_IN_REACH)));
        assert!(may_remove_grants(&Err(NO_ROLES)));
        assert!(!may_remove_grants(&Err(MAY_NOT_GRANT)));
        assert!(!may_remove_grants(&Err(ONLY_SUPERADMIN)));

        let record = |scope, rules| GrantRecord {
            grant: grant(scope, rules),
            created_at: chrono::DateTime::UNIX_EPOCH,
            created_by: None,
        };
        let beyond_the_viewer = [
            record("acme.berlin", vec![allow("all")]),
            record("globex", vec![allow("issuer-read")]),
        ];
        let items = grant_items(&beyond_the_viewer, may_remove_grants(&offer()));
        assert!(items.iter().all(|item| item.removable));
        let items = grant_items(&beyond_the_viewer, may_remove_grants(&Err(MAY_NOT_GRANT)));
        assert!(items.iter().all(|item| !item.removable));
    }
}
