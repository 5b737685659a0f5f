//! Rows of role + scope in a form: the API's `grants: [{"role", "scope"}]` without
//! JavaScript. Each row is a `role` and a `scope` field, sent in document order, so the n-th
//! `role` goes with the n-th `scope`; a row left empty is not sent to the use case. The use
//! case names its problems by position in what it was sent (`grants[1].scope`); they are
//! renamed to the row they came from, so each shows next to its row.

use roster_app::{FieldError, GrantForm};

use crate::forms::{FieldErrors, FormFields};

/// How many rows a form offers at least: enough for the usual few grants; more can be
/// given on the account's page afterwards.
pub const BLANK_ROWS: usize = 3;

/// One row as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantRow {
    pub role: String,
    pub scope: String,
}

impl GrantRow {
    fn is_empty(&self) -> bool {
        self.role.trim().is_empty() && self.scope.trim().is_empty()
    }
}

/// The rows of a form, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRows {
    rows: Vec<GrantRow>,
}

/// A row as a template shows it: what was typed and its problems.
#[derive(Debug, Clone)]
pub struct GrantRowView {
    /// Zero-based, for element ids.
    pub index: usize,
    /// One-based, for labels.
    pub number: usize,
    pub role: String,
    pub scope: String,
    pub role_error: Option<String>,
    pub scope_error: Option<String>,
    /// A problem with the row as a whole (the same role and scope given twice).
    pub row_error: Option<String>,
}

impl GrantRows {
    /// An empty form's rows.
    pub fn blank() -> GrantRows {
        GrantRows { rows: Vec::new() }
    }

    /// The rows a form sent.
    pub fn from_form(fields: &FormFields) -> GrantRows {
        let mut roles = fields.all("role");
        let mut scopes = fields.all("scope");
        let mut rows = Vec::new();
        loop {
            match (roles.next(), scopes.next()) {
                (None, None) => break,
                (role, scope) => rows.push(GrantRow {
                    role: role.unwrap_or_default().to_owned(),
                    scope: scope.unwrap_or_default().to_owned(),
                }),
            }
        }
        GrantRows { rows }
    }

    /// What the use case is sent: the rows not left empty, trimmed (a space typed after a
    /// scope is an accident, not a different scope).
    pub fn to_send(&self) -> Vec<GrantForm> {
        self.rows
            .iter()
            .filter(|row| !row.is_empty())
            .map(|row| GrantForm {
                role: row.role.trim().to_owned(),
                scope: row.scope.trim().to_owned(),
            })
            .collect()
    }

    /// The use case's problems, those about `grants[i]` renamed to the row the i-th grant
    /// sent came from (`grants[row]`, `grants[row].role`, ...) and their messages saying
    /// which row; the others unchanged.
    pub fn field_errors(&self, errors: Vec<FieldError>) -> FieldErrors {
        let sent_rows: Vec<usize> = self
            .rows
            .iter()
            .enumerate()
            .filter(|(_, row)| !row.is_empty())
            .map(|(index, _)| index)
            .collect();
        let renamed = errors
            .into_iter()
            .map(|error| {
                let row = split_grant_field(&error.field)
                    .and_then(|(sent, rest)| Some((*sent_rows.get(sent)?, rest)));
                match row {
                    // Numbered like the rows' labels, so the summary says which row.
                    Some((row, rest)) => FieldError {
                        field: format!("grants[{row}]{rest}"),
                        message: format!("Grant {}: {}", row + 1, error.message),
                        ..error
                    },
                    None => error,
                }
            })
            .collect();
        FieldErrors::from_app(renamed)
    }

    /// The rows to show: those typed, then empty ones up to [`BLANK_ROWS`], each with its
    /// problems from `errors` (as renamed by [`GrantRows::field_errors`]).
    pub fn views(&self, errors: &FieldErrors) -> Vec<GrantRowView> {
        let count = self.rows.len().max(BLANK_ROWS);
        (0..count)
            .map(|index| {
                let row = self.rows.get(index).cloned().unwrap_or_default();
                let error = |suffix: &str| {
                    errors
                        .get(&format!("grants[{index}]{suffix}"))
                        .map(str::to_owned)
                };
                GrantRowView {
                    index,
                    number: index + 1,
                    role_error: error(".role"),
                    scope_error: error(".scope"),
                    row_error: error(""),
                    role: row.role,
                    scope: row.scope,
                }
            })
            .collect()
    }
}

