//! Accepting an invitation: the page the emailed link opens
//! (`/console/invitation#rin_...`). The token arrives in the URL fragment, which browsers never
//! send to a server; the console's own script (assets/console.js) moves it into the form's
//! hidden `token` field and removes it from the address bar. The invitee chooses a name and a
//! password (the sign-up page's rules) and is signed in at once. Works whatever the
//! `account-registration` flag says, like the API's route.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use roster_app::{AppError, LoginOutcome, Roster};
use roster_http::Client;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::over_rate_limit;
use super::sign_in::{anonymous_layout, anonymous_page};
use crate::forms::{FieldErrors, Form};
use crate::layout::Layout;
use crate::render::{ConsoleError, see_other};
use crate::session::{ConsoleCookie, settings_of};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/invitation", web::get().to(show))
        .route("/invitation", web::post().to(accept));
}

/// Said when the link does not work, whichever the reason (the API's 410 `token_invalid`).
const DEAD_LINK: &str = "This invitation link does not work: it is invalid, expired, used \
    already or revoked. Ask whoever invited you to send it again.";

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    layout: Layout,
    /// The token as posted back after a refusal that leaves the link usable (a weak password),
    /// so the invitee can try again; empty on the first view (the script fills it).
    token: String,
    name: String,
    errors: FieldErrors,
    min_length: usize,
    max_length: usize,
}

fn page(
    roster: &Roster,
    layout: Layout,
    token: String,
    name: String,
    errors: FieldErrors,
) -> InvitationPage {
    let policy = roster.password_policy();
    InvitationPage {
        layout,
        token,
        name,
        errors,
        min_length: policy.min_length(),
        max_length: policy.max_length(),
    }
}

/// `GET /console/invitation`: the form; the token is in the fragment, for the script.
async fn show(req: HttpRequest, roster: Data<Roster>) -> HttpResponse {
    let (layout, cookie) = anonymous_layout(&req);
    let page = page(
        &roster,
        layout,
        String::new(),
        String::new(),
        FieldErrors::default(),
    );
    anonymous_page(StatusCode::OK, &page, cookie)
}

#[derive(Debug, Deserialize)]
struct AcceptForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    name: String,
}

/// `POST /console/invitation`: creates the account with the invited grants and signs in.
async fn accept(
    req: HttpRequest,
    roster: Data<Roster>,
    Client(client): Client,
    form: Form<AcceptForm>,
) -> Result<HttpResponse, ConsoleError> {
    let AcceptForm {
        token,
        password,
        name,
    } = form.fields;
    let refused = |status: StatusCode, keep_token: bool, errors: FieldErrors| {
        let (layout, cookie) = anonymous_layout(&req);
        let token = if keep_token {
            token.clone()
        } else {
            String::new()
        };
        let page = page(&roster, layout, token, name.clone(), errors);
        anonymous_page(status, &page, cookie)
    };
    if let Some(message) = over_rate_limit(&req) {
        return Ok(refused(
            StatusCode::TOO_MANY_REQUESTS,
            true,
            FieldErrors::general(message),
        ));
    }
    let password = SecretString::from(password);
    let display_name = Some(name.trim().to_owned()).filter(|name| !name.is_empty());
    let accepted = match roster
        .accept_invitation(
            &SecretString::from(token.clone()),
            &password,
            display_name.as_deref(),
            client.source_ip,
        )
        .await
    {
        Ok(accepted) => accepted,
        Err(AppError::TokenInvalid) => {
            return Ok(refused(
                StatusCode::GONE,
                false,
                FieldErrors::general(DEAD_LINK),
            ));
        }
        Err(AppError::Validation(errors)) => {
            return Ok(refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                true,
                FieldErrors::from_app(errors),
            ));
        }
        Err(AppError::EmailTaken) => {
            return Ok(refused(
                StatusCode::CONFLICT,
                false,
                FieldErrors::general(
                    "An account with this email address exists already. Sign in instead, or \
                     reset its password from the sign-in page.",
                ),
            ));
        }
        Err(other) => return Err(other.into()),
    };
    // Signed in at once, as after signing up.
    // A new account has no second factor: its login opens a session at once.
    let LoginOutcome::Session(success) = roster
        .login(accepted.account.email.as_str(), &password, &client)
        .await?
    else {
        return Ok(see_other("/console/login"));
    };
    let mut response = see_other("/console/account?done=welcome");
    let session = success.token.expose_secret().to_owned();
    let _ = response.add_cookie(&ConsoleCookie::Session.with_value(session, &settings_of(&req)));
    Ok(response)
}
