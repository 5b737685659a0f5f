//! What the pages that ask for a second factor share: the sign-in's second step, the step-up
//! prompt and the authenticator app's set-up. One code field takes a code from the
//! authenticator app or a recovery code (the use case tells them apart by their shape), and
//! its label, hint and keyboard follow the factors the account has.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use roster_app::AppError;

use crate::forms::FieldErrors;
use crate::json;

/// The one code field: what it asks for, in words, and the keyboard a phone shows for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeField {
    pub label: &'static str,
    pub hint: &'static str,
    /// `numeric` for app codes alone (six digits), `text` when a recovery code (letters and
    /// digits) may be typed.
    pub inputmode: &'static str,
}

impl CodeField {
    /// The field for an account with an authenticator app (`app`) and recovery codes left
    /// (`recovery`); `None` when it has neither (a passkey alone).
    pub fn for_factors(app: bool, recovery: bool) -> Option<CodeField> {
        match (app, recovery) {
            (true, true) => Some(CodeField {
                label: "Code",
                hint: "The 6-digit code your authenticator app shows now, or one of your \
                       recovery codes.",
                inputmode: "text",
            }),
            (true, false) => Some(CodeField::APP),
            (false, true) => Some(CodeField {
                label: "Recovery code",
                hint: "One of the recovery codes you saved when you set up two-step sign-in. \
                       Each works once.",
                inputmode: "text",
            }),
            (false, false) => None,
        }
    }

    /// A code from the authenticator app only (its set-up's first code).
    pub const APP: CodeField = CodeField {
        label: "Code from your authenticator app",
        hint: "6 digits. A new one shows every 30 seconds.",
        inputmode: "numeric",
    };
}

/// A button that runs a passkey ceremony through the console's script (`passkey_button.html`):
/// `ceremony` is `get` (a sign-in: the script then goes where the finish says), `create`
/// (adding a passkey) or `step-up` (then the form waiting for the step-up is sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyButton {
    pub ceremony: &'static str,
    pub start: &'static str,
    pub finish: &'static str,
    /// Where a sign-in goes afterwards (a console path).
    pub next: Option<String>,
    pub label: &'static str,
}

/// The message beside the code field when the use case refused the code.
pub fn wrong_code(code: &str) -> FieldErrors {
    let message = if looks_like_app_code(code) {
        "That code is not right, or it was used already. Type the code your authenticator app \
         shows now."
    } else {
        "That recovery code is not right, or it was used already. Each recovery code works once."
    };
    FieldErrors::field("code", message)
}

/// Six digits (spaces aside) are an app's code; anything else is taken for a recovery code,
/// as the use case reads them.
fn looks_like_app_code(code: &str) -> bool {
    let digits: Vec<char> = code.chars().filter(|c| !c.is_whitespace()).collect();
    digits.len() == 6 && digits.iter().all(char::is_ascii_digit)
}

/// The script's answer when a passkey ceremony failed in a way the person can act on, or
/// `None` for the errors the console's error page handles.
pub fn passkey_refusal(error: &AppError) -> Option<HttpResponse> {
    let (status, message) = match error {
        AppError::InvalidCredential(_) => (
            StatusCode::BAD_REQUEST,
            "The passkey was not accepted. Try again, or use another way.".to_owned(),
        ),
        AppError::MfaNotEnrolled => (
            StatusCode::CONFLICT,
            "This account has no passkey. Use a code instead.".to_owned(),
        ),
        AppError::TooManyAttempts { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            too_many_failures(*retry_after_secs),
        ),
        _ => return None,
    };
    Some(json::refusal(status, &message, None))
}

/// The sign-in page's words for a throttled account, used wherever a second factor is asked.
pub fn too_many_failures(retry_after_secs: u64) -> String {
    format!("Too many failed sign-ins for this account. Try again in {retry_after_secs} seconds.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_follows_the_factors() {
        assert_eq!(CodeField::for_factors(true, false), Some(CodeField::APP));
        assert_eq!(
            CodeField::for_factors(true, true).map(|field| field.inputmode),
            Some("text")
        );
        assert_eq!(
            CodeField::for_factors(false, true).map(|field| field.label),
            Some("Recovery code")
        );
        assert_eq!(CodeField::for_factors(false, false), None);
    }

    #[test]
    fn a_wrong_code_is_explained_by_its_kind() {
        assert!(
            wrong_code(" 123 456 ")
                .get("code")
                .unwrap()
                .contains("authenticator app")
        );
        assert!(
            wrong_code("abcd-efgh-jkmn-pqrs")
                .get("code")
                .unwrap()
                .contains("recovery code")
        );
    }
}