/// `grants[3].scope` as `(3, ".scope")`, `grants[3]` as `(3, "")`; `None` for any other field.
fn split_grant_field(field: &str) -> Option<(usize, &str)> {
    let rest = field.strip_prefix("grants[")?;
    let (index, rest) = rest.split_once(']')?;
    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((index.parse().ok()?, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> FormFields {
        FormFields::from_pairs(pairs)
    }

    fn grant(role: &str, scope: &str) -> GrantForm {
        GrantForm {
            role: role.to_owned(),
            scope: scope.to_owned(),
        }
    }

    #[test]
    fn empty_rows_are_not_sent_and_the_rest_are_trimmed() {
        let rows = GrantRows::from_form(&fields(&[
            ("email", "ada@example.com"),
            ("role", ""),
            ("scope", "  "),
            ("role", "reader"),
            ("scope", " acme.berlin "),
            ("role", ""),
            ("scope", "acme"),
        ]));
        assert_eq!(
            rows.to_send(),
            vec![grant("reader", "acme.berlin"), grant("", "acme")]
        );
        assert!(GrantRows::blank().to_send().is_empty());
    }

    #[test]
    fn a_problem_of_the_nth_grant_sent_shows_at_its_row() {
        // Rows 0 and 2 are empty: the grants sent are rows 1 and 3.
        let rows = GrantRows::from_form(&fields(&[
            ("role", ""),
            ("scope", ""),
            ("role", "reader"),
            ("scope", "Acme"),
            ("role", ""),
            ("scope", ""),
            ("role", "reader"),
            ("scope", "acme"),
        ]));
        let errors = rows.field_errors(vec![
            FieldError::new("grants[0].scope", "invalid_scope", "bad scope"),
            FieldError::new("grants[1]", "duplicate_grant", "given twice"),
            FieldError::new("password", "password_too_short", "too short"),
        ]);
        assert_eq!(errors.get("grants[1].scope"), Some("Grant 2: bad scope"));
        assert_eq!(errors.get("grants[3]"), Some("Grant 4: given twice"));
        assert_eq!(errors.get("grants[0].scope"), None);
        assert_eq!(errors.get("password"), Some("too short"));

        let views = rows.views(&errors);
        assert_eq!(views.len(), 4);
        assert_eq!(views[1].scope_error.as_deref(), Some("Grant 2: bad scope"));
        assert_eq!(views[1].role_error, None);
        assert_eq!(views[3].row_error.as_deref(), Some("Grant 4: given twice"));
        assert_eq!((views[3].role.as_str(), views[3].number), ("reader", 4));
    }

    #[test]
    fn a_blank_form_shows_the_blank_rows() {
        let views = GrantRows::blank().views(&FieldErrors::default());
        assert_eq!(views.len(), BLANK_ROWS);
        assert!(
            views
                .iter()
                .all(|row| row.role.is_empty() && row.scope.is_empty() && row.role_error.is_none())
        );
    }

    #[test]
    fn only_grant_fields_are_renamed() {
        assert_eq!(split_grant_field("grants[12].role"), Some((12, ".role")));
        assert_eq!(split_grant_field("grants[0]"), Some((0, "")));
        for field in [
            "grants",
            "grants[]",
            "grants[x].role",
            "grants[-1]",
            "role",
            "name",
        ] {
            assert_eq!(split_grant_field(field), None, "{field}");
        }
        // A sent index beyond the rows (not expected) keeps its name.
        let rows = GrantRows::from_form(&fields(&[("role", "a"), ("scope", "b")]));
        let errors = rows.field_errors(vec![FieldError::new("grants[5].role", "c", "m")]);
        assert_eq!(errors.get("grants[5].role"), Some("m"));
    }
}
