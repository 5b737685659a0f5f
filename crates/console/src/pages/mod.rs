//! The console's pages, one module per page (or small group of pages); each reads like a JSON
//! route: extract (a [`crate::session::Viewer`], a [`crate::forms::Form`]), call one use
//! case, render a typed template or redirect.

mod account;
mod admin_accounts;
mod admin_invitations;
mod api_keys;
mod audit;
mod check;
mod email_links;
mod factors;
mod features;
mod invitation;
mod passkey_sign_in;
mod register;
mod roles;
mod second_step;
mod sign_in;
mod step_up;
mod two_step;

use actix_web::web::{self, Data, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use roster_app::AppError;
use roster_http::ClientRateLimiter;
use uuid::Uuid;

use crate::render::{ConsoleError, see_other};
use crate::session::session_token;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("", web::get().to(home))
        .route("/", web::get().to(home));
    sign_in::configure(cfg);
    second_step::configure(cfg);
    passkey_sign_in::configure(cfg);
    register::configure(cfg);
    invitation::configure(cfg);
    email_links::configure(cfg);
    account::configure(cfg);
    two_step::configure(cfg);
    step_up::configure(cfg);
    admin_accounts::configure(cfg);
    admin_invitations::configure(cfg);
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
        "account-ready" => "Your account is ready. Sign in to continue.",
        "email-verified" => "Your email address is verified. You can sign in now.",
        "password-set" => {
            "Your new password is set, and every session of the account was signed out. Sign in \
             with the new password."
        }
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
        "invitation-sent" => "Invitation sent. The link is in the email; it works once.",
        "invitation-resent" => {
            "Invitation sent again with a new link. The old link no longer works."
        }
        "invitation-revoked" => "Invitation revoked. Its link no longer works.",
        "api-key-revoked" => "The API key was revoked, and with it every key it had created.",
        "feature-on" => "Flag switched on. It is in force now.",
        "feature-off" => "Flag switched off. It is in force now.",
        "sign-in-expired" => {
            "That sign-in took too long, or had too many wrong codes. Sign in again with your \
             email and password."
        }
        "app-on" => "An authenticator app is set up already. Remove it first to set up another.",
        "app-setup-lost" => {
            "That set-up was replaced or finished elsewhere. Start again: a new QR code is \
             shown."
        }
        "app-removed" => {
            "The authenticator app was removed. Signing in no longer asks for its codes."
        }
        "passkey-added" => "Passkey added. It signs you in on its own, and as your second factor.",
        "passkey-removed" => "The passkey was removed. It no longer signs you in.",
        "stepped-up" => "Confirmed, it is you. Carry on where you were.",
        "sign-in-again" => "Signed out. Sign in again to carry on changing your two-step sign-in.",
        _ => return None,
    })
}

/// The id a console path names, of the kind `what` names (`"account"`); a malformed one
/// names nothing, so it is the same 404 page as an unknown one.
pub(crate) fn path_id<T>(
    raw: &str,
    what: &'static str,
    id: impl FnOnce(Uuid) -> T,
) -> Result<T, ConsoleError> {
    Uuid::parse_str(raw)
        .map(id)
        .map_err(|_| AppError::NotFound(what).into())
}

/// The `?done=` and `?next=` a page may be reached with.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Landing {
    pub done: Option<String>,
    pub next: Option<String>,
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

    #[test]
    fn a_malformed_id_in_a_path_names_nothing() {
        let id = Uuid::from_u128(7);
        assert_eq!(path_id(&id.to_string(), "grant", |id| id).unwrap(), id);
        let refused = path_id("7", "grant", |id| id).unwrap_err();
        assert!(matches!(
            refused,
            ConsoleError::App(roster_http::ApiError::App(AppError::NotFound("grant")))
        ));
    }

    #[test]
    fn notices_are_a_closed_set() {
        assert_eq!(notice(Some("role-deleted")), Some("The role was deleted."));
        assert_eq!(notice(Some("<script>")), None);
        assert_eq!(notice(None), None);
    }
}
