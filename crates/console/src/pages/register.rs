//! Signing up: the API's public self-registration, only while `account-registration` is on
//! (the page does not exist otherwise), then signed in at once, unless the new account must
//! verify its email address first (then, and in the enumeration-safe mode whatever the
//! address, a "check your email" page). The registration policy (allowed domains, verification,
//! password bounds) is on the page before anyone types.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use roster_app::{
    AppError, EmailVerification, Feature, LoginOutcome, RegistrationForm, Roster, SelfRegistration,
};
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
    /// Which addresses may sign up, as a sentence; `None` when any may.
    allowed_domains: Option<String>,
    /// Whether the new account must verify its email address before it can sign in.
    verification_required: bool,
    min_length: usize,
    max_length: usize,
}

/// The allowed-domain rules as a sentence a person reads before typing: "Use an email
/// address at example.org or any subdomain of example.com."; `None` for any domain.
fn allowed_domains_sentence(rules: &[String]) -> Option<String> {
    let parts: Vec<String> = rules
        .iter()
        .map(|rule| match rule.strip_prefix("*.") {
            Some(domain) => format!("any subdomain of {domain}"),
            None => rule.clone(),
        })
        .collect();
    let (last, rest) = parts.split_last()?;
    let listed = if rest.is_empty() {
        last.clone()
    } else {
        format!("{} or {last}", rest.join(", "))
    };
    Some(format!("Use an email address at {listed}."))
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
    let policy = roster.registration_policy();
    RegisterPage {
        layout,
        email,
        name,
        errors,
        allowed_domains: allowed_domains_sentence(&policy.allowed_domains),
        verification_required: policy.email_verification == EmailVerification::Required,
        min_length: policy.password_min_length,
        max_length: policy.password_max_length,
    }
}

/// `GET /console/register`: the allowed domains and the password rules are on the page
/// before anyone types.
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
    let account = match roster.register_self(registration, client.source_ip).await {
        Ok(SelfRegistration::Created(account)) => account,
        // The enumeration-safe answer: the same page as for a new account below.
        Ok(SelfRegistration::CheckYourEmail) => {
            return Ok(see_other("/console/check-your-email?sent=sign-up"));
        }
        Err(AppError::DomainNotAllowed) => {
            let allowed = allowed_domains_sentence(&roster.registration_policy().allowed_domains);
            let message = format!(
                "Accounts cannot be created here with an email address at this domain.{}",
                allowed
                    .map(|sentence| format!(" {sentence}"))
                    .unwrap_or_default()
            );
            return Ok(refused(
                StatusCode::FORBIDDEN,
                FieldErrors::field("email", message),
            ));
        }
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
    };
    if !account.email_verified {
        // No session until the address is verified: the link is on its way.
        return Ok(see_other("/console/check-your-email?sent=sign-up"));
    }
    // Signed in at once, as with any product's sign-up. The account exists whatever happens
    // next: when that sign-in is refused (the address's login throttle, from failed attempts
    // before it had an account; a full hashing pool), the sign-in page says the account is
    // ready rather than an error page suggesting the sign-up failed.
    // A new account has no second factor: its login opens a session at once.
    let success = match roster.login(&email, &password, &client).await {
        Ok(LoginOutcome::Session(success)) => success,
        Ok(LoginOutcome::SecondFactor(_)) => {
            return Ok(see_other("/console/login?done=account-ready"));
        }
        Err(error) => {
            tracing::info!(%error, "account created; signing it in at once was refused");
            return Ok(see_other("/console/login?done=account-ready"));
        }
    };
    let mut response = see_other("/console/account?done=welcome");
    let token = secrecy::ExposeSecret::expose_secret(&success.token).to_owned();
    let _ = response.add_cookie(&ConsoleCookie::Session.with_value(token, &settings_of(&req)));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::allowed_domains_sentence;

    #[test]
    fn allowed_domains_read_as_one_sentence() {
        let rules = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(allowed_domains_sentence(&[]), None);
        assert_eq!(
            allowed_domains_sentence(&rules(&["example.org"])).as_deref(),
            Some("Use an email address at example.org.")
        );
        assert_eq!(
            allowed_domains_sentence(&rules(&["example.org", "*.example.com"])).as_deref(),
            Some("Use an email address at example.org or any subdomain of example.com.")
        );
        assert_eq!(
            allowed_domains_sentence(&rules(&["a.test", "b.test", "*.c.test"])).as_deref(),
            Some("Use an email address at a.test, b.test or any subdomain of c.test.")
        );
    }
}
