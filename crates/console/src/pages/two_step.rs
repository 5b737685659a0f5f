//! My account → Two-step sign-in: what second factors the account has, and managing them
//! (the API's `/v1/account/me/mfa` and `/v1/account/me/passkeys` routes).
//!
//! - **Authenticator app**: "Set up" starts the enrolment and answers with the QR code of the
//!   `otpauth://` URI (drawn here, [`crate::qr`]) and the secret as text to type; the first
//!   code from the app turns it on and answers with the ten recovery codes, shown once.
//!   Removing it takes the password.
//! - **Recovery codes**: how many are left; a new set (password) replaces the old one and is
//!   shown once.
//! - **Passkeys**: the list with when each was added and last used; adding one is a WebAuthn
//!   ceremony the console's script runs (JSON start and finish); removing one is a form.
//!
//! A session the MFA policy holds back until it sets up a second factor lands here, told
//! why; it may set one up (as the API's enrolment routes allow), not remove anything.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use roster_app::model::PasskeyId;
use roster_app::{AppError, MfaStatus, RECOVERY_CODES, RecoveryCodes, Roster, TotpSecret};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::factors::{CodeField, wrong_code};
use super::second_step::options_reply;
use super::{Landing, notice, over_rate_limit, path_id, step_up};
use crate::forms::{FieldErrors, Form, FormFields, NoFields};
use crate::json::{self, Credential, Empty, JsonRequest, credential_json};
use crate::layout::Layout;
use crate::qr;
use crate::render::{ConsoleError, html, see_other};
use crate::session::{ENROLMENT_PAGE, EnrollingViewer, Viewer};
use crate::words::{when, when_or};

/// The page's path (where the MFA policy sends a session it holds back, too).
pub(super) const PATH: &str = ENROLMENT_PAGE;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.route("/account/two-step", web::get().to(show))
        .route("/account/two-step/app", web::post().to(begin_app))
        .route("/account/two-step/app/confirm", web::post().to(confirm_app))
        .route("/account/two-step/app/remove", web::post().to(remove_app))
        .route(
            "/account/two-step/recovery-codes",
            web::post().to(renew_recovery_codes),
        )
        .route(
            "/account/two-step/passkeys/start",
            web::post().to(start_passkey),
        )
        .route(
            "/account/two-step/passkeys/finish",
            web::post().to(finish_passkey),
        )
        .route(
            "/account/two-step/passkeys/{id}/remove",
            web::post().to(remove_passkey),
        );
}

/// One passkey as listed.
struct PasskeyRow {
    id: String,
    name: String,
    created_at: String,
    last_used_at: String,
}

#[derive(Template)]
#[template(path = "two_step.html")]
struct TwoStepPage {
    layout: Layout,
    email: String,
    /// The MFA policy holds this session back until it sets up a second factor.
    must_enrol: bool,
    app: bool,
    recovery_codes_left: u32,
    recovery_codes: usize,
    passkeys: Vec<PasskeyRow>,
    /// The "Remove the app" form's problems.
    remove_errors: FieldErrors,
    /// The "New recovery codes" form's problems.
    renew_errors: FieldErrors,
}

impl TwoStepPage {
    /// Whether the account has a second factor (recovery codes alone are none).
    fn has_factor(&self) -> bool {
        self.app || !self.passkeys.is_empty()
    }
}

/// Which of the page's forms was refused, and why.
enum Refused {
    None,
    RemoveApp(FieldErrors),
    Renew(FieldErrors),
}

async fn render(
    roster: &Roster,
    viewer: &Viewer,
    status: StatusCode,
    notice_text: Option<&'static str>,
    refused: Refused,
) -> Result<HttpResponse, ConsoleError> {
    let MfaStatus {
        totp,
        recovery_codes_left,
        passkeys,
    } = roster.mfa_status(&viewer.caller).await?;
    let (remove_errors, renew_errors) = match refused {
        Refused::None => (FieldErrors::default(), FieldErrors::default()),
        Refused::RemoveApp(errors) => (errors, FieldErrors::default()),
        Refused::Renew(errors) => (FieldErrors::default(), errors),
    };
    let page = TwoStepPage {
        layout: Layout::signed_in(viewer, PATH).with_notice(notice_text),
        email: viewer.account().email.as_str().to_owned(),
        must_enrol: viewer.must_enrol(),
        app: totp,
        recovery_codes_left,
        recovery_codes: RECOVERY_CODES,
        passkeys: passkeys
            .iter()
            .map(|passkey| PasskeyRow {
                id: passkey.id.to_string(),
                name: passkey.name.clone(),
                created_at: when(passkey.created_at),
                last_used_at: when_or(passkey.last_used_at, "never"),
            })
            .collect(),
        remove_errors,
        renew_errors,
    };
    Ok(html(status, &page))
}

