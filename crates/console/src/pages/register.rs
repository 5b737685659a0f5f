//! Signing up: the API's public self-registration, only while `account-registration` is on
//! (the page does not exist otherwise), then signed in at once.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use roster_app::{AppError, Feature, RegistrationForm, Roster};
use roster_http::Client;
use secrecy::SecretString;
use serde::Deserialize;

use super::over_rate_limit;
use super::sign_in::{anonymous_layout, anonymous_page};
use crate::forms::{FieldErrors, Form};
use crate::layout::Layout;
use crate::render::{ConsoleError, see_other};
use crate::session::{ConsoleCookie, settings_of};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/register", web::get().to(show))
        .route("/register", web::post().to(register));
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    layout: Layout,
    email: String,
    name: String,
    errors: FieldErrors,
    min_length: usize,
    max_length: usize,
}

/// While `account-registration` is off the page is not there, like the API's route.
fn require_open(roster: &Roster) -> Result<(), ConsoleError> {
    if roster.is_enabled(Feature::AccountRegistration) {
        Ok(())
    } else {
        Err(AppError::NotFound("page").into())
    }
}

fn page(
    roster: &Roster,
    layout: Layout,
    email: String,
    name: String,
    errors: FieldErrors,
) -> RegisterPage {
    let policy = roster.password_policy();
    RegisterPage {
        layout,
        email,
        name,
        errors,
        min_length: policy.min_length(),
        max_length: policy.max_length(),
    }
}

/// `GET /console/register`: the password rules are on the page before anyone types.
async fn show(req: HttpRequest, roster: Data<Roster>) -> Result<HttpResponse, ConsoleError> {
    require_open(&roster)?;
    let (layout, cookie) = anonymous_layout(&req);
    let page = page(
        &roster,
        layout,
        String::new(),
        String::new(),
        FieldErrors::default(),
    );
    Ok(anonymous_page(StatusCode::OK, &page, cookie))
}

#[derive(Debug, Deserialize)]
struct RegisterForm {
    email: String,
    password: String,
    #[serde(default)]
    name: String,
}

/// `POST /console/register`: the account is created with no roles, then signed in.
async fn register(
    req: HttpRequest,
    roster: Data<Roster>,
    Client(client): Client,
    form: Form<RegisterForm>,
) -> Result<HttpResponse, ConsoleError> {
    require_open(&roster)?;
    let RegisterForm {
        email,
        password,
        name,
    } = form.fields;
    let refused = |status: StatusCode, errors: FieldErrors| {
        let (layout, cookie) = anonymous_layout(&req);
        let page = page(&roster, layout, email.clone(), name.clone(), errors);
        anonymous_page(status, &page, cookie)
    };
    if let Some(message) = over_rate_limit(&req) {
        return Ok(refused(
            StatusCode::TOO_MANY_REQUESTS,
            FieldErrors::general(message),
        ));
    }
    let password = SecretString::from(password);
    let display_name = Some(name.trim().to_owned()).filter(|name| !name.is_empty());
    let registration = RegistrationForm::new(email.clone(), password.clone(), display_name);
    match roster.register_self(registration, client.source_ip).await {
        Ok(_) => {}
        Err(AppError::Validation(errors)) => {
            return Ok(refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                FieldErrors::from_app(errors),
            ));
        }
        Err(AppError::EmailTaken) => {
            return Ok(refused(
                StatusCode::CONFLICT,
                FieldErrors::field(
                    "email",
                    "An account with this email address already exists. Sign in instead.",
                ),
            ));
        }
        Err(AppError::FeatureDisabled(_)) => return Err(AppError::NotFound("page").into()),
        Err(other) => return Err(other.into()),
    }
    // Signed in at once, as with any product's sign-up.
    let success = roster.login(&email, &password, &client).await?;
    let mut response = see_other("/console/account?done=welcome");
    let token = secrecy::ExposeSecret::expose_secret(&success.token).to_owned();
    let _ = response.add_cookie(&ConsoleCookie::Session.with_value(token, &settings_of(&req)));
    Ok(response)
}
