//! Forms with rows: a role's rules (`action` + `effect`) and the grants of a new account or
//! API key (`role` + `scope`) are edited without JavaScript as a fixed number of rows, each
//! row repeating the same field names, sent in document order (the n-th `role` goes with the
//! n-th `scope`). Rows left blank are not sent on to the use case, so its field names
//! (`permissions[1].action`: the second rule it received) count only the filled rows; this
//! module maps them back to the row on the page, so each message shows beside its row.

use actix_web::http::StatusCode;
use roster_app::{AppError, FieldError, GrantForm};

use crate::forms::{FieldErrors, FormFields};
use crate::render::ConsoleError;

/// Blank rows a form offers beyond the ones it shows filled: saving with all of them filled
/// brings the form back with the rows as typed, and the page's next visit with blank ones.
pub const BLANK_ROWS: usize = 3;

/// The most grant rows a form takes (a new account's, a new API key's). The pages show
/// [`BLANK_ROWS`] and a refused form comes back with the rows it had, so only a hand-made
/// form sends more; it is refused before the use case runs, with one message, instead of
/// being checked, and shown back, row by row (a 64 KB form holds thousands of rows:
/// security review L5). The JSON API takes more grants at once.
pub const MAX_GRANT_ROWS: usize = 20;

/// Why a form with more than [`MAX_GRANT_ROWS`] grant rows is refused.
pub const TOO_MANY_GRANT_ROWS: &str = "The form has more than 20 grant rows, more than this \
    page ever shows. Reload the page and give at most 20 grants at once (add more on the \
    account's or key's page afterwards).";

/// The rows of a form as sent, and which of them were filled in.
#[derive(Debug, Clone)]
pub struct Rows<T> {
    /// Every row as sent, blank ones included: the form is shown back as typed.
    pub sent: Vec<T>,
    /// For each row the use case receives, its index in `sent`.
    filled: Vec<usize>,
}

impl<T> Rows<T> {
    /// The rows `sent`, of which those `is_blank` says are blank are left out.
    pub fn new(sent: Vec<T>, is_blank: impl Fn(&T) -> bool) -> Rows<T> {
        let filled = sent
            .iter()
            .enumerate()
            .filter(|(_, row)| !is_blank(row))
            .map(|(index, _)| index)
            .collect();
        Rows { sent, filled }
    }

    /// The filled rows, in page order: what the use case receives.
    pub fn filled(&self) -> impl Iterator<Item = &T> {
        self.filled.iter().map(|&index| &self.sent[index])
    }

    /// The use case's `errors` with each `{list}[i]...` field (the i-th filled row) renamed
    /// to `{list}[j]...`, `j` being that row's index on the page, and its message prefixed
    /// with the row as people count it ("Rule 3: ..."), so the summary says which row is
    /// meant. Other fields pass unchanged.
    pub fn errors_on_page(&self, list: &str, noun: &str, errors: Vec<FieldError>) -> FieldErrors {
        FieldErrors::from_app(
            errors
                .into_iter()
                .map(|error| match self.page_field(list, &error.field) {
                    Some((index, field)) => FieldError {
                        field,
                        message: format!("{noun} {}: {}", index + 1, error.message),
                        ..error
                    },
                    None => error,
                })
                .collect(),
        )
    }

    /// `{list}[i]{rest}` as (the page index, `{list}[j]{rest}`) when `i` names a filled row.
    fn page_field(&self, list: &str, field: &str) -> Option<(usize, String)> {
        let (index, rest) = field
            .strip_prefix(list)?
            .strip_prefix('[')?
            .split_once(']')?;
        if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let on_page = *self.filled.get(index.parse::<usize>().ok()?)?;
        Some((on_page, format!("{list}[{on_page}]{rest}")))
    }
}

/// The message `errors` holds for `{list}[index]{suffix}` (`suffix` empty: the row as a
/// whole), as [`Rows::errors_on_page`] named it.
pub fn row_error(errors: &FieldErrors, list: &str, index: usize, suffix: &str) -> Option<String> {
    errors
        .get(&format!("{list}[{index}]{suffix}"))
        .map(str::to_owned)
}