/// `GET /console/account/two-step`.
async fn show(
    roster: Data<Roster>,
    EnrollingViewer(viewer): EnrollingViewer,
    landing: web::Query<Landing>,
) -> Result<HttpResponse, ConsoleError> {
    render(
        &roster,
        &viewer,
        StatusCode::OK,
        notice(landing.done.as_deref()),
        Refused::None,
    )
    .await
}

// ---------------------------------------------------------------------------------------
// The authenticator app.

#[derive(Template)]
#[template(path = "totp_setup.html")]
struct AppSetupPage {
    layout: Layout,
    /// The QR code's SVG markup (drawn by [`qr::svg`] from the URI: shapes only).
    qr: Option<String>,
    /// The secret in groups of four, for typing.
    secret_words: String,
    /// Kept by the confirmation form, so that a wrong first code shows the same page again.
    secret: String,
    otpauth_uri: String,
    code: CodeField,
    errors: FieldErrors,
}

const QR_LABEL: &str = "QR code to scan with your authenticator app";

impl AppSetupPage {
    fn new(viewer: &Viewer, secret: &str, otpauth_uri: &str, errors: FieldErrors) -> Self {
        let grouped: Vec<String> = secret
            .chars()
            .collect::<Vec<_>>()
            .chunks(4)
            .map(|group| group.iter().collect())
            .collect();
        AppSetupPage {
            layout: Layout::signed_in(viewer, PATH),
            qr: qr::svg(otpauth_uri, QR_LABEL),
            secret_words: grouped.join(" "),
            secret: secret.to_owned(),
            otpauth_uri: otpauth_uri.to_owned(),
            code: CodeField::APP,
            errors,
        }
    }
}

/// `POST /console/account/two-step/app`: a new secret, pending until its first code. The
/// answer shows it (not behind a redirect: no later page view shows it again).
async fn begin_app(
    roster: Data<Roster>,
    EnrollingViewer(viewer): EnrollingViewer,
    form: Form<NoFields>,
) -> Result<HttpResponse, ConsoleError> {
    match roster.begin_totp(&viewer.caller).await {
        Ok(TotpSecret {
            secret,
            otpauth_uri,
        }) => Ok(html(
            StatusCode::OK,
            &AppSetupPage::new(
                &viewer,
                secret.expose_secret(),
                otpauth_uri.expose_secret(),
                FieldErrors::default(),
            ),
        )),
        Err(AppError::MfaAlreadyEnrolled) => Ok(see_other(&format!("{PATH}?done=app-on"))),
        Err(other) => proof_of_presence(&roster, &viewer, (&form.action, &form.raw), other).await,
    }
}

/// The answer to a change of factors refused for want of a recent second factor (the
/// step-up prompt, the form waiting) or of a recent sign-in (the page asking to sign in
/// again); any other error as the console's error page.
async fn proof_of_presence(
    roster: &Roster,
    viewer: &Viewer,
    (action, fields): (&str, &FormFields),
    error: AppError,
) -> Result<HttpResponse, ConsoleError> {
    match error {
        AppError::MfaStepUpRequired => step_up::prompt(roster, viewer, action, fields).await,
        AppError::RecentSignInRequired => Ok(step_up::sign_in_again(PATH)),
        other => Err(other.into()),
    }
}

/// The script's answer to a passkey ceremony refused for the same want: where to prove it.
fn proof_of_presence_json(error: AppError) -> Result<HttpResponse, ConsoleError> {
    let location = match error {
        AppError::MfaStepUpRequired => step_up::prompt_path(PATH),
        AppError::RecentSignInRequired => step_up::sign_in_again_path(PATH),
        other => return Err(other.into()),
    };
    Ok(json::go_to(StatusCode::FORBIDDEN, &location, None))
}

#[derive(Debug, Deserialize)]
struct ConfirmAppForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    otpauth_uri: String,
}

