//! Roster's web console: server-rendered pages for people, beside the JSON API in the same
//! binary. A sibling adapter, not a layer on top: each page handler extracts a form, calls
//! one use case of [`roster_app::Roster`] with the same caller type as the JSON routes, and
//! renders a typed template (askama, compiled in). The console never calls the JSON handlers.
//!
//! What the console adds is the browser's concerns:
//! - [`session`]: the session token lives in a cookie (`HttpOnly`, `SameSite=Strict`; under
//!   https `Secure` and `__Host-` prefixed); it is the same server-side session as a bearer token, so it
//!   shows in `GET /v1/account/me/sessions` and ends the same way.
//! - [`csrf`]: every state-changing request carries a token tied to the browser's cookie
//!   and must come from the console's own origin; a forged POST is answered 403 and changes
//!   nothing.
//! - [`guard`]: the `web-console` flag, and the headers every console response carries (a
//!   CSP without inline scripts, `frame-ancestors 'none'`, `no-store`).
//!
//! # Module stack
//! `lib` -> `pages` (one module per page) -> `layout` (the frame every page shares, the
//! menu) -> `session`, `csrf`, `forms`, `json`, `paging`, `rows`, `qr`, `render`, `words` ->
//! `guard`, `assets`.

mod assets;
mod csrf;
mod forms;
mod guard;
mod json;
mod layout;
mod pages;
mod paging;
mod qr;
mod render;
mod rows;
mod session;
mod words;

use actix_web::middleware::from_fn;
use actix_web::web::{self, ServiceConfig};

pub use session::{ConsoleCookie, ConsoleSettings};

/// Registers the console under `/console`. The caller puts `Data<Roster>`,
/// `Data<ClientRateLimiter>` and `Data<ConsoleSettings>` into the app.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        web::scope("/console")
            .wrap(from_fn(csrf::refuse_cross_origin))
            .wrap(from_fn(guard::console_guard))
            .configure(assets::configure)
            .configure(pages::configure),
    );
}