/// The values of two repeated fields read side by side: the i-th `first` and the i-th
/// `second` make row i. A form of this console always sends both for every row, and never
/// more than `max` rows; a form that does not is not one of ours (`too_many` says why).
pub fn pairs(
    raw: &FormFields,
    (first, second): (&str, &str),
    max: usize,
    too_many: &'static str,
) -> Result<Vec<(String, String)>, ConsoleError> {
    let firsts: Vec<&str> = raw.all(first).collect();
    let seconds: Vec<&str> = raw.all(second).collect();
    if firsts.len().max(seconds.len()) > max {
        return Err(ConsoleError::BadForm(too_many));
    }
    if firsts.len() != seconds.len() {
        return Err(ConsoleError::BadForm(
            "The form's rows are incomplete. Reload the page and try again.",
        ));
    }
    Ok(firsts
        .into_iter()
        .zip(seconds)
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect())
}

// ---------------------------------------------------------------------------------------
// Grant rows: the API's `grants: [{"role", "scope"}]` (a new account's, a new API key's).

/// A grant row as (role, scope), the shape the form sends.
pub type SentGrant = (String, String);

/// The grant rows of a fresh form.
pub fn blank_grants() -> Vec<SentGrant> {
    vec![(String::new(), String::new()); BLANK_ROWS]
}

/// The grant rows a form sent; a row with neither role nor scope is blank.
pub fn sent_grants(raw: &FormFields) -> Result<Rows<SentGrant>, ConsoleError> {
    let sent = pairs(raw, ("role", "scope"), MAX_GRANT_ROWS, TOO_MANY_GRANT_ROWS)?;
    Ok(Rows::new(sent, |(role, scope)| {
        role.trim().is_empty() && scope.trim().is_empty()
    }))
}

/// What the use case receives for `rows`: the filled rows, trimmed (a space typed after a
/// scope is an accident, not a different scope).
pub fn grant_forms(rows: &Rows<SentGrant>) -> Vec<GrantForm> {
    rows.filled()
        .map(|(role, scope)| GrantForm {
            role: role.trim().to_owned(),
            scope: scope.trim().to_owned(),
        })
        .collect()
}

/// The use case's problems with the grants named after the rows they came from ("Grant 2:
/// ..." at `grants[1]...`).
pub fn grant_errors(rows: &Rows<SentGrant>, errors: Vec<FieldError>) -> FieldErrors {
    rows.errors_on_page("grants", "Grant", errors)
}

/// One grant row as templates/grant_rows.html shows it: as typed, with its problems.
#[derive(Debug, Clone)]
pub struct GrantRowView {
    /// 1-based, as people count rows; ids are built from it.
    pub number: usize,
    pub role: String,
    pub scope: String,
    pub role_error: Option<String>,
    pub scope_error: Option<String>,
    /// A problem with the row as a whole (the same role and scope given twice).
    pub error: Option<String>,
}

/// What templates/grant_rows.html shows: the rows and what their fields offer.
#[derive(Debug, Clone)]
pub struct GrantFields {
    pub rows: Vec<GrantRowView>,
    /// `true`: the role is chosen from `roles` (a `<select>`, "No role" first); `false`: it
    /// is typed, `roles` suggested.
    pub roles_closed: bool,
    pub roles: Vec<String>,
    /// Scopes suggested to the scope fields.
    pub scopes: Vec<String>,
}

impl GrantFields {
    /// The rows `sent`, each with the problems `errors` names for it (as
    /// [`grant_errors`] named them).
    pub fn new(
        sent: &[SentGrant],
        errors: &FieldErrors,
        roles_closed: bool,
        roles: Vec<String>,
        scopes: Vec<String>,
    ) -> GrantFields {
        let rows = sent
            .iter()
            .enumerate()
            .map(|(index, (role, scope))| GrantRowView {
                number: index + 1,
                role: role.clone(),
                scope: scope.clone(),
                role_error: row_error(errors, "grants", index, ".role"),
                scope_error: row_error(errors, "grants", index, ".scope"),
                error: row_error(errors, "grants", index, ""),
            })
            .collect();
        GrantFields {
            rows,
            roles_closed,
            roles,
            scopes,
        }
    }
}