/// Text for a `data:text/plain` link: every byte but unreserved ones percent-encoded (a
/// space is `%20`; form encoding's `+` would stay a `+` in the downloaded file).
fn encode_data_text(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Whether the set-up page's carried secret and URI are one pair the server could have made
/// (so a wrong code shows the same QR code again, and a form edited by hand shows nothing
/// of its own).
fn is_setup_pair(secret: &str, otpauth_uri: &str) -> bool {
    !secret.is_empty()
        && secret
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
        && otpauth_uri.starts_with("otpauth://totp/")
        && otpauth_uri.contains(&format!("secret={secret}"))
}

/// `POST /console/account/two-step/app/confirm`: the first code turns the app on; the answer
/// is the recovery codes, shown once.
async fn confirm_app(
    req: HttpRequest,
    roster: Data<Roster>,
    EnrollingViewer(viewer): EnrollingViewer,
    form: Form<ConfirmAppForm>,
) -> Result<HttpResponse, ConsoleError> {
    let ConfirmAppForm {
        code,
        secret,
        otpauth_uri,
    } = form.fields;
    // Guessing the first code is limited per address, as at the API, whatever the form
    // carries.
    if let Some(message) = over_rate_limit(&req) {
        if !is_setup_pair(&secret, &otpauth_uri) {
            return Ok(see_other(&format!("{PATH}?done=app-setup-lost")));
        }
        return Ok(html(
            StatusCode::TOO_MANY_REQUESTS,
            &AppSetupPage::new(
                &viewer,
                &secret,
                &otpauth_uri,
                FieldErrors::general(message),
            ),
        ));
    }
    match roster.confirm_totp(&viewer.caller, &code).await {
        Ok(codes) => Ok(recovery_codes_page(
            &viewer,
            &codes,
            Some(
                "Your authenticator app is set up. From now on, signing in takes your password \
                 and a code from the app.",
            ),
        )),
        Err(AppError::InvalidMfaCode) if is_setup_pair(&secret, &otpauth_uri) => Ok(html(
            StatusCode::UNAUTHORIZED,
            &AppSetupPage::new(&viewer, &secret, &otpauth_uri, wrong_code(&code)),
        )),
        // A wrong code on a page edited by hand, or no set-up pending (it was replaced or
        // finished in another tab): start again.
        Err(AppError::InvalidMfaCode | AppError::NotFound(_)) => {
            Ok(see_other(&format!("{PATH}?done=app-setup-lost")))
        }
        Err(AppError::MfaAlreadyEnrolled) => Ok(see_other(&format!("{PATH}?done=app-on"))),
        // The set-up is not sent again after a step-up: it carries the secret (which no other
        // page may show) and its own `code`. The person confirms it is them, comes back here
        // and starts the set-up again.
        Err(AppError::MfaStepUpRequired) => Ok(see_other(&step_up::prompt_path(PATH))),
        Err(other) => proof_of_presence(&roster, &viewer, (&form.action, &form.raw), other).await,
    }
}

#[derive(Debug, Deserialize)]
struct PasswordForm {
    #[serde(default)]
    password: String,
}

/// The message beside a password field the use case refused.
fn password_refusal(error: &AppError) -> Option<(StatusCode, FieldErrors)> {
    match error {
        AppError::InvalidCredentials => Some((
            StatusCode::UNAUTHORIZED,
            FieldErrors::field("password", "That is not your password."),
        )),
        AppError::TooManyAttempts { retry_after_secs } => Some((
            StatusCode::TOO_MANY_REQUESTS,
            FieldErrors::field(
                "password",
                format!("Too many wrong passwords. Try again in {retry_after_secs} seconds."),
            ),
        )),
        _ => None,
    }
}

/// `POST /console/account/two-step/app/remove`: needs the password.
async fn remove_app(
    roster: Data<Roster>,
    viewer: Viewer,
    form: Form<PasswordForm>,
) -> Result<HttpResponse, ConsoleError> {
    let password = SecretString::from(form.fields.password);
    match roster.remove_totp(&viewer.caller, &password).await {
        Ok(()) | Err(AppError::NotFound(_)) => Ok(see_other(&format!("{PATH}?done=app-removed"))),
        Err(error) => match password_refusal(&error) {
            Some((status, errors)) => {
                render(&roster, &viewer, status, None, Refused::RemoveApp(errors)).await
            }
            None => proof_of_presence(&roster, &viewer, (&form.action, &form.raw), error).await,
        },
    }
}

// ---------------------------------------------------------------------------------------
// Recovery codes.

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesPage {
    layout: Layout,
    codes: Vec<String>,
    /// The codes as a text file, percent-encoded for the download link's `data:` address.
    download: String,
}

/// The page showing a new set of recovery codes: their only showing.
fn recovery_codes_page(
    viewer: &Viewer,
    codes: &RecoveryCodes,
    notice_text: Option<&'static str>,
) -> HttpResponse {
    let codes: Vec<String> = codes
        .0
        .iter()
        .map(|code| code.expose_secret().to_owned())
        .collect();
    let mut file = format!(
        "Roster recovery codes for {}\nEach code signs you in once, instead of a code from your \
         authenticator app.\n\n",
        viewer.account().email.as_str()
    );
    for code in &codes {
        file.push_str(code);
        file.push('\n');
    }
    let page = RecoveryCodesPage {
        layout: Layout::signed_in(viewer, PATH).with_notice(notice_text),
        codes,
        download: encode_data_text(&file),
    };
    html(StatusCode::OK, &page)
}

/// `POST /console/account/two-step/recovery-codes`: a new set (the password first); the old
/// one stops working.
async fn renew_recovery_codes(
    roster: Data<Roster>,
    EnrollingViewer(viewer): EnrollingViewer,
    form: Form<PasswordForm>,
) -> Result<HttpResponse, ConsoleError> {
    let password = SecretString::from(form.fields.password);
    match roster.renew_recovery_codes(&viewer.caller, &password).await {
        Ok(codes) => Ok(recovery_codes_page(
            &viewer,
            &codes,
            Some("New recovery codes are ready. The old ones no longer work."),
        )),
        Err(AppError::MfaNotEnrolled) => {
            let errors = FieldErrors::general(
                "Recovery codes stand in for a second factor, and your account has none yet. \
                 Set up an authenticator app or add a passkey first.",
            );
            let status = StatusCode::CONFLICT;
            render(&roster, &viewer, status, None, Refused::Renew(errors)).await
        }
        Err(error) => match password_refusal(&error) {
            Some((status, errors)) => {
                render(&roster, &viewer, status, None, Refused::Renew(errors)).await
            }
            None => proof_of_presence(&roster, &viewer, (&form.action, &form.raw), error).await,
        },
    }
}

// ---------------------------------------------------------------------------------------
// Passkeys.

/// `POST /console/account/two-step/passkeys/start`: the options for
/// `navigator.credentials.create`.
async fn start_passkey(
    roster: Data<Roster>,
    EnrollingViewer(viewer): EnrollingViewer,
    _body: JsonRequest<Empty>,
) -> Result<HttpResponse, ConsoleError> {
    match roster.start_passkey_registration(&viewer.caller).await {
        Ok(options) => options_reply(&options),
        Err(other) => proof_of_presence_json(other),
    }
}

#[derive(Debug, Deserialize)]
struct NewPasskey {
    #[serde(default)]
    name: String,
    credential: Credential,
}

/// `POST /console/account/two-step/passkeys/finish`: the browser's answer, under the name
/// typed; then back to the list.
async fn finish_passkey(
    roster: Data<Roster>,
    EnrollingViewer(viewer): EnrollingViewer,
    JsonRequest(answer): JsonRequest<NewPasskey>,
) -> Result<HttpResponse, ConsoleError> {
    match roster
        .finish_passkey_registration(
            &viewer.caller,
            &answer.name,
            &credential_json(answer.credential),
        )
        .await
    {
        Ok(_) => Ok(json::go_to(
            StatusCode::CREATED,
            &format!("{PATH}?done=passkey-added"),
            None,
        )),
        Err(AppError::Validation(errors)) => {
            let message = errors
                .first()
                .map_or("The name is not valid.", |error| error.message.as_str());
            Ok(json::refusal(
                StatusCode::UNPROCESSABLE_ENTITY,
                message,
                Some("name"),
            ))
        }
        Err(AppError::InvalidCredential(_)) => Ok(json::refusal(
            StatusCode::BAD_REQUEST,
            "The passkey could not be added (it may be on this account already). Try again.",
            None,
        )),
        Err(other) => proof_of_presence_json(other),
    }
}

/// `POST /console/account/two-step/passkeys/{id}/remove`.
async fn remove_passkey(
    roster: Data<Roster>,
    viewer: Viewer,
    id: web::Path<String>,
    form: Form<NoFields>,
) -> Result<HttpResponse, ConsoleError> {
    let id = path_id(&id, "passkey", PasskeyId::new)?;
    match roster.remove_passkey(&viewer.caller, id).await {
        Ok(()) => Ok(see_other(&format!("{PATH}?done=passkey-removed"))),
        Err(other) => proof_of_presence(&roster, &viewer, (&form.action, &form.raw), other).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_text_keeps_spaces_and_new_lines_as_they_are() {
        assert_eq!(
            encode_data_text("Roster codes\nab-cd"),
            "Roster%20codes%0Aab-cd"
        );
    }

    #[test]
    fn only_a_pair_the_server_could_have_made_is_shown_again() {
        let uri = "otpauth://totp/Roster:ada%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Roster";
        assert!(is_setup_pair("JBSWY3DPEHPK3PXP", uri));
        assert!(!is_setup_pair("", uri));
        assert!(!is_setup_pair("JBSWY3DPEHPK3PXQ", uri));
        assert!(!is_setup_pair("<b>", "otpauth://totp/x?secret=<b>"));
        assert!(!is_setup_pair(
            "JBSWY3DPEHPK3PXP",
            "https://evil.example/?secret=JBSWY3DPEHPK3PXP"
        ));
    }
}
