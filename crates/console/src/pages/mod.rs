//! The console's pages, one module per page (or small group of pages); each reads like a JSON
//! route: extract (a [`crate::session::Viewer`], a [`crate::forms::Form`]), call one use
//! case, render a typed template or redirect.

mod account;
mod admin_accounts;
mod api_keys;
mod audit;
mod check;
mod features;
mod register;
mod roles;
mod sign_in;

use actix_web::web::{self, Data, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use roster_http::ClientRateLimiter;

use roster_app::AppError;

use crate::render::{ConsoleError, see_other};
use crate::session::session_token;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("", web::get().to(home))
        .route("/", web::get().to(home));
    sign_in::configure(cfg);
    register::configure(cfg);
    account::configure(cfg);
    admin_accounts::configure(cfg);
    audit::configure(cfg);
    check::configure(cfg);
    roles::configure(cfg);
    api_keys::configure(cfg);
    features::configure(cfg);
    cfg.default_service(web::to(not_found));
}

/// Any other path under `/console/`: the console's own "not found" page, not the API's JSON.
async fn not_found() -> Result<HttpResponse, ConsoleError> {
    Err(AppError::NotFound("page").into())
}

/// `/console/`: the account page when signed in, else the sign-in page.
async fn home(req: HttpRequest) -> HttpResponse {
    if session_token(&req).is_some() {
        see_other("/console/account")
    } else {
        see_other("/console/login")
    }
}

/// The notices a page may show after a redirect (`?done=`): a closed set, so nothing a link
/// carries is ever shown back as text.
pub(crate) fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "signed-out" => "You are signed out.",
        "session-ended" => "Your session has ended. Please sign in again.",
        "welcome" => "Welcome! Your account is ready.",
        "password-changed" => "Password changed. Your other sessions were signed out.",
        "session-revoked" => "The session was signed out.",
        "account-created" => "Account created.",
        "account-disabled" => "Account disabled. Its sessions and API keys stopped working.",
        "account-enabled" => "Account enabled. It can sign in again.",
        "password-reset" => "Password reset. Every session of the account was signed out.",
        "grant-added" => "Grant added.",
        "grant-removed" => "Grant removed.",
        "role-created" => "The role was created.",
        "role-updated" => {
            "The role was saved. Everyone who holds it has the new rules from their next request."
        }
        "role-deleted" => "The role was deleted.",
        "api-key-revoked" => "The API key was revoked, and with it every key it had created.",
        "feature-on" => "Flag switched on. It is in force now.",
        "feature-off" => "Flag switched off. It is in force now.",
        _ => return None,
    })
}

/// The `?done=` and `?next=` a page may be reached with.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Landing {
    pub done: Option<String>,
    pub next: Option<String>,
}

/// Rows on a list page when the link does not say (the API's default).
pub(crate) const DEFAULT_PAGE_LIMIT: u32 = 50;
/// The most rows a list page shows (the API's maximum).
pub(crate) const MAX_PAGE_LIMIT: u32 = 200;

/// `?cursor=&limit=&done=` of a list page. Read as text and never refused: a `limit` that
/// is not a number falls back to the default and one out of range is brought into range,
/// so an edited link still shows a page.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ListQuery {
    pub cursor: Option<String>,
    pub limit: Option<String>,
    pub done: Option<String>,
}

impl ListQuery {
    /// The cursor, unless empty.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref().filter(|cursor| !cursor.is_empty())
    }

    /// The page size: 1 to [`MAX_PAGE_LIMIT`], [`DEFAULT_PAGE_LIMIT`] when not given.
    pub fn limit(&self) -> u32 {
        self.limit
            .as_deref()
            .and_then(|limit| limit.trim().parse::<u64>().ok())
            .map_or(DEFAULT_PAGE_LIMIT, |limit| {
                u32::try_from(limit.clamp(1, u64::from(MAX_PAGE_LIMIT))).unwrap_or(MAX_PAGE_LIMIT)
            })
    }

    /// The link to the page after the one ending at `next`, keeping an explicit page size.
    pub fn next_page(&self, path: &str, next: &str) -> String {
        let cursor = crate::render::encode_component(next);
        match self.limit {
            Some(_) => format!("{path}?cursor={cursor}&limit={}", self.limit()),
            None => format!("{path}?cursor={cursor}"),
        }
    }
}

/// The per-address limit the API's login and registration share, taken by the console's
/// sign-in and sign-up too: `Some(message)` when this address must wait.
pub(crate) fn over_rate_limit(req: &HttpRequest) -> Option<String> {
    let limiter = req.app_data::<Data<ClientRateLimiter>>()?;
    let ip = roster_http::client_ip(req)?;
    let wait = limiter.check(ip).err()?;
    Some(format!(
        "Too many requests from your network. Try again in {} seconds.",
        wait.as_secs().max(1)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(cursor: Option<&str>, limit: Option<&str>) -> ListQuery {
        ListQuery {
            cursor: cursor.map(str::to_owned),
            limit: limit.map(str::to_owned),
            done: None,
        }
    }

    #[test]
    fn a_list_link_always_shows_a_page() {
        assert_eq!(query(None, None).limit(), DEFAULT_PAGE_LIMIT);
        assert_eq!(query(None, Some("20")).limit(), 20);
        assert_eq!(query(None, Some("0")).limit(), 1);
        assert_eq!(query(None, Some("99999999999")).limit(), MAX_PAGE_LIMIT);
        assert_eq!(query(None, Some("many")).limit(), DEFAULT_PAGE_LIMIT);
        assert_eq!(query(Some(""), None).cursor(), None);
        assert_eq!(query(Some("ops"), None).cursor(), Some("ops"));
    }

    #[test]
    fn the_next_page_keeps_an_explicit_size_and_encodes_the_cursor() {
        assert_eq!(
            query(None, None).next_page("/console/admin/roles", "a&b"),
            "/console/admin/roles?cursor=a%26b"
        );
        assert_eq!(
            query(Some("x"), Some("500")).next_page("/console/admin/roles", "ops"),
            "/console/admin/roles?cursor=ops&limit=200"
        );
    }

    #[test]
    fn notices_are_a_closed_set() {
        assert_eq!(notice(Some("role-deleted")), Some("The role was deleted."));
        assert_eq!(notice(Some("<script>")), None);
        assert_eq!(notice(None), None);
    }
}