/// How a form that creates something with grants (an account, an invitation) shows a refusal
/// about its grants, beside the form; `None` for any other error. `nothing_was` ends the
/// sentences ("created", "sent"). A `Forbidden` is about a grant only for a viewer who
/// `may_create` at all: for anyone else the form was never offered, and it is the error page.
pub fn grant_refusal(
    error: &AppError,
    nothing_was: &str,
    may_create: bool,
) -> Option<(StatusCode, FieldErrors)> {
    match error {
        AppError::RoleNotFound => Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            FieldErrors::general(format!(
                "One of the roles no longer exists (it may have been deleted meanwhile). \
                 Nothing was {nothing_was}; choose the roles again."
            )),
        )),
        AppError::TooManyGrants { limit } => Some((
            StatusCode::CONFLICT,
            FieldErrors::general(format!(
                "An account may hold at most {limit} grants. Nothing was {nothing_was}."
            )),
        )),
        AppError::Forbidden if may_create => Some((
            StatusCode::FORBIDDEN,
            FieldErrors::general(format!(
                "Your grants do not allow giving one of these roles on its scope. Nothing was \
                 {nothing_was}. Choose a scope where you manage grants, and a role whose every \
                 action you hold there."
            )),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use askama::Template;

    use super::*;

    fn rows() -> Rows<&'static str> {
        // Rows 0 and 2 are blank: the use case sees rows 1, 3 and 4 as its 0, 1 and 2.
        Rows::new(vec!["", "a", " ", "b", "c"], |row| row.trim().is_empty())
    }

    fn error(field: &str) -> FieldError {
        FieldError::new(field, "invalid_action", "action is empty")
    }

    #[test]
    fn blank_rows_are_not_sent_on() {
        assert_eq!(
            rows().filled().copied().collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        assert_eq!(rows().sent.len(), 5);
    }

    #[test]
    fn errors_are_moved_to_the_row_on_the_page() {
        let moved = rows().errors_on_page(
            "permissions",
            "Rule",
            vec![
                error("permissions[0].action"),
                error("permissions[1].effect"),
                error("permissions[2]"),
                error("permissions"),
                error("name"),
                // Not a row the use case received, or not a row at all: left alone.
                error("permissions[3].action"),
                error("permissions[x].action"),
                error("permissions[+1].action"),
                error("grants[0].role"),
            ],
        );
        assert_eq!(
            moved.get("permissions[1].action"),
            Some("Rule 2: action is empty")
        );
        assert_eq!(
            moved.get("permissions[3].effect"),
            Some("Rule 4: action is empty")
        );
        assert_eq!(moved.get("permissions[4]"), Some("Rule 5: action is empty"));
        assert_eq!(moved.get("permissions"), Some("action is empty"));
        assert_eq!(moved.get("name"), Some("action is empty"));
        assert_eq!(moved.get("permissions[x].action"), Some("action is empty"));
        assert_eq!(moved.get("permissions[+1].action"), Some("action is empty"));
        assert_eq!(moved.get("grants[0].role"), Some("action is empty"));
        assert_eq!(moved.get("permissions[0].action"), None);
        assert_eq!(moved.get("permissions[2]"), None);
        assert_eq!(moved.all().len(), 9);
    }

    #[test]
    fn the_grant_rows_refusal_names_the_limit() {
        assert!(TOO_MANY_GRANT_ROWS.contains(&format!(" {MAX_GRANT_ROWS} ")));
        const { assert!(MAX_GRANT_ROWS >= BLANK_ROWS) };
    }

    #[test]
    fn repeated_fields_pair_up_in_order() {
        let raw = FormFields::from_pairs(&[
            ("csrf_token", "t"),
            ("role", "viewer"),
            ("scope", "acme"),
            ("role", ""),
            ("scope", ""),
            ("role", "ops"),
            ("scope", "*"),
        ]);
        let pairs = pairs(&raw, ("role", "scope"), 3, "too many").unwrap();
        assert_eq!(
            pairs,
            [
                ("viewer".to_owned(), "acme".to_owned()),
                (String::new(), String::new()),
                ("ops".to_owned(), "*".to_owned()),
            ]
        );
        let lopsided =
            FormFields::from_pairs(&[("role", "viewer"), ("role", "ops"), ("scope", "*")]);
        assert!(matches!(
            super::pairs(&lopsided, ("role", "scope"), 3, "too many"),
            Err(ConsoleError::BadForm(message)) if message != "too many"
        ));
        // One row more than the form takes: refused as a whole, before anything reads it.
        assert!(matches!(
            super::pairs(&raw, ("role", "scope"), 2, "too many"),
            Err(ConsoleError::BadForm("too many"))
        ));
    }

    #[test]
    fn blank_grant_rows_are_ignored_and_problems_stay_with_their_row() {
        let raw = FormFields::from_pairs(&[
            ("name", "ci"),
            ("role", ""),
            ("scope", "  "),
            ("role", " viewer "),
            ("scope", " acme "),
            ("role", ""),
            ("scope", "acme.berlin"),
        ]);
        let rows = sent_grants(&raw).unwrap();
        assert_eq!(
            grant_forms(&rows),
            [
                GrantForm {
                    role: "viewer".into(),
                    scope: "acme".into()
                },
                GrantForm {
                    role: String::new(),
                    scope: "acme.berlin".into()
                },
            ]
        );
        let errors = grant_errors(
            &rows,
            vec![
                FieldError::new("grants[1].role", "invalid_role_name", "role name is empty"),
                FieldError::new("grants[0]", "duplicate_grant", "given twice"),
                FieldError::new("password", "password_too_short", "too short"),
            ],
        );
        assert_eq!(errors.get("password"), Some("too short"));
        let shown = GrantFields::new(&rows.sent, &errors, false, Vec::new(), Vec::new()).rows;
        assert_eq!(shown.len(), 3);
        assert_eq!(
            shown[2].role_error.as_deref(),
            Some("Grant 3: role name is empty")
        );
        assert_eq!(shown[1].error.as_deref(), Some("Grant 2: given twice"));
        assert!(shown[0].role_error.is_none() && shown[0].error.is_none());
        assert_eq!((shown[1].scope.as_str(), shown[1].number), (" acme ", 2));
        assert!(grant_forms(&sent_grants(&FormFields::default()).unwrap()).is_empty());
    }

    /// The partial alone, as a page including it sees it.
    #[derive(Template)]
    #[template(
        source = "{% include \"grant_rows.html\" %}",
        ext = "html",
        escape = "html"
    )]
    struct GrantRowsPartial {
        grants: GrantFields,
    }

    #[test]
    fn each_grant_field_is_labelled_and_tied_to_its_problems() {
        let errors = FieldErrors::from_app(vec![
            FieldError::new("grants[0].scope", "invalid_scope", "Grant 1: bad scope"),
            FieldError::new("grants[1]", "duplicate_grant", "Grant 2: given twice"),
        ]);
        let sent = [
            ("reader".to_owned(), "Acme".to_owned()),
            ("reader".to_owned(), "acme".to_owned()),
        ];
        let render = |roles_closed| {
            GrantRowsPartial {
                grants: GrantFields::new(
                    &sent,
                    &errors,
                    roles_closed,
                    vec!["reader".to_owned(), "ops".to_owned()],
                    vec!["acme".to_owned()],
                ),
            }
            .render()
            .unwrap()
        };
        let typed = render(false);
        assert!(typed.contains(r#"<label for="grant-1-role">Grant 1: role</label>"#));
        assert!(typed.contains(r#"<label for="grant-2-scope">Grant 2: scope</label>"#));
        assert!(typed.contains(
            r#"<input id="grant-1-role" name="role" type="text" value="reader" list="grant-roles""#
        ));
        assert!(typed.contains(
            r#"aria-describedby="grant-rows-hint grant-1-scope-error" aria-invalid="true""#
        ));
        assert!(
            typed.contains(
                r#"<p class="field-error" id="grant-1-scope-error">Grant 1: bad scope</p>"#
            )
        );
        // The row's own problem marks both its fields.
        assert!(typed.contains(r#"id="grant-2-role" name="role" type="text" value="reader" list="grant-roles" autocomplete="off" spellcheck="false" aria-describedby="grant-2-error" aria-invalid="true""#));
        assert!(
            typed.contains(
                r#"aria-describedby="grant-rows-hint grant-2-error" aria-invalid="true""#
            )
        );
        assert!(
            typed.contains(r#"<p class="field-error" id="grant-2-error">Grant 2: given twice</p>"#)
        );
        assert!(!typed.contains(r#"id="grant-1-role" name="role" type="text" value="reader" list="grant-roles" autocomplete="off" spellcheck="false" aria-"#));
        assert!(
            typed.contains(
                r#"<datalist id="grant-scopes"><option value="acme"></option></datalist>"#
            )
        );

        let closed = render(true);
        assert!(closed.contains(r#"<select id="grant-1-role" name="role">"#));
        assert!(closed.contains(r#"<option value="reader" selected>reader</option>"#));
        assert!(closed.contains(r#"<option value="ops">ops</option>"#));
        assert!(!closed.contains(r#"id="grant-roles""#));
    }
}
